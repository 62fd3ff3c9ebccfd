# Text-free top-down baseline: the CLIP ViT-B/16 image backbone and deconv heatmap head of the
# CLAMP config (configs/_base_/models/clamp_vit-b16_256x256.py), without prompts, score maps or
# alignment losses. The head reads the last block's features (768 channels). Set
# model.head.out_channels to the dataset's keypoint count.
input_size = (256, 256)
codec = dict(type='MSRAHeatmap', input_size=input_size, heatmap_size=(64, 64), sigma=2,
             unbiased=True)
model = dict(
    type='TopdownHeatmapEstimator',
    # The image tower of a CLIP file (any format of pretrained/README.md); its text tower, if
    # present, is skipped because this model has none.
    pretrained='pretrained/ViT-B-16.pt',
    data_preprocessor=dict(
        type='ImgDataPreprocessor', bgr_to_rgb=True,
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305]),
    backbone=dict(type='CLIPViT', image_size=input_size, patch_size=16, width=768, layers=12,
                  heads=12, output_dim=512, out_indices=(3, 5, 7, 11), drop_path_rate=0.4),
    feature_index=3,  # index into out_indices: block 11, as CLAMP's score_concat_index
    head=dict(type='DeconvHeatmapHead', out_channels=None, deconv_out_channels=(256, 256),
              deconv_kernel_sizes=(4, 4)),
    codec=codec,
    loss_keypoint=dict(type='KeypointMSELoss', loss_weight=1.0),
    test_cfg=dict(flip_test=True, shift_heatmap=True),
)
