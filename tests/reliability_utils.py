"""Helpers shared by tests/test_reliability_*.py: a tiny epoch-based config written next to
the test (64x64 CLAMP, 12 real hands, batch 4: 3 iterations per epoch) and checkpoint
comparison."""
import os
import os.path as osp

import torch

from conftest import ROOT, hand_samples_eval_cfg, start_tool  # noqa: F401  (start_tool re-exported)

TESTS = osp.dirname(osp.abspath(__file__))
DIST_CHECK_CFG = osp.join(ROOT, 'configs', 'hand_samples',
                          'clamp_vit-tiny_2xb4-4iter_dist-check-64x64.py')
HOOKS_ENV = dict(PYTHONPATH=os.pathsep.join([TESTS, ROOT, os.environ.get('PYTHONPATH', '')]))

EPOCH_CFG = '''
_base_ = [{base!r}]
custom_imports = dict(imports=['clamp_hand.registry', 'reliability_hooks'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='KillAtIterHook'), dict(type='NanLossAtIterHook')]
randomness = dict(seed=0, deterministic=True)
max_epochs = {epochs}
train_dataloader = dict(batch_size=4, sampler=dict(type='DefaultSampler', shuffle=True))
train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval={val_interval})
param_scheduler = [
    dict(type='LinearLR', begin=0, end=5, start_factor=0.1, by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, eta_min=1e-5, by_epoch=True,
         convert_to_iter_based=True),
]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, by_epoch=True, max_keep_ckpts={keep},
                                     {checkpoint}))
log_processor = dict(by_epoch=True)
'''

VAL_CFG = hand_samples_eval_cfg('val_dataloader') + '''val_cfg = dict(_delete_=True, type='ValLoop')
val_evaluator = [dict(type='CocoMetric', nms_mode='none'), dict(type='EPE')]
'''


def write_epoch_config(path, epochs=4, keep=2, val_interval=1000, checkpoint='', extra=''):
    """Write the tiny epoch-based config to ``path``. ``checkpoint``: more arguments of the
    checkpoint hook (text); ``extra``: appended verbatim (e.g. ``VAL_CFG``)."""
    with open(path, 'w') as f:
        f.write(EPOCH_CFG.format(base=DIST_CHECK_CFG, epochs=epochs, keep=keep,
                                 val_interval=val_interval, checkpoint=checkpoint) + extra)
    return str(path)


def load_ckpt(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def assert_tensors_close(a, b, what, rtol=1e-5, atol=1e-6):
    """Nested dicts/lists of tensors and numbers are equal (tensors within tolerance)."""
    if torch.is_tensor(a):
        torch.testing.assert_close(a, b, rtol=rtol, atol=atol, msg=what)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), what
        for k in a:
            assert_tensors_close(a[k], b[k], f'{what}.{k}', rtol, atol)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), what
        for i, (x, y) in enumerate(zip(a, b)):
            assert_tensors_close(x, y, f'{what}[{i}]', rtol, atol)
    else:
        assert a == b, (what, a, b)
