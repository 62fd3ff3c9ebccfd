# CLAMP, CLIP ViT-B/16, Halpe hands (the left and right hands of Halpe's 136 whole-body
# keypoints as 21-keypoint instances, wrist first), 256x256, 4 GPUs x 16, 210 epochs.
# Data (data/README.md): data/halpe/annotations/halpe_{train,val}_v1.json, train images
# data/halpe/hico_20160224_det/images/train2015/, val images (COCO val2017) data/halpe/val2017/.
# HalpeHandDataset (clamp_hand/datasets/halpe_hand.py) cuts the hands out; no converter needed.
_base_ = [
    '../_base_/clamp_vit-b16_4xb16-210e_topdown-256x256.py',
    '../_base_/datasets/halpe_hand_onehand.py',
]
model = dict(text_encoder=dict(prompts={{_base_.keypoint_prompts}}))

data_root = 'data/halpe/'
dataset = dict(type='HalpeHandDataset', data_root=data_root, metainfo={{_base_.dataset_info}})
train_dataloader = dict(dataset=dict(
    **dataset, ann_file='annotations/halpe_train_v1.json',
    data_prefix=dict(img='hico_20160224_det/images/train2015/')))
val_dataloader = dict(dataset=dict(
    **dataset, ann_file='annotations/halpe_val_v1.json', data_prefix=dict(img='val2017/')))
test_dataloader = val_dataloader
