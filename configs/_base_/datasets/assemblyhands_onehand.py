"""AssemblyHands, one hand, 21 keypoints in the dataset's native order:

per finger tip -> base (thumb, index, middle, ring, little), then the wrist (index 20).
The converter tools/dataset_converters/assemblyhands2coco.py keeps this order.
"""
import importlib

_layouts = importlib.import_module('clamp_hand.datasets.hand_layouts')
dataset_info = _layouts.dataset_layout('assemblyhands_onehand')
# one text prompt per keypoint, derived from its name (clamp_hand/datasets/keypoint_names.py)
keypoint_prompts = importlib.import_module('clamp_hand.datasets.keypoint_names').keypoint_prompts(
    dataset_info)
