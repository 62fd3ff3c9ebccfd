"""Checkpoints are never half-written: a crash while `epoch_2.pth` is being written leaves
`epoch_1.pth` loadable and `last_checkpoint` pointing at it (mmengine's own CheckpointHook,
run through the same crash, leaves nothing loadable), the run resumes from it, and the best
checkpoint by COCO AP is kept beside the latest one."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.fileio.backends.local_backend import LocalBackend

from conftest import HAND_SAMPLES, require_hand_samples
from reliability_utils import VAL_CFG, load_ckpt, write_epoch_config


class Crash(Exception):
    pass


def crash_while_writing(monkeypatch, name):
    """Make the file write of checkpoint ``name`` (or ``name.tmp``) stop half way, as if the
    process died during the write."""
    put = LocalBackend.put

    def half_put(self, obj, filepath):
        if osp.basename(str(filepath)).startswith(name):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise Crash(f'killed while writing {filepath}')
        return put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', half_put)


def train(cfg, work, resume=None):
    from clamp_hand.apis import train as train_api
    return train_api(cfg, work_dir=str(work), resume=resume)


def config(tmp_path, hook_type, val=True):
    """2 epochs, checkpoint every epoch, keep 1; with ``val``, validate every epoch and keep
    the best checkpoint by COCO AP and by EPE."""
    best = "save_best=['coco/AP', 'EPE'], rule=['greater', 'less']" if val else ''
    return write_epoch_config(
        tmp_path / f'{hook_type}.py', epochs=2, keep=1, val_interval=1 if val else 1000,
        checkpoint=f'type={hook_type!r}, {best}',
        extra=VAL_CFG.format(root=HAND_SAMPLES + '/'))


def test_crash_during_save_keeps_previous_checkpoint_and_best(tmp_path, monkeypatch):
    require_hand_samples()
    cfg, work = config(tmp_path, 'AtomicCheckpointHook'), tmp_path / 'atomic'
    with monkeypatch.context() as m:
        crash_while_writing(m, 'epoch_2.pth')
        with pytest.raises(Crash):
            train(cfg, work)
    assert (work / 'epoch_2.pth.tmp').is_file() and not (work / 'epoch_2.pth').exists()
    last = (work / 'last_checkpoint').read_text().strip()
    assert last == str(work / 'epoch_1.pth')
    ckpt = load_ckpt(last)
    assert ckpt['meta']['epoch'] == 1 and 'optimizer' in ckpt

    train(cfg, work, resume='auto')  # picks up epoch_1.pth, finishes epoch 2
    assert not glob.glob(str(work / '*.tmp'))  # the half-written file was cleaned up
    assert sorted(osp.basename(p) for p in glob.glob(str(work / 'epoch_*.pth'))) == ['epoch_2.pth']
    hub = load_ckpt(work / 'epoch_2.pth')['message_hub']['runtime_info']
    for key in ('coco_AP', 'EPE'):
        # exactly one best checkpoint per metric, kept beside the latest (max_keep_ckpts=1)
        best = glob.glob(str(work / f'best_{key}_epoch_*.pth'))
        assert len(best) == 1, best
        metric = key.replace('_', '/')
        assert hub[f'best_ckpt_{metric}'] == best[0]
        ckpt = load_ckpt(best[0])
        assert ckpt['meta']['epoch'] == int(best[0].split('_')[-1][:-4])
        assert 'optimizer' not in ckpt


def test_mmengine_checkpoint_hook_loses_everything_in_the_same_crash(tmp_path, monkeypatch):
    """The failure the atomic hook prevents (keeps the test above meaningful)."""
    require_hand_samples()
    cfg, work = config(tmp_path, 'CheckpointHook', val=False), tmp_path / 'plain'
    crash_while_writing(monkeypatch, 'epoch_2.pth')
    with pytest.raises(Crash):
        train(cfg, work)
    last = (work / 'last_checkpoint').read_text().strip()
    assert last == str(work / 'epoch_1.pth') and not osp.exists(last)  # removed before the save
    with pytest.raises(Exception):
        load_ckpt(work / 'epoch_2.pth')  # half-written


def test_no_checkpoint_with_non_finite_weights(tmp_path):
    from clamp_hand.engine.checkpoint_hook import AtomicCheckpointHook, nonfinite_weights
    layer = torch.nn.Linear(2, 2)
    assert nonfinite_weights(layer) == []
    with torch.no_grad():
        layer.bias[0] = float('nan')
    assert nonfinite_weights(layer) == ['bias']

    class Runner:  # what the hook reads before it writes anything
        model, work_dir = layer, str(tmp_path)

    hook = AtomicCheckpointHook(interval=1)
    hook.out_dir = str(tmp_path)
    with pytest.raises(FloatingPointError, match=r'refusing to save checkpoint epoch_3.pth: '
                                                 r'non-finite values in 1 weights \(bias\)'):
        hook._save(Runner(), 'epoch_3.pth')
    assert not list(tmp_path.iterdir())
