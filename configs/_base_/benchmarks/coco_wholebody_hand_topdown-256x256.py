"""COCO-WholeBody-Hand, 21 keypoints per hand, wrist first: the layout hand21_wrist_first (the
names and order of mmpose's coco_wholebody_hand.py), the 256x256 top-down pipelines, loaders
and hand evaluators, and each split's dataset from clamp_hand/datasets/benchmarks.py
(HandKeypointDataset on the hand jsons that tools/dataset_converters/coco_wholebody2hands.py
writes from coco_wholebody_{train,val}_v1.0.json; images of COCO train2017/val2017; tested on
the validation split).
"""
import importlib

_base_ = ['../datasets/hand21_wrist_first.py', '../hand_topdown-256x256.py']
_benchmarks = importlib.import_module('clamp_hand.datasets.benchmarks')
train_dataloader, val_dataloader, test_dataloader = _benchmarks.dataloader_datasets(
    'coco_wholebody_hand', _base_.dataset_info)
