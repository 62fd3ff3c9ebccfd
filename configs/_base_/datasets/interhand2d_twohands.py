"""InterHand2.6M, both hands per instance (42 keypoints): right hand 21 then left 21, each
thumb tip -> base, index, middle, ring, little, wrist last (AssemblyHands' two-hand order)."""
import importlib

_layouts = importlib.import_module('clamp_hand.datasets.hand_layouts')
dataset_info = _layouts.dataset_layout('interhand2d_twohands')
# one text prompt per keypoint, derived from its name (clamp_hand/datasets/keypoint_names.py)
keypoint_prompts = importlib.import_module('clamp_hand.datasets.keypoint_names').keypoint_prompts(
    dataset_info)
