# CLAMP, CLIP ViT-B/16, RHD (Rendered Hand Pose; 21 keypoints in RHD's order: wrist, then per
# finger tip -> palm), 256x256, 4 GPUs x 16, 210 epochs. Data layout as mmpose's
# (data/README.md): data/rhd/{annotations/rhd_{train,test}.json, training/color/*.png,
# evaluation/color/*.png}; the jsons store keypoints nested ([[x, y, v], ..]), which
# HandCocoMetric flattens for COCO AP. Metrics: PCK@0.2, AUC, EPE (mmpose zoo) + COCO AP.
_base_ = [
    '../_base_/clamp_vit-b16_4xb16-210e_topdown-256x256.py',
    '../_base_/datasets/rhd2d_onehand.py',
]
model = dict(text_encoder=dict(prompts={{_base_.keypoint_prompts}}))

data_root = 'data/rhd/'
dataset = dict(type='Rhd2DDataset', data_root=data_root, metainfo={{_base_.dataset_info}},
               data_prefix=dict(img=''))
train_dataloader = dict(dataset=dict(**dataset, ann_file='annotations/rhd_train.json'))
val_dataloader = dict(dataset=dict(**dataset, ann_file='annotations/rhd_test.json'))
test_dataloader = val_dataloader
