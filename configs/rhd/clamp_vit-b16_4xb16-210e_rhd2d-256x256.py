# CLAMP, CLIP ViT-B/16, RHD (Rendered Hand Pose; 21 keypoints in RHD's order: wrist, then per
# finger tip -> palm), 256x256, 4 GPUs x 16, 210 epochs. Data layout as mmpose's
# (data/README.md); the jsons store keypoints nested ([[x, y, v], ..]), which HandCocoMetric
# flattens for COCO AP. Metrics: PCK@0.2, AUC, EPE (mmpose zoo) + COCO AP
# (configs/_base_/benchmarks/rhd2d_topdown-256x256.py).
_base_ = [
    '../_base_/clamp_vit-b16_210e.py',
    '../_base_/benchmarks/rhd2d_topdown-256x256.py',
]
model = dict(codec={{_base_.codec}}, text_encoder=dict(prompts={{_base_.keypoint_prompts}}))
