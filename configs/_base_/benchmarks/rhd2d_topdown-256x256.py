"""RHD (Rendered Hand Pose), 21 keypoints in RHD's order (wrist, then per finger tip -> palm):
the layout rhd2d_onehand, the 256x256 top-down pipelines, loaders and hand evaluators, and each
split's dataset from clamp_hand/datasets/benchmarks.py (Rhd2DDataset, mmpose's
rhd_{train,test}.json under data/rhd/; no validation split: validated on the test split). The
jsons store keypoints nested ([[x, y, v], ..]); HandCocoMetric flattens them for COCO AP.
"""
import importlib

_base_ = ['../datasets/rhd2d_onehand.py', '../hand_topdown-256x256.py']
_benchmarks = importlib.import_module('clamp_hand.datasets.benchmarks')
train_dataloader, val_dataloader, test_dataloader = _benchmarks.dataloader_datasets(
    'rhd2d', _base_.dataset_info)
