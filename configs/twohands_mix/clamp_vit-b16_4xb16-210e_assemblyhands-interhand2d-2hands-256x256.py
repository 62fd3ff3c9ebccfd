# CLAMP, CLIP ViT-B/16 trained on two two-hand datasets at once: AssemblyHands (egocentric, both
# hands per instance) and InterHand2.6M, 42 keypoints (right 21 then left 21, AssemblyHands'
# order), 256x256, 4 GPUs x 16, 210 epochs, on mmpose's CombinedDataset, keypoints mapped by
# name. Data as the two datasets' own configs expect (data/README.md). Validation: PCK@0.2, AUC,
# EPE over the mix and per dataset ('assemblyhands_twohands/PCK', 'interhand2d_twohands/PCK')
# (configs/_base_/benchmarks/assemblyhands_interhand2d_topdown-256x256.py); the best checkpoint
# by PCK.
_base_ = [
    '../_base_/clamp_vit-b16_210e.py',
    '../_base_/benchmarks/assemblyhands_interhand2d_topdown-256x256.py',
]
model = dict(codec={{_base_.codec}}, text_encoder=dict(prompts={{_base_.keypoint_prompts}}))
default_hooks = dict(checkpoint=dict(save_best='PCK', rule='greater'))
