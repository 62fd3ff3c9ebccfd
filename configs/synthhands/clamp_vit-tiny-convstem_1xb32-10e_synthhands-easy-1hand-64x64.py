# The quickstart's main job: a tiny randomly initialised CLAMP trained on the CPU on synthetic
# one-hand images and evaluated on the held-out synthetic split. 21 keypoints, wrist first.
# Data: tools/dataset_converters/make_synthhands.py --difficulty easy (near-frontal, upright,
# untruncated hands; tools/quickstart.sh makes them). Sized for a 2-core CPU: 64x64 crops, a
# convolutional stem down to 8x8 tokens (its stride-2 map also feeds the head), 32x32
# heatmaps, batch 32, 10 epochs in bf16 autocast (about 4-5 minutes here). Trained from
# scratch, a plain 8 px patch embedding learns far slower (README, "Results": AP 0.18 vs 0.38
# after 10 epochs). Sized for speed (issue 16; docs/_incoming/issue16_performance.md): the
# head's last deconv is 32 wide (the 32x32 stage was ~40 % of a step at 64), bf16 autocast
# (0.7x a step on an AVX-512 BF16 CPU), 10 instead of 12 epochs.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/clamp_vit-tiny_128x128.py',
    '../_base_/datasets/hand21_wrist_first.py',
    '../_base_/evaluators/hand_coco_pck_auc_epe.py',
]
input_size = (64, 64)
codec = dict(type='MSRAHeatmap', input_size=input_size, heatmap_size=(32, 32), sigma=2,
             unbiased=True)
model = dict(
    backbone=dict(image_size=input_size, stem_channels=(24, 48, 96), stem_out=True),
    codec=codec,
    text_encoder=dict(prompts={{_base_.keypoint_prompts}}),
    head=dict(deconv_out_channels=(64, 32)),
)

max_epochs = 10
# bf16 autocast in the training forward (AutocastOptimWrapper on a CPU; on CUDA it runs the same
# autocast): no loss scaling needed; validation and test stay in float32
optim_wrapper = dict(
    type='AutocastOptimWrapper', dtype='bfloat16',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    constructor='CLAMPOptimWrapperConstructor',
    paramwise_cfg=dict(lr_mult={}),  # random init: the backbone trains at the full lr
    clip_grad=dict(max_norm=5.0),
)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, eta_min=2e-5, by_epoch=True,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=3)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(logger=dict(interval=25),
                     checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))

data_root = 'data/synthhands_easy_1hand/'
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.15),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', shift_factor=0.05, rotate_factor=0.0, rotate_prob=0.0,
         scale_factor=(0.9, 1.1)),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs', pack_transformed=True),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.15),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='PackPoseInputs'),
]
dataset = dict(type='HandKeypointDataset', data_root=data_root,
               metainfo={{_base_.dataset_info}}, data_prefix=dict(img='images/'))
# no loader workers: on 2 cores a worker process slows the training step more than it saves
# (measured 0.30 -> 0.23 s/iteration)
train_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**dataset, ann_file='annotations/train.json', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=50, num_workers=1, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(**dataset, ann_file='annotations/val.json', test_mode=True,
                 pipeline=val_pipeline))
test_dataloader = val_dataloader
