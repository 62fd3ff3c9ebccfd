"""AssemblyHands egocentric, both hands per instance, 42 keypoints (right 21 then left 21, each
in the native order): the layout assemblyhands_twohands, the 256x256 top-down pipelines, loaders
and hand evaluators, and each split's dataset from clamp_hand/datasets/benchmarks.py
(HandKeypointDataset on the *_twohands.json files tools/dataset_converters/assemblyhands2coco.py
writes under data/assemblyhands/). Mirroring swaps the hands.
"""
import importlib

_base_ = ['../datasets/assemblyhands_twohands.py', '../hand_topdown-256x256.py']
_benchmarks = importlib.import_module('clamp_hand.datasets.benchmarks')
train_dataloader, val_dataloader, test_dataloader = _benchmarks.dataloader_datasets(
    'assemblyhands_twohands', _base_.dataset_info)
