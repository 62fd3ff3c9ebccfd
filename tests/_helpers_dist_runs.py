"""The distributed-check runs (configs/hand_samples/clamp_vit-tiny_2xb4-4iter_dist-check-64x64.py,
4 iterations) shared by tests/test_distributed.py and tests/test_slurm.py, so that the suite
runs each once: ``'single'`` is ``tools/train.py`` at batch 8 (its ``main``, in the test
process), ``'dual'`` is ``tools/dist_train.sh CONFIG 2`` (2 gloo processes x batch 4).

A fixture imported into two test modules would be run once per module even with session
scope (pytest registers it once per module), so the cache lives here, in this module.
"""
import contextlib
import io
import os.path as osp

import pytest
import torch

from conftest import ROOT, load_tool, require_hand_samples, run_tool

DIST_CHECK_CFG = osp.join(ROOT, 'configs', 'hand_samples',
                          'clamp_vit-tiny_2xb4-4iter_dist-check-64x64.py')
_RUNS = {}


def dist_check_run(tmp_path_factory, kind: str):
    """``(work_dir, stdout)`` of the ``kind`` (``'single'`` or ``'dual'``) run, run on first
    use; ``work_dir / 'iter_4.pth'`` is its final checkpoint."""
    if kind not in _RUNS:
        require_hand_samples()
        work = tmp_path_factory.mktemp(f'dist_check_{kind}')
        if kind == 'single':  # tools/train.py's main in this process (one process)
            log = io.StringIO()
            with contextlib.redirect_stdout(log):
                load_tool('tools/train.py').main([DIST_CHECK_CFG, '--work-dir', str(work),
                                                  '--cfg-options', 'train_dataloader.batch_size=8'])
            out = log.getvalue()
        elif kind == 'dual':
            out = run_tool(['bash', 'tools/dist_train.sh', DIST_CHECK_CFG, '2',
                            '--work-dir', str(work)], env=dict(PORT='29611')).stdout
        else:
            raise ValueError(kind)
        _RUNS[kind] = (work, out)
    return _RUNS[kind]


def assert_same_weights(ckpt_a, ckpt_b, rtol=1e-4, atol=1e-5):
    """Both checkpoints are at iteration 4 and hold the same tensors (float tolerance)."""
    a = torch.load(ckpt_a, map_location='cpu', weights_only=False)
    b = torch.load(ckpt_b, map_location='cpu', weights_only=False)
    assert a['meta']['iter'] == b['meta']['iter'] == 4
    sa, sb = a['state_dict'], b['state_dict']
    assert sa.keys() == sb.keys()
    for k in sa:
        torch.testing.assert_close(sa[k], sb[k], rtol=rtol, atol=atol, msg=k)
    return sa


@pytest.fixture(scope='session')
def dist_train_run(tmp_path_factory):
    """The 2-process ``tools/dist_train.sh`` run: ``(work_dir, stdout)``."""
    return dist_check_run(tmp_path_factory, 'dual')


@pytest.fixture(scope='session')
def single_train_run(tmp_path_factory):
    """The 1-process batch-8 ``tools/train.py`` run: ``(work_dir, stdout)``."""
    return dist_check_run(tmp_path_factory, 'single')
