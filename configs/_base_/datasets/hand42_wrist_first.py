"""Two hands, 42 keypoints: the right hand's 21 then the left hand's 21, each wrist first.

Mirroring the image turns a right hand into a left one, so the flip pairs swap the hands.
"""
import importlib

_layouts = importlib.import_module('clamp_hand.datasets.hand_layouts')
dataset_info = _layouts.dataset_layout('hand42_wrist_first')
# one text prompt per keypoint, derived from its name (clamp_hand/datasets/keypoint_names.py)
keypoint_prompts = importlib.import_module('clamp_hand.datasets.keypoint_names').keypoint_prompts(
    dataset_info)
