# CLAMP, CLIP ViT-B/16, InterHand2.6M (both hands per instance, 42 keypoints, InterHand order:
# right 21 then left 21), 256x256 input, 4 GPUs x 16 images, 210 epochs.
# Data: the native InterHand2.6M release laid out as mmpose documents it (data/README.md),
# read without conversion (configs/_base_/benchmarks/interhand2d_twohands_topdown-256x256.py).
_base_ = [
    '../_base_/clamp_vit-b16_210e.py',
    '../_base_/benchmarks/interhand2d_twohands_topdown-256x256.py',
]
model = dict(codec={{_base_.codec}}, text_encoder=dict(prompts={{_base_.keypoint_prompts}}))
