"""One hand, 21 keypoints, wrist first: wrist, then per finger (thumb, index, middle, ring,
little) from the palm to the tip (thumb1 = CMC .. thumb4 = tip; forefinger1 = MCP .. tip).

The order of mmpose's OneHand10K, FreiHAND, CMU Panoptic, COCO-WholeBody-Hand and Halpe hand
layouts and of the synthetic hands. Not RHD's: RHD runs tip -> palm on every finger (index 1
is the thumb tip), see rhd2d_onehand.py. Names, colours, skeleton, flip pairs and OKS sigmas
are built from the keypoint names by clamp_hand/datasets/hand_layouts.py.
"""
import importlib

_layouts = importlib.import_module('clamp_hand.datasets.hand_layouts')
dataset_info = _layouts.dataset_layout('hand21_wrist_first')
# one text prompt per keypoint, derived from its name (clamp_hand/datasets/keypoint_names.py)
keypoint_prompts = importlib.import_module('clamp_hand.datasets.keypoint_names').keypoint_prompts(
    dataset_info)
