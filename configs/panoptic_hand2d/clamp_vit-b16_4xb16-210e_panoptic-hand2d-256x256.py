# CLAMP, CLIP ViT-B/16, CMU Panoptic hands (2D; 21 keypoints, wrist first), 256x256, 4 GPUs x
# 16, 210 epochs. Data layout as mmpose's (data/README.md): data/panoptic/{annotations/
# panoptic_{train,test}.json, hand143_panopticdb/, hand_labels/}. Metrics as mmpose reports this
# benchmark: PCKh@0.7 (the threshold is 0.7 x the annotation's head_size), AUC, EPE; plus COCO AP.
_base_ = [
    '../_base_/clamp_vit-b16_4xb16-210e_topdown-256x256.py',
    '../_base_/datasets/panoptic_hand2d_onehand.py',
]
model = dict(text_encoder=dict(prompts={{_base_.keypoint_prompts}}))

data_root = 'data/panoptic/'
dataset = dict(type='PanopticHand2DDataset', data_root=data_root,
               metainfo={{_base_.dataset_info}}, data_prefix=dict(img=''))
train_dataloader = dict(dataset=dict(**dataset, ann_file='annotations/panoptic_train.json'))
val_dataloader = dict(dataset=dict(**dataset, ann_file='annotations/panoptic_test.json'))
test_dataloader = val_dataloader
val_evaluator = [
    _base_.val_evaluator[0],  # COCO AP, hand sigmas
    dict(type='PCKAccuracy', thr=0.7, norm_item='head'),  # PCKh@0.7
    *_base_.val_evaluator[2:],  # AUC, EPE
]
test_evaluator = val_evaluator
