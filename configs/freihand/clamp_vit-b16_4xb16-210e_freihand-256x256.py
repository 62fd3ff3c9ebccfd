# CLAMP, CLIP ViT-B/16, FreiHAND (21 keypoints, wrist first), 256x256, 4 GPUs x 16, 210 epochs.
# Data layout as mmpose's (data/README.md): data/freihand/{annotations/freihand_{train,val,test}
# .json, training/rgb/*.jpg, evaluation/rgb/*.jpg} (file names in the jsons include the folder).
# Metrics as mmpose's model zoo (PCK@0.2, AUC, EPE) plus COCO AP with hand sigmas.
_base_ = [
    '../_base_/clamp_vit-b16_4xb16-210e_topdown-256x256.py',
    '../_base_/datasets/freihand_onehand.py',
]
model = dict(text_encoder=dict(prompts={{_base_.keypoint_prompts}}))

data_root = 'data/freihand/'
dataset = dict(type='FreiHandDataset', data_root=data_root, metainfo={{_base_.dataset_info}},
               data_prefix=dict(img=''))
train_dataloader = dict(dataset=dict(**dataset, ann_file='annotations/freihand_train.json'))
val_dataloader = dict(dataset=dict(**dataset, ann_file='annotations/freihand_val.json'))
test_dataloader = dict(dataset=dict(**dataset, ann_file='annotations/freihand_test.json'))
