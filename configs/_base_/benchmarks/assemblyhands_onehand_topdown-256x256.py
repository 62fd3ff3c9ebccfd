"""AssemblyHands egocentric, one hand per instance, 21 keypoints in the native order (per finger
tip -> base, wrist last): the layout assemblyhands_onehand, the 256x256 top-down pipelines,
loaders and hand evaluators, and each split's dataset from clamp_hand/datasets/benchmarks.py
(HandKeypointDataset on the *_onehand.json files tools/dataset_converters/assemblyhands2coco.py
writes under data/assemblyhands/).
"""
import importlib

_base_ = ['../datasets/assemblyhands_onehand.py', '../hand_topdown-256x256.py']
_benchmarks = importlib.import_module('clamp_hand.datasets.benchmarks')
train_dataloader, val_dataloader, test_dataloader = _benchmarks.dataloader_datasets(
    'assemblyhands_onehand', _base_.dataset_info)
