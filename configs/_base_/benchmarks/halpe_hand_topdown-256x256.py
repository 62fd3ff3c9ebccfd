"""Halpe hands: the left and right hands of Halpe's 136 whole-body keypoints as 21-keypoint
instances, wrist first (the layout halpe_hand_onehand; HalpeHandDataset cuts them out, no
converter needed), the 256x256 top-down pipelines, loaders and hand evaluators, and each
split's dataset from clamp_hand/datasets/benchmarks.py (halpe_{train,val}_v1.json under
data/halpe/; HICO-DET train images, COCO val2017 validation images; tested on the validation
split).
"""
import importlib

_base_ = ['../datasets/halpe_hand_onehand.py', '../hand_topdown-256x256.py']
_benchmarks = importlib.import_module('clamp_hand.datasets.benchmarks')
train_dataloader, val_dataloader, test_dataloader = _benchmarks.dataloader_datasets(
    'halpe_hand', _base_.dataset_info)
