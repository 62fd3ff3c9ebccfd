"""CMU Panoptic hands (2D), 21 keypoints, wrist first: the layout panoptic_hand2d_onehand, the
256x256 top-down pipelines and loaders, each split's dataset from
clamp_hand/datasets/benchmarks.py (PanopticHand2DDataset, mmpose's panoptic_{train,test}.json
under data/panoptic/; validated on the test split), and the metrics as mmpose reports this
benchmark: PCKh@0.7 (the threshold is 0.7 x the annotation's head_size), AUC, EPE; plus COCO AP.
"""
import importlib

_base_ = ['../datasets/panoptic_hand2d_onehand.py', '../hand_topdown-256x256.py']
_benchmarks = importlib.import_module('clamp_hand.datasets.benchmarks')
train_dataloader, val_dataloader, test_dataloader = _benchmarks.dataloader_datasets(
    'panoptic_hand2d', _base_.dataset_info)
val_evaluator = [
    _base_.val_evaluator[0],  # COCO AP, hand sigmas
    dict(type='PCKAccuracy', thr=0.7, norm_item='head'),  # PCKh@0.7
    *_base_.val_evaluator[2:],  # AUC, EPE
]
test_evaluator = val_evaluator
