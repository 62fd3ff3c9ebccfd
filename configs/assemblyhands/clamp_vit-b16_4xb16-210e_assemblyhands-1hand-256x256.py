# CLAMP, CLIP ViT-B/16, AssemblyHands egocentric, one hand per instance (21 keypoints,
# native AssemblyHands order), 256x256 input, 4 GPUs x 16 images, 210 epochs.
# Data: tools/dataset_converters/assemblyhands2coco.py writes the *_onehand.json files.
_base_ = [
    '../_base_/clamp_vit-b16_4xb16-210e_topdown-256x256.py',
    '../_base_/datasets/assemblyhands_onehand.py',
]
model = dict(text_encoder=dict(prompts={{_base_.keypoint_prompts}}))

data_root = 'data/assemblyhands/'
dataset = dict(type='HandKeypointDataset', data_root=data_root,
               metainfo={{_base_.dataset_info}}, data_prefix=dict(img='images/'))
train_dataloader = dict(dataset=dict(
    **dataset, ann_file='annotations/assemblyhands_train_ego_data_v1-1_onehand.json'))
val_dataloader = dict(dataset=dict(
    **dataset, ann_file='annotations/assemblyhands_val_ego_data_v1-1_onehand.json'))
test_dataloader = dict(dataset=dict(
    **dataset, ann_file='annotations/assemblyhands_test_ego_data_v1-1_onehand.json'))
