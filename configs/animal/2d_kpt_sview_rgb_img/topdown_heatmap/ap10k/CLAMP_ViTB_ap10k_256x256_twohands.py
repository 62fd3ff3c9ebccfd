# Compatibility alias: the Hand-CLAMP seed's config path, so that its README's commands run
# unchanged, e.g.
#   bash tools/dist_train.sh configs/animal/2d_kpt_sview_rgb_img/topdown_heatmap/ap10k/CLAMP_ViTB_ap10k_256x256_twohands.py 4 "0,1,2,3"
# The real config is configs/assemblyhands/clamp_vit-b16_4xb16-210e_assemblyhands-2hands-256x256.py
# (AssemblyHands, both hands per instance, 42 keypoints: right then left). It is the one-hand
# alias (the seed's differences: data/hands/ tree, the seed's prompts and text-encoder shape,
# ImageNet mean/std, its heatmap coding, the AP-10K-sigma AP) with the two-hand layout and
# annotation files (annotations/assemblyhands_{split}_ego_data_v1-1_twohands.json).
_base_ = ['./CLAMP_ViTB_ap10k_256x256_onehand.py']
import importlib  # noqa: E402 (after _base_: mmengine reads this as a plain config)

dataset_info = importlib.import_module('clamp_hand.datasets.hand_layouts').dataset_layout(
    'assemblyhands_twohands')
keypoint_prompts = importlib.import_module('clamp_hand.datasets.keypoint_names').keypoint_prompts(
    dataset_info)
seed_keypoint_names = [f'{side} {name}' for side in ('right', 'left')
                       for name in _base_.seed_keypoint_names]
model = dict(text_encoder=dict(prompts=seed_keypoint_names))
train_dataloader = dict(dataset=dict(
    metainfo=dict(_delete_=True, **dataset_info),
    ann_file='annotations/assemblyhands_train_ego_data_v1-1_twohands.json'))
val_dataloader = dict(dataset=dict(
    metainfo=dict(_delete_=True, **dataset_info),
    ann_file='annotations/assemblyhands_val_ego_data_v1-1_twohands.json'))
test_dataloader = dict(dataset=dict(
    metainfo=dict(_delete_=True, **dataset_info),
    ann_file='annotations/assemblyhands_test_ego_data_v1-1_twohands.json'))
