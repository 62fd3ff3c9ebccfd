# CLAMP, CLIP ViT-B/16, COCO-WholeBody-Hand (21 keypoints per hand, wrist first), 256x256,
# 4 GPUs x 16, 210 epochs. Data: data/coco/{train2017,val2017} and the hand jsons written by
# tools/dataset_converters/coco_wholebody2hands.py from coco_wholebody_{train,val}_v1.0.json.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/schedules/adamw_210e.py',
    '../_base_/models/clamp_vit-b16_256x256.py',
    '../_base_/datasets/hand21_wrist_first.py',
]
codec = dict(type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2,
             unbiased=True)
model = dict(codec=codec, text_encoder=dict(prompts={{_base_.keypoint_prompts}}))

data_root = 'data/coco/'
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', rotate_factor=40.0, scale_factor=(0.5, 1.5)),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs', pack_transformed=True),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs'),
]
dataset = dict(type='HandKeypointDataset', data_root=data_root, metainfo={{_base_.dataset_info}})
train_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True, pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**dataset, ann_file='annotations/coco_wholebody_train_v1.0_hands.json', data_prefix=dict(img='train2017/'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True, pin_memory=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(**dataset, ann_file='annotations/coco_wholebody_val_v1.0_hands.json', data_prefix=dict(img='val2017/'),
                 test_mode=True, pipeline=val_pipeline))
test_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True, pin_memory=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(**dataset, ann_file='annotations/coco_wholebody_val_v1.0_hands.json', data_prefix=dict(img='val2017/'),
                 test_mode=True, pipeline=val_pipeline))
val_evaluator = [
    dict(type='CocoMetric', nms_mode='none'),  # OKS with the hand sigmas of the metainfo
    dict(type='PCKAccuracy', thr=0.2, norm_item='bbox'),
    dict(type='AUC', norm_factor=30),
    dict(type='EPE'),
]
test_evaluator = val_evaluator
