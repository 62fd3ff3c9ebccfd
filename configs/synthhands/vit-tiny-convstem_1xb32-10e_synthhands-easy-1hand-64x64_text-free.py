# Ablation of the quickstart: the same tiny ViT backbone, deconv head, data, schedule and
# evaluation as clamp_vit-tiny-convstem_1xb32-10e_synthhands-easy-1hand-64x64.py with the text alignment
# removed (no prompts, no image-text score maps, no score-map or contrastive loss).
_base_ = ['./clamp_vit-tiny-convstem_1xb32-10e_synthhands-easy-1hand-64x64.py']
model = dict(
    _delete_=True,
    type='TopdownHeatmapEstimator',
    pretrained=None,
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    feature_index=-1,
    head=dict(type='DeconvHeatmapHead', out_channels=21, deconv_out_channels=(64, 32),
              deconv_kernel_sizes=(4, 4)),
    codec={{_base_.codec}},
    loss_keypoint=dict(type='KeypointMSELoss', loss_weight=1.0),
    test_cfg=dict(flip_test=True, shift_heatmap=True),
)
