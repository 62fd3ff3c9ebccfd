# Tiny text-free baseline on the 12 real hands of ../shared/data/hand_samples: the backbone,
# head, data and schedule of the tiny CLAMP config it inherits, without prompts, score maps or
# contrastive loss (CPU tests and benchmarks; random init).
_base_ = ['../hand_samples/clamp_vit-tiny_1xb12-40e_hand-samples-128x128.py']
model = dict(
    _delete_=True,
    type='TopdownHeatmapEstimator',
    pretrained={{_base_.model.pretrained}},
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    feature_index={{_base_.model.score_concat_index}},
    # CLAMP's head minus the score-map channels (tests/test_benchmark.py compares them)
    head=dict(type='DeconvHeatmapHead', out_channels=21, deconv_out_channels=(64, 64),
              deconv_kernel_sizes=(4, 4)),
    codec={{_base_.codec}},
    loss_keypoint={{_base_.model.loss_keypoint}},
    test_cfg={{_base_.model.test_cfg}},
)
