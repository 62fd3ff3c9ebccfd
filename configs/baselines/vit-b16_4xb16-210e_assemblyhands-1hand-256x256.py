# Text-free baseline for CLAMP on AssemblyHands one hand: the same CLIP ViT-B/16 backbone,
# deconv heatmap head, codec, data, schedule and optimizer as
# configs/assemblyhands/clamp_vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py, with no prompts,
# score maps or contrastive loss: the model to pick instead of CLAMP in this framework, and the
# reference of the speed comparison (tools/analysis/benchmark.py). Pretrained: the CLIP image
# tower only (a full CLIP file works; its text tower is skipped).
# tests/test_benchmark.py checks that everything but the model equals the CLAMP config.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/schedules/adamw_210e.py',
    '../_base_/models/vit-b16_256x256.py',
    '../_base_/datasets/assemblyhands_onehand.py',
]
codec = dict(type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2,
             unbiased=True)
model = dict(codec=codec, head=dict(out_channels=21))

data_root = 'data/assemblyhands/'
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
dataset = dict(type='HandKeypointDataset', data_root=data_root,
               metainfo={{_base_.dataset_info}}, data_prefix=dict(img='images/'))
train_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True, pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**dataset, ann_file='annotations/assemblyhands_train_ego_data_v1-1_onehand.json',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True, pin_memory=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(**dataset, ann_file='annotations/assemblyhands_val_ego_data_v1-1_onehand.json',
                 test_mode=True, pipeline=val_pipeline))
test_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True, pin_memory=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(**dataset, ann_file='annotations/assemblyhands_test_ego_data_v1-1_onehand.json',
                 test_mode=True, pipeline=val_pipeline))
val_evaluator = [
    dict(type='CocoMetric', nms_mode='none'),  # OKS with the hand sigmas of the metainfo
    dict(type='PCKAccuracy', thr=0.2, norm_item='bbox'),
    dict(type='AUC', norm_factor=30),
    dict(type='EPE'),
]
test_evaluator = val_evaluator
