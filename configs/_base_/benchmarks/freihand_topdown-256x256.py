"""FreiHAND, 21 keypoints, wrist first: the layout freihand_onehand (mmpose's freihand2d.py),
the 256x256 top-down pipelines, loaders and hand evaluators (PCK@0.2, AUC, EPE as mmpose's model
zoo, plus COCO AP with hand sigmas), and each split's dataset from
clamp_hand/datasets/benchmarks.py (FreiHandDataset, mmpose's freihand_{train,val,test}.json
under data/freihand/; file names in the jsons include the image folder).
"""
import importlib

_base_ = ['../datasets/freihand_onehand.py', '../hand_topdown-256x256.py']
_benchmarks = importlib.import_module('clamp_hand.datasets.benchmarks')
train_dataloader, val_dataloader, test_dataloader = _benchmarks.dataloader_datasets(
    'freihand', _base_.dataset_info)
