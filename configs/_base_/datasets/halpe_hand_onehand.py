"""Halpe hands: the 21 keypoints of one hand (left 94-114 or right 115-135 of Halpe's 136
whole-body keypoints, mmpose's halpe.py), side prefix dropped: hand_root (= wrist), thumb1..4,
forefinger1..4, .. (wrist first). HalpeHandDataset cuts them out.
"""
import importlib

_layouts = importlib.import_module('clamp_hand.datasets.hand_layouts')
dataset_info = _layouts.dataset_layout('halpe_hand')
# one text prompt per keypoint, derived from its name (clamp_hand/datasets/keypoint_names.py)
keypoint_prompts = importlib.import_module('clamp_hand.datasets.keypoint_names').keypoint_prompts(
    dataset_info)
