# A tiny CLAMP (random init, no pretrained weights) for tests, CPU runs and the quickstart:
# ViT 4x96 with 8 px patches at 128x128 (16x16 tokens), 2-layer text tower, 64x64 heatmaps.
# Every piece of the full model is present; only the widths and depths are small.
input_size = (128, 128)
codec = dict(type='MSRAHeatmap', input_size=input_size, heatmap_size=(64, 64), sigma=2,
             unbiased=True)
model = dict(
    type='CLAMPEstimator',
    pretrained=None,
    data_preprocessor=dict(
        type='ImgDataPreprocessor', bgr_to_rgb=True,
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305]),
    backbone=dict(type='CLIPViT', image_size=input_size, patch_size=8, width=96, layers=4,
                  heads=3, output_dim=64, out_indices=(1, 3), drop_path_rate=0.0),
    text_encoder=dict(type='KeypointPromptEncoder', prompts=None, num_contexts=4, width=64,
                      layers=2, heads=2, embed_dim=64),
    prompt_encoder=dict(type='PromptRelationEncoder', width=64, layers=1, heads=2),
    context_decoder=dict(type='ContextDecoder', visual_dim=64, width=64, heads=2, layers=1,
                         dropout=0.0),
    score_concat_index=-1,
    head=dict(type='DeconvHeatmapHead', deconv_out_channels=(64, 64),
              deconv_kernel_sizes=(4, 4)),
    score_head=dict(type='DeconvHeatmapHead', deconv_kernel_sizes=(4, 4)),
    codec=codec,
    loss_keypoint=dict(type='KeypointMSELoss', loss_weight=1.0),
    loss_spatial=dict(type='KeypointMSELoss', loss_weight=2.0),
    loss_feature=dict(type='PromptContrastiveLoss', loss_weight=5e-4, init_temperature=0.07),
    test_cfg=dict(flip_test=True, shift_heatmap=True),
)
