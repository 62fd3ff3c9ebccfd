"""RHD (Rendered Hand Pose, Zimmermann & Brox 2017), 21 keypoints in its native order as
mmpose's Rhd2DDataset reads it: wrist, then per finger tip -> palm (thumb4 = tip at index 1,
thumb1 = CMC at index 4, forefinger4 = tip at index 5, ..). Names from mmpose's rhd2d.py.
"""
import importlib

_layouts = importlib.import_module('clamp_hand.datasets.hand_layouts')
dataset_info = _layouts.dataset_layout('rhd2d')
# one text prompt per keypoint, derived from its name (clamp_hand/datasets/keypoint_names.py)
keypoint_prompts = importlib.import_module('clamp_hand.datasets.keypoint_names').keypoint_prompts(
    dataset_info)
