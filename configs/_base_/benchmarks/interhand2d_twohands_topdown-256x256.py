"""InterHand2.6M, both hands per instance, 42 keypoints in InterHand's order (right 21 then left
21, each thumb tip -> base, .., wrist last): the layout interhand2d_twohands, the 256x256
top-down pipelines, loaders and hand evaluators, and each split's dataset from
clamp_hand/datasets/benchmarks.py: the native release as mmpose documents it, read by
InterHand2DTwoHandsDataset (mmpose's InterHand2DDoubleDataset + COCO ground truth), which
projects the 3D joints with the camera files; no conversion step.
"""
import importlib

_base_ = ['../datasets/interhand2d_twohands.py', '../hand_topdown-256x256.py']
_benchmarks = importlib.import_module('clamp_hand.datasets.benchmarks')
train_dataloader, val_dataloader, test_dataloader = _benchmarks.dataloader_datasets(
    'interhand2d_twohands', _base_.dataset_info)
