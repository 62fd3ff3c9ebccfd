# Text-free baseline for CLAMP on AssemblyHands one hand: the same CLIP ViT-B/16 backbone,
# deconv heatmap head, codec, data, schedule and optimizer as the CLAMP config it inherits,
# with no prompts, score maps or contrastive loss: the model to pick instead of CLAMP in this
# framework, and the reference of the speed comparison (tools/analysis/benchmark.py).
# Pretrained: the CLIP image tower only (a full CLIP file works; its text tower is skipped).
# tests/test_benchmark.py checks that everything but the model equals the CLAMP config.
_base_ = ['../assemblyhands/clamp_vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py']
model = dict(
    _delete_=True,
    type='TopdownHeatmapEstimator',
    pretrained={{_base_.model.pretrained}},
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    feature_index={{_base_.model.score_concat_index}},  # the block CLAMP's head reads
    # CLAMP's head minus the score-map channels (tests/test_benchmark.py compares them)
    head=dict(type='DeconvHeatmapHead', out_channels=21, deconv_out_channels=(256, 256),
              deconv_kernel_sizes=(4, 4)),
    codec={{_base_.codec}},
    loss_keypoint={{_base_.model.loss_keypoint}},
    test_cfg={{_base_.model.test_cfg}},
)
