# CLAMP, CLIP ViT-B/16, InterHand2.6M (both hands per instance, 42 keypoints, InterHand order:
# right 21 then left 21), 256x256 input, 4 GPUs x 16 images, 210 epochs.
# Data: the native InterHand2.6M release laid out as mmpose documents it (README "Data"):
#   data/interhand2.6m/annotations/all/InterHand2.6M_{train,val,test}_{data,camera,joint_3d}.json
#   data/interhand2.6m/images/{train,val,test}/Capture*/...
# InterHand2DTwoHandsDataset (mmpose's InterHand2DDoubleDataset + COCO ground truth) projects
# the 3D joints with the camera files; no conversion step is needed.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/schedules/adamw_210e.py',
    '../_base_/models/clamp_vit-b16_256x256.py',
    '../_base_/datasets/interhand2d_twohands.py',
]
codec = dict(type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2,
             unbiased=True)
model = dict(codec=codec, text_encoder=dict(prompts={{_base_.keypoint_prompts}}))

data_root = 'data/interhand2.6m/'
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


def _split(split, pipeline, test_mode):
    return dict(
        type='InterHand2DTwoHandsDataset', data_root=data_root, metainfo={{_base_.dataset_info}},
        ann_file=f'annotations/all/InterHand2.6M_{split}_data.json',
        camera_param_file=f'annotations/all/InterHand2.6M_{split}_camera.json',
        joint_file=f'annotations/all/InterHand2.6M_{split}_joint_3d.json',
        data_prefix=dict(img=f'images/{split}/'), pipeline=pipeline, test_mode=test_mode)


train_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True, pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=_split('train', train_pipeline, False))
val_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True, pin_memory=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=_split('val', val_pipeline, True))
test_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True, pin_memory=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=_split('test', val_pipeline, True))
val_evaluator = [
    dict(type='CocoMetric', nms_mode='none'),  # OKS with the hand sigmas of the metainfo
    dict(type='PCKAccuracy', thr=0.2, norm_item='bbox'),
    dict(type='AUC', norm_factor=30),
    dict(type='EPE'),
]
test_evaluator = val_evaluator
