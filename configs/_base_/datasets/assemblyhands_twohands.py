"""AssemblyHands, two hands, 42 keypoints: right 21 then left 21, each in the native order

(per finger tip -> base, wrist last). Mirroring swaps the hands.
"""
import importlib

_layouts = importlib.import_module('clamp_hand.datasets.hand_layouts')
dataset_info = _layouts.dataset_layout('assemblyhands_twohands')
# one text prompt per keypoint, derived from its name (clamp_hand/datasets/keypoint_names.py)
keypoint_prompts = importlib.import_module('clamp_hand.datasets.keypoint_names').keypoint_prompts(
    dataset_info)
