"""Two two-hand datasets at once on mmpose's CombinedDataset: AssemblyHands (egocentric, both
hands per instance) and InterHand2.6M, 42 keypoints in the AssemblyHands two-hand layout
assemblyhands_twohands (right 21 then left 21). Each part keeps its own format and files (those
of its own benchmark, clamp_hand/datasets/benchmarks.py); the KeypointConverter mapping into the
layout is computed from the keypoint names (clamp_hand/datasets/mixes.py, the parts listed in
MIXES['assemblyhands_interhand2d']). 256x256 top-down pipelines and loaders. Metrics: PCK@0.2,
AUC, EPE over the mix and per dataset ('assemblyhands_twohands/PCK', 'interhand2d_twohands/PCK').
"""
import importlib

_base_ = ['../datasets/assemblyhands_twohands.py', '../hand_topdown-256x256.py']
_mixes = importlib.import_module('clamp_hand.datasets.mixes')
train_dataloader, val_dataloader, test_dataloader = _mixes.dataloader_datasets(
    'assemblyhands_interhand2d', _base_.dataset_info)
val_evaluator = test_evaluator = _mixes.mix_metrics(_base_.val_evaluator, val_dataloader)
