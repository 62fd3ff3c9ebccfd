"""Non-finite loss: with a NaN injected into one loss term at one iteration, training stops
naming the iteration and the term, before any optimizer step, and writes no checkpoint with
NaN weights; with ``on_nonfinite='skip'`` the step is skipped, counted, and training goes on."""
import glob

import pytest
import torch

from conftest import require_hand_samples
from reliability_utils import load_ckpt, write_epoch_config

NAN_AT = 4  # 0-based iteration: the 2nd iteration of epoch 2 (3 iterations per epoch)


def run(cfg, work):
    from clamp_hand.apis import train
    return train(cfg, work_dir=str(work))


def finite(state_dict):
    return all(torch.isfinite(v).all() for v in state_dict.values() if torch.is_floating_point(v))


def test_nan_loss_stops_training_naming_iteration_and_term(tmp_path, monkeypatch):
    require_hand_samples()
    monkeypatch.setenv('CLAMP_NAN_AT_ITER', str(NAN_AT))
    cfg = write_epoch_config(tmp_path / 'nan_raise.py', epochs=2, keep=2)
    with pytest.raises(FloatingPointError,
                       match=rf'iteration {NAN_AT + 1} \(epoch 2\): loss_spatial=nan') as err:
        run(cfg, tmp_path / 'work')
    assert 'loss_heatmap' not in str(err.value)  # only the non-finite term is named
    assert sorted(glob.glob(str(tmp_path / 'work' / '*.pth'))) == [
        str(tmp_path / 'work' / 'epoch_1.pth')]
    assert finite(load_ckpt(tmp_path / 'work' / 'epoch_1.pth')['state_dict'])


def test_nan_loss_step_is_skipped_and_counted_when_configured(tmp_path, monkeypatch):
    require_hand_samples()
    monkeypatch.setenv('CLAMP_NAN_AT_ITER', str(NAN_AT))
    hooks = ("custom_hooks = [dict(type='NanLossAtIterHook'), "
             "dict(type='NonFiniteLossHook', on_nonfinite='skip')]\n")
    cfg = write_epoch_config(tmp_path / 'nan_skip.py', epochs=2, keep=2, extra=hooks)
    work = tmp_path / 'work'
    run(cfg, work)
    final = load_ckpt(work / 'epoch_2.pth')
    assert finite(final['state_dict'])
    # AdamW took 5 of the 6 steps: the NaN step never reached the optimizer
    assert {int(s['step']) for s in final['optimizer']['state'].values()} == {5}
    log = open(glob.glob(str(work / '*' / '*.log'))[0]).read()
    assert f'skipping the optimizer step at iteration {NAN_AT + 1} (epoch 2)' in log
    assert 'loss_spatial=nan' in log
    assert '1 training step(s) were skipped because of a non-finite loss' in log
