# CLAMP with a CLIP ViT-B/16 at 256x256 input, 64x64 heatmaps. The keypoint count K comes from
# model.text_encoder.prompts (set by the experiment config from its dataset metainfo); the head
# and score-head channel counts follow from it. Experiment configs set model.codec from their
# pipelines' codec (configs/_base_/pipelines/), so that targets and decoding agree.
model = dict(
    type='CLAMPEstimator',
    # CLIP weights in any format of pretrained/README.md (OpenAI .pt, open_clip, Hugging Face);
    # pretrained_allow_missing=['text_encoder.*'] would accept an image-only file.
    pretrained='pretrained/ViT-B-16.pt',
    data_preprocessor=dict(
        type='ImgDataPreprocessor', bgr_to_rgb=True,
        # CLIP's normalisation, in 0-255 units
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305]),
    backbone=dict(type='CLIPViT', image_size=(256, 256), patch_size=16, width=768, layers=12,
                  heads=12, output_dim=512, out_indices=(3, 5, 7, 11), drop_path_rate=0.4),
    text_encoder=dict(type='KeypointPromptEncoder', prompts=None, num_contexts=8, width=512,
                      layers=12, heads=8, embed_dim=512),
    prompt_encoder=dict(type='PromptRelationEncoder', width=512, layers=1, heads=8),
    context_decoder=dict(type='ContextDecoder', visual_dim=512, width=256, heads=4, layers=3,
                         dropout=0.1),
    score_concat_index=3,  # index into out_indices: block 11
    head=dict(type='DeconvHeatmapHead', deconv_out_channels=(256, 256),
              deconv_kernel_sizes=(4, 4)),
    score_head=dict(type='DeconvHeatmapHead', deconv_kernel_sizes=(4, 4)),
    codec=dict(type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2,
               unbiased=True),
    loss_keypoint=dict(type='KeypointMSELoss', loss_weight=1.0),
    loss_spatial=dict(type='KeypointMSELoss', loss_weight=2.0),
    loss_feature=dict(type='PromptContrastiveLoss', loss_weight=5e-4, init_temperature=0.07),
    test_cfg=dict(flip_test=True, shift_heatmap=True),
)
