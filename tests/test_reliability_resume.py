"""Crash and resume: a training run killed with SIGKILL mid-epoch, resumed once from the work
dir (`--resume`) and, after a second kill, from an explicit checkpoint (`--resume CKPT`), ends
with the weights, optimizer state, scheduler state and counters of an uninterrupted run."""
import os.path as osp
import signal

from conftest import require_hand_samples, run_tool
from reliability_utils import (HOOKS_ENV, assert_tensors_close, load_ckpt, start_tool,
                               write_epoch_config)

EPOCHS, ITERS_PER_EPOCH = 3, 3  # 12 images, batch 4


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    require_hand_samples()
    cfg = write_epoch_config(tmp_path / 'tiny_epochs.py', epochs=EPOCHS, keep=2)
    ref, run = tmp_path / 'uninterrupted', tmp_path / 'killed'
    env = dict(HOOKS_ENV, OMP_NUM_THREADS='1')
    # the uninterrupted reference runs beside the first (killed) run: one core each
    reference = start_tool(['tools/train.py', cfg, '--work-dir', str(ref)],
                           tmp_path / 'reference.log', env=env)

    # 1st crash: before iteration 4 = 2nd iteration of epoch 2 (epoch_1.pth is the latest)
    out = run_tool(['tools/train.py', cfg, '--work-dir', str(run)], check=False,
                   env=dict(env, CLAMP_KILL_AT_ITER='4'))
    assert out.returncode == -signal.SIGKILL, out.stdout[-3000:]
    assert (run / 'epoch_1.pth').is_file() and not (run / 'epoch_2.pth').exists()
    assert (run / 'last_checkpoint').read_text().strip() == str(run / 'epoch_1.pth')

    # auto-resume from the work dir; 2nd crash in epoch 3 (iteration 7)
    out = run_tool(['tools/train.py', cfg, '--work-dir', str(run), '--resume'], check=False,
                   env=dict(env, CLAMP_KILL_AT_ITER='7'))
    assert out.returncode == -signal.SIGKILL, out.stdout[-3000:]
    assert f'resumed epoch: 1, iter: {ITERS_PER_EPOCH}' in out.stdout, out.stdout[-3000:]
    assert (run / 'epoch_2.pth').is_file() and not (run / 'epoch_3.pth').exists()

    # resume from an explicit checkpoint and finish
    out = run_tool(['tools/train.py', cfg, '--work-dir', str(run),
                    '--resume', str(run / 'epoch_2.pth')], env=env)
    assert f'resumed epoch: 2, iter: {2 * ITERS_PER_EPOCH}' in out.stdout, out.stdout[-3000:]
    assert reference.wait(timeout=600) == 0, (tmp_path / 'reference.log').read_text()[-3000:]

    for epoch in (2, 3):
        a = load_ckpt(ref / f'epoch_{epoch}.pth')
        b = load_ckpt(run / f'epoch_{epoch}.pth')
        assert a['meta']['epoch'] == b['meta']['epoch'] == epoch
        assert a['meta']['iter'] == b['meta']['iter'] == epoch * ITERS_PER_EPOCH
        for key in ('epoch', 'iter', 'max_epochs', 'max_iters'):
            assert a['message_hub']['runtime_info'][key] == b['message_hub']['runtime_info'][key]
        assert_tensors_close(a['state_dict'], b['state_dict'], f'epoch {epoch} weights')
        assert_tensors_close(a['optimizer']['state'], b['optimizer']['state'],
                             f'epoch {epoch} optimizer state')
        for ga, gb in zip(a['optimizer']['param_groups'], b['optimizer']['param_groups']):
            assert abs(ga['lr'] - gb['lr']) < 1e-12 and ga['params'] == gb['params']
        assert_tensors_close(a['param_schedulers'], b['param_schedulers'],
                             f'epoch {epoch} schedulers')
        assert [s['_global_step'] for s in b['param_schedulers']] == [epoch * ITERS_PER_EPOCH] * 2
    # the schedule moved the lr and AdamW kept state: the comparison is not vacuous
    final = load_ckpt(run / f'epoch_{EPOCHS}.pth')
    steps = {int(s['step']) for s in final['optimizer']['state'].values()}
    assert steps == {EPOCHS * ITERS_PER_EPOCH}
    assert osp.isfile(run / 'last_checkpoint')
