# CLAMP, CLIP ViT-B/16, COCO-WholeBody-Hand (21 keypoints per hand, wrist first), 256x256,
# 4 GPUs x 16, 210 epochs. Data: COCO's images and the hand jsons written by
# tools/dataset_converters/coco_wholebody2hands.py from coco_wholebody_{train,val}_v1.0.json
# (configs/_base_/benchmarks/coco_wholebody_hand_topdown-256x256.py).
_base_ = [
    '../_base_/clamp_vit-b16_210e.py',
    '../_base_/benchmarks/coco_wholebody_hand_topdown-256x256.py',
]
model = dict(codec={{_base_.codec}}, text_encoder=dict(prompts={{_base_.keypoint_prompts}}))
