# The seed's schedule: AdamW lr 5e-4 wd 1e-4, backbone lr x0.1, frozen text encoder (left out of
# the optimizer), no decay on norms/biases/embeddings; 500-iter linear warmup; lr x0.1 at
# epochs 170 and 200 of 210.
max_epochs = 210
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, weight_decay=1e-4),
    constructor='CLAMPOptimWrapperConstructor',
    paramwise_cfg=dict(lr_mult={'backbone': 0.1}),
)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=max_epochs, milestones=[170, 200], gamma=0.1,
         by_epoch=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# Batch size the lr was tuned for (4 GPUs x 16); `tools/train.py --auto-scale-lr` rescales.
auto_scale_lr = dict(base_batch_size=64, enable=False)
