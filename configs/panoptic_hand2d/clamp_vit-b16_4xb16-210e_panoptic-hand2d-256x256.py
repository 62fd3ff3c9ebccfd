# CLAMP, CLIP ViT-B/16, CMU Panoptic hands (2D; 21 keypoints, wrist first), 256x256, 4 GPUs x
# 16, 210 epochs. Data layout as mmpose's (data/README.md). Metrics as mmpose reports this
# benchmark: PCKh@0.7 (the threshold is 0.7 x the annotation's head_size), AUC, EPE; plus COCO
# AP (configs/_base_/benchmarks/panoptic_hand2d_topdown-256x256.py).
_base_ = [
    '../_base_/clamp_vit-b16_210e.py',
    '../_base_/benchmarks/panoptic_hand2d_topdown-256x256.py',
]
model = dict(codec={{_base_.codec}}, text_encoder=dict(prompts={{_base_.keypoint_prompts}}))
