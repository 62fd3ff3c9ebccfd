# CLAMP, CLIP ViT-B/16, OneHand10K (21 keypoints, wrist first), 256x256, 4 GPUs x 16, 210 epochs.
# Data layout as mmpose's (data/README.md; configs/_base_/benchmarks/onehand10k_topdown-256x256.py).
_base_ = [
    '../_base_/clamp_vit-b16_210e.py',
    '../_base_/benchmarks/onehand10k_topdown-256x256.py',
]
model = dict(codec={{_base_.codec}}, text_encoder=dict(prompts={{_base_.keypoint_prompts}}))
