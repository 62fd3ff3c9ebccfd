# CLAMP, CLIP ViT-B/16, FreiHAND (21 keypoints, wrist first), 256x256, 4 GPUs x 16, 210 epochs.
# Data layout as mmpose's (data/README.md). Metrics as mmpose's model zoo (PCK@0.2, AUC, EPE)
# plus COCO AP with hand sigmas (configs/_base_/benchmarks/freihand_topdown-256x256.py).
_base_ = [
    '../_base_/clamp_vit-b16_210e.py',
    '../_base_/benchmarks/freihand_topdown-256x256.py',
]
model = dict(codec={{_base_.codec}}, text_encoder=dict(prompts={{_base_.keypoint_prompts}}))
