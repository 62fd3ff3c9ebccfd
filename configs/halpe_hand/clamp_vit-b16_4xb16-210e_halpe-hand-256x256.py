# CLAMP, CLIP ViT-B/16, Halpe hands (the left and right hands of Halpe's 136 whole-body
# keypoints as 21-keypoint instances, wrist first), 256x256, 4 GPUs x 16, 210 epochs.
# Data: the Halpe-FullBody release (data/README.md); HalpeHandDataset
# (clamp_hand/datasets/halpe_hand.py) cuts the hands out, no converter needed
# (configs/_base_/benchmarks/halpe_hand_topdown-256x256.py).
_base_ = [
    '../_base_/clamp_vit-b16_210e.py',
    '../_base_/benchmarks/halpe_hand_topdown-256x256.py',
]
model = dict(codec={{_base_.codec}}, text_encoder=dict(prompts={{_base_.keypoint_prompts}}))
