# CLAMP, CLIP ViT-B/16, AssemblyHands egocentric, both hands per instance (42 keypoints:
# right 21 then left 21, native order), 256x256 input, 4 GPUs x 16 images, 210 epochs.
# Data: tools/dataset_converters/assemblyhands2coco.py writes the *_twohands.json files; where
# they lie: configs/_base_/benchmarks/assemblyhands_twohands_topdown-256x256.py.
_base_ = [
    '../_base_/clamp_vit-b16_210e.py',
    '../_base_/benchmarks/assemblyhands_twohands_topdown-256x256.py',
]
model = dict(codec={{_base_.codec}}, text_encoder=dict(prompts={{_base_.keypoint_prompts}}))
