# Distributed-equivalence check (tests/test_distributed.py): 2 processes x 4 images must end
# with the same weights as 1 process x 8 images. Everything that would make the two differ is
# off: no BatchNorm (unsynchronised batch statistics), no dropout/drop path, no augmentation,
# no shuffling; constant lr; 4 iterations; no validation.
_base_ = ['./clamp_vit-tiny_1xb12-40e_hand-samples-128x128.py']
codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(32, 32), sigma=2,
             unbiased=True)
model = dict(
    codec=codec,
    backbone=dict(image_size=(64, 64), layers=2, out_indices=(0, 1)),
    text_encoder=dict(layers=1),
    head=dict(with_norm=False, deconv_out_channels=(32, 32)),
    score_head=dict(with_norm=False))
# the base's training pipeline at this codec's input size
train_pipeline = [dict(step, input_size=codec['input_size']) if step['type'] == 'TopdownAffine'
                  else dict(step, encoder=codec) if step['type'] == 'GenerateTarget' else step
                  for step in _base_.train_pipeline]
train_dataloader = dict(
    batch_size=4, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(_delete_=True, type='ConcatDataset', datasets=[
        dict(type='HandKeypointDataset', data_root='../shared/data/hand_samples/',
             metainfo={{_base_.dataset_info}}, ann_file=f'{name}/test_{name}.json',
             data_prefix=dict(img=f'{name}/'), pipeline=train_pipeline)
        for name in ('onehand10k', 'freihand')]))
param_scheduler = []
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=4, val_interval=1000)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
default_hooks = dict(checkpoint=dict(interval=4, by_epoch=False, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
