# CLAMP, CLIP ViT-B/16 trained on five public hand datasets at once ("Hand5", as mmpose's
# RTMPose-m Hand5): COCO-WholeBody-Hand, OneHand10K, FreiHAND, RHD and Halpe hands, 256x256,
# 4 GPUs x 16, 210 epochs, on mmpose's CombinedDataset. Each dataset keeps its own annotation
# format and keypoint order; a KeypointConverter maps it into the 21-keypoint wrist-first layout
# with a mapping computed from the keypoint names, never typed. Data: each dataset laid out as
# its own config expects (data/README.md). Validation: PCK@0.2, AUC and EPE over the five
# validation sets together and per dataset ('rhd2d/PCK', ..)
# (configs/_base_/benchmarks/hand5_topdown-256x256.py); the best checkpoint by PCK.
_base_ = [
    '../_base_/clamp_vit-b16_210e.py',
    '../_base_/benchmarks/hand5_topdown-256x256.py',
]
model = dict(codec={{_base_.codec}}, text_encoder=dict(prompts={{_base_.keypoint_prompts}}))
default_hooks = dict(checkpoint=dict(save_best='PCK', rule='greater'))
