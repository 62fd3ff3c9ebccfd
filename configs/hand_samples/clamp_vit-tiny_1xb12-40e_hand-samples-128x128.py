# Overfit check on the 12 real hands of ../shared/data/hand_samples (OneHand10K + FreiHAND):
# a tiny randomly initialised CLAMP trained on CPU and evaluated on the same images. It shows
# that data, model, losses, decoding and metrics are wired right, not that it generalises.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/clamp_vit-tiny_128x128.py',
    '../_base_/datasets/hand21_wrist_first.py',
    '../_base_/evaluators/hand_coco_pck_auc_epe.py',
]
codec = dict(type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(64, 64), sigma=2,
             unbiased=True)
model = dict(codec=codec, text_encoder=dict(prompts={{_base_.keypoint_prompts}}))

max_epochs = 40
repeat = 20  # iterations per epoch (12 images, batch 12)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    constructor='CLAMPOptimWrapperConstructor',
    paramwise_cfg=dict(lr_mult={}),  # random init: the backbone trains at the full lr
)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, eta_min=1e-5, by_epoch=True,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=max_epochs, save_best=None, max_keep_ckpts=1))

data_root = '../shared/data/hand_samples/'
# no augmentation: the model is to fit these 12 hands
_crop = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale', padding=1.25),
         dict(type='TopdownAffine', input_size=codec['input_size'])]
train_pipeline = _crop + [dict(type='GenerateTarget', encoder=codec),
                          dict(type='PackPoseInputs', pack_transformed=True)]
val_pipeline = _crop + [dict(type='PackPoseInputs')]


def _hands(pipeline, test_mode):
    return dict(type='ConcatDataset', datasets=[
        dict(type='HandKeypointDataset', data_root=data_root, metainfo={{_base_.dataset_info}},
             ann_file=f'{name}/test_{name}.json', data_prefix=dict(img=f'{name}/'),
             pipeline=pipeline, test_mode=test_mode, eval_from_ann_file=False)
        for name in ('onehand10k', 'freihand')])


train_dataloader = dict(
    batch_size=12, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='RepeatDataset', times=repeat, dataset=_hands(train_pipeline, False)))
val_dataloader = dict(
    batch_size=12, num_workers=0, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=_hands(val_pipeline, True))
test_dataloader = val_dataloader
