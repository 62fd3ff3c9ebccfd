# Tiny text-free top-down baseline (random init) for CPU tests and benchmarks: the backbone and
# head of configs/_base_/models/clamp_vit-tiny_128x128.py without prompts, score maps or
# alignment losses. Set model.head.out_channels to the dataset's keypoint count.
input_size = (128, 128)
codec = dict(type='MSRAHeatmap', input_size=input_size, heatmap_size=(64, 64), sigma=2,
             unbiased=True)
model = dict(
    type='TopdownHeatmapEstimator',
    pretrained=None,
    data_preprocessor=dict(
        type='ImgDataPreprocessor', bgr_to_rgb=True,
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305]),
    backbone=dict(type='CLIPViT', image_size=input_size, patch_size=8, width=96, layers=4,
                  heads=3, output_dim=64, out_indices=(1, 3), drop_path_rate=0.0),
    feature_index=-1,
    head=dict(type='DeconvHeatmapHead', out_channels=None, deconv_out_channels=(64, 64),
              deconv_kernel_sizes=(4, 4)),
    codec=codec,
    loss_keypoint=dict(type='KeypointMSELoss', loss_weight=1.0),
    test_cfg=dict(flip_test=True, shift_heatmap=True),
)
