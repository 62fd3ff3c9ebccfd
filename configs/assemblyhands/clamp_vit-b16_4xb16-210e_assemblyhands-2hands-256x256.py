# CLAMP, CLIP ViT-B/16, AssemblyHands egocentric, both hands per instance (42 keypoints:
# right 21 then left 21, native order), 256x256 input, 4 GPUs x 16 images, 210 epochs.
# Data: tools/dataset_converters/assemblyhands2coco.py writes the *_twohands.json files.
# The one-hand config with the two-hand layout and annotation files.
_base_ = ['./clamp_vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py']
import importlib  # noqa: E402 (after _base_: mmengine reads this as a plain config)

dataset_info = importlib.import_module('clamp_hand.datasets.hand_layouts').dataset_layout(
    'assemblyhands_twohands')
keypoint_prompts = importlib.import_module('clamp_hand.datasets.keypoint_names').keypoint_prompts(
    dataset_info)
model = dict(text_encoder=dict(prompts=keypoint_prompts))
dataset = dict(metainfo=dict(_delete_=True, **dataset_info))
train_dataloader = dict(dataset=dict(
    **dataset, ann_file='annotations/assemblyhands_train_ego_data_v1-1_twohands.json'))
val_dataloader = dict(dataset=dict(
    **dataset, ann_file='annotations/assemblyhands_val_ego_data_v1-1_twohands.json'))
test_dataloader = dict(dataset=dict(
    **dataset, ann_file='annotations/assemblyhands_test_ego_data_v1-1_twohands.json'))
