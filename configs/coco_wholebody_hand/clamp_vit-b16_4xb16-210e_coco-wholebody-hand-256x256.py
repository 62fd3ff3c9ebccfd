# CLAMP, CLIP ViT-B/16, COCO-WholeBody-Hand (21 keypoints per hand, wrist first), 256x256,
# 4 GPUs x 16, 210 epochs. Data: data/coco/{train2017,val2017} and the hand jsons written by
# tools/dataset_converters/coco_wholebody2hands.py from coco_wholebody_{train,val}_v1.0.json.
_base_ = [
    '../_base_/clamp_vit-b16_4xb16-210e_topdown-256x256.py',
    '../_base_/datasets/hand21_wrist_first.py',
]
model = dict(text_encoder=dict(prompts={{_base_.keypoint_prompts}}))

data_root = 'data/coco/'
dataset = dict(type='HandKeypointDataset', data_root=data_root, metainfo={{_base_.dataset_info}})
train_dataloader = dict(dataset=dict(
    **dataset, ann_file='annotations/coco_wholebody_train_v1.0_hands.json',
    data_prefix=dict(img='train2017/')))
val_dataloader = dict(dataset=dict(
    **dataset, ann_file='annotations/coco_wholebody_val_v1.0_hands.json',
    data_prefix=dict(img='val2017/')))
test_dataloader = val_dataloader
