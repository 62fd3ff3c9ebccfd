"""Hand5 (as mmpose's RTMPose-m Hand5): COCO-WholeBody-Hand, OneHand10K, FreiHAND, RHD and Halpe
hands at once on mmpose's CombinedDataset, in the 21-keypoint wrist-first layout
hand21_wrist_first. Each part keeps its own annotation format, keypoint order and files (those
of its own benchmark, clamp_hand/datasets/benchmarks.py); a KeypointConverter whose mapping is
computed from the keypoint names maps it into the layout (clamp_hand/datasets/mixes.py, the
parts listed in MIXES['hand5']). 256x256 top-down pipelines and loaders; validated and tested,
as mmpose's Hand5, on COCO-WholeBody-Hand val, OneHand10K test, FreiHAND test, RHD test and
Halpe val. Metrics: PCK@0.2, AUC and EPE (mmpose's Hand5 metrics) over the five evaluation
sets together and per dataset ('rhd2d/PCK', ..); COCO AP is left out (the ground
truth a CocoMetric reads stays in each dataset's own keypoint order).
"""
import importlib

_base_ = ['../datasets/hand21_wrist_first.py', '../hand_topdown-256x256.py']
_mixes = importlib.import_module('clamp_hand.datasets.mixes')
train_dataloader, val_dataloader, test_dataloader = _mixes.dataloader_datasets(
    'hand5', _base_.dataset_info)
val_evaluator = test_evaluator = _mixes.mix_metrics(_base_.val_evaluator, val_dataloader)
