"""OneHand10K, 21 keypoints, wrist first: the layout hand21_wrist_first (the names and order
of mmpose's onehand10k.py), the 256x256 top-down pipelines, loaders and hand evaluators, and
each split's dataset from clamp_hand/datasets/benchmarks.py (OneHand10KDataset, mmpose's
jsons under data/onehand10k/; no validation split: validated on the test split).
"""
import importlib

_base_ = ['../datasets/hand21_wrist_first.py', '../hand_topdown-256x256.py']
_benchmarks = importlib.import_module('clamp_hand.datasets.benchmarks')
train_dataloader, val_dataloader, test_dataloader = _benchmarks.dataloader_datasets(
    'onehand10k', _base_.dataset_info)
