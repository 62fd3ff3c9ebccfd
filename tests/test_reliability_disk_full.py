"""A full disk is told before it bites, and when it bites nothing written is lost.

* Before the first training step the checkpoint hook compares the free space of the checkpoint
  folder with its estimate of one checkpoint (weights + optimizer state, checked here against
  torch's own optimizer state and against a written file): too little for one stops the run
  with a message naming the folder, the sizes and the fix; too little for the checkpoints the
  run keeps at once is a warning.
* A save that fails for want of space (a real ENOSPC: writes into /dev/full, or a real 30 MB
  tmpfs where the mount is allowed) removes its half-written file, says which checkpoint is
  still good, and the run resumes from it once there is space.
* tools/install.sh and tools/run_tests.sh stop before installing GBs or running the suite on a
  disk that cannot hold them (pip's own message is an OSError half-way through the torch wheel).
"""
import errno
import glob
import os
import os.path as osp
import subprocess
import sys
import types

import pytest
import torch
from mmengine.config import Config
from mmengine.fileio.backends.local_backend import LocalBackend

from clamp_hand.engine import disk_space
from clamp_hand.engine.disk_space import (DiskSpaceError, checkpoint_bytes,
                                          optimizer_state_bytes, peak_checkpoints)
from conftest import require_hand_samples, run_tool
from reliability_utils import HOOKS_ENV, load_ckpt, write_epoch_config

MB = 1 << 20


# -- the estimate ---------------------------------------------------------------------------

@pytest.mark.parametrize('make', [
    lambda p: torch.optim.AdamW(p, lr=1e-3), lambda p: torch.optim.Adam(p, amsgrad=True),
    lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1),
    lambda p: torch.optim.RMSprop(p, momentum=0.9, centered=True),
    lambda p: torch.optim.Adagrad(p), lambda p: torch.optim.Adamax(p)],
    ids=['AdamW', 'Adam-amsgrad', 'SGD-momentum', 'SGD', 'RMSprop-centered', 'Adagrad', 'Adamax'])
def test_predicted_optimizer_state_is_what_torch_creates(make):
    model = torch.nn.Sequential(torch.nn.Linear(7, 5), torch.nn.Linear(5, 3))
    model[0].weight.requires_grad_(False)  # frozen: no state
    optimizer = make([p for p in model.parameters()])
    predicted = optimizer_state_bytes(optimizer)  # from the table (Adagrad: its initial state)
    model(torch.randn(4, 7)).sum().backward()
    optimizer.step()
    created = sum(t.numel() * t.element_size() for s in optimizer.state.values()
                  for k, t in s.items() if torch.is_tensor(t) and k != 'step')
    steps = 8 * len(optimizer.state)  # the scalar step counters, at most 8 bytes each
    assert created <= predicted <= created + steps
    assert created <= optimizer_state_bytes(optimizer) <= created + steps  # counted now


def test_peak_checkpoints_follows_the_hook_settings():
    def peak(max_keep, interval=1, best=(), by_epoch=True, total=4, done=0, save_last=True):
        hook = types.SimpleNamespace(max_keep_ckpts=max_keep, interval=interval,
                                     save_best=list(best) or None, key_indicators=list(best),
                                     by_epoch=by_epoch, save_last=save_last)
        runner = types.SimpleNamespace(max_epochs=total, epoch=done, max_iters=total, iter=done)
        return peak_checkpoints(hook, runner)
    assert peak(3, interval=10, best=['coco/AP'], total=210) == 5  # the ViT-B configs: 3+1+best
    assert peak(-1, total=4) == 4  # keep every one of 4 saves
    assert peak(-1, interval=3, total=10) == 4  # epochs 3, 6, 9 and the last
    assert peak(-1, interval=3, total=10, save_last=False) == 3
    assert peak(1, interval=2, by_epoch=False, total=6, done=2) == 2  # resumed: 2 saves left
    assert peak(2, total=1) == 1  # fewer saves than max_keep_ckpts + 1
    assert peak(1, best=['coco/AP', 'EPE'], total=2) == 4


# -- training on a disk too small ----------------------------------------------------------

def config(tmp_path, epochs=2, keep=1, checkpoint=''):
    """The 12 real hands, 64 px tiny CLAMP, a checkpoint every epoch (~18 MB each)."""
    require_hand_samples()
    return write_epoch_config(tmp_path / 'disk.py', epochs=epochs, keep=keep,
                              checkpoint=checkpoint)


def build(cfg, work, resume=None):
    from clamp_hand.apis.runner import build_runner
    return build_runner(Config.fromfile(cfg), work_dir=str(work), config_path=cfg,
                        resume=resume)


def checkpoint_hook(runner):
    return next(h for h in runner.hooks if type(h).__name__ == 'AtomicCheckpointHook')


def test_estimate_matches_the_written_checkpoint(tmp_path):
    runner = build(config(tmp_path, epochs=1), tmp_path / 'work')
    runner.train()
    estimate = checkpoint_hook(runner)._checkpoint_bytes  # made before the first step
    written = osp.getsize(tmp_path / 'work' / 'epoch_1.pth')
    assert abs(estimate / written - 1) < 0.02, (estimate, written)
    model_only = checkpoint_bytes(runner.model)
    assert 0.5 * written < model_only < estimate  # the optimizer state is counted too


def test_too_little_space_for_one_checkpoint_stops_before_the_first_step(tmp_path, monkeypatch):
    runner = build(config(tmp_path), tmp_path / 'work')
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    monkeypatch.setattr(disk_space, 'free_bytes', lambda path: 5 * MB)
    with pytest.raises(DiskSpaceError) as info:
        runner.train()
    msg = str(info.value)
    assert info.value.errno == errno.ENOSPC
    assert f'checkpoint folder {tmp_path / "work"} has 5 MB free, less than one checkpoint' in msg
    assert 'stopped before the first training step' in msg
    assert 'default_hooks.checkpoint.out_dir=DIR' in msg
    assert runner.iter == 0 and not glob.glob(str(tmp_path / 'work' / '*.pth*'))
    after = runner.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # not one step taken


def test_too_little_space_for_the_kept_checkpoints_is_a_warning(tmp_path, monkeypatch):
    runner = build(config(tmp_path), tmp_path / 'work')  # keep 1: 2 on disk during a save
    monkeypatch.setattr(disk_space, 'free_bytes', lambda path: int(1.5 * checkpoint_bytes(
        runner.model, [runner.optim_wrapper.optimizer])))  # (built by train())
    runner.train()  # the run goes on
    size = checkpoint_hook(runner)._checkpoint_bytes
    log = open(glob.glob(str(tmp_path / 'work' / '*' / '*.log'))[0]).read()
    assert (f'has {1.5 * size / MB:,.0f} MB free; this run keeps up to 2 checkpoints of '
            f'~{size / MB:,.0f} MB on disk at once (max_keep_ckpts=1') in log
    assert 'lower default_hooks.checkpoint.max_keep_ckpts' in log
    assert osp.isfile(tmp_path / 'work' / 'epoch_2.pth')


def fill_disk_at(monkeypatch, name):
    """Writing checkpoint ``name``'s temporary file goes to /dev/full: the kernel's own
    ENOSPC, at the write, as on a full disk."""
    if not os.access('/dev/full', os.W_OK):
        pytest.skip('/dev/full is not there to write to')
    put = LocalBackend.put

    def put_on_full_disk(self, obj, filepath):
        if osp.basename(str(filepath)) == name + '.tmp':
            os.symlink('/dev/full', filepath)
        return put(self, obj, filepath)
    monkeypatch.setattr(LocalBackend, 'put', put_on_full_disk)


def test_a_save_on_a_full_disk_names_it_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    cfg, work = config(tmp_path), tmp_path / 'work'
    with monkeypatch.context() as m:
        fill_disk_at(m, 'epoch_2.pth')
        with pytest.raises(DiskSpaceError) as info:
            build(cfg, work).train()
    msg = str(info.value)
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.__cause__.errno == errno.ENOSPC
    assert msg.startswith(f'checkpoint {work / "epoch_2.pth"} was not written '
                          '(No space left on device; ')
    assert 'MB free there, the checkpoint needs ~' in msg
    assert f'{work / "epoch_1.pth"} is intact and last_checkpoint still names it' in msg
    assert '--resume' in msg and 'max_keep_ckpts' in msg
    assert not glob.glob(str(work / '*.tmp'))  # the half-written file is gone
    assert not osp.lexists(work / 'epoch_2.pth')
    assert (work / 'last_checkpoint').read_text().strip() == str(work / 'epoch_1.pth')
    assert load_ckpt(work / 'epoch_1.pth')['meta']['epoch'] == 1

    build(cfg, work, resume='auto').train()  # space again: picks up epoch 1, ends epoch 2
    assert load_ckpt(work / 'epoch_2.pth')['meta']['epoch'] == 2


@pytest.fixture
def small_disk(tmp_path):
    """``small_disk(size_mb)``: a tmpfs of that size mounted under tmp_path (root and a kernel
    that lets this container mount; skipped otherwise: the tests above cover the same code
    with /dev/full and a patched free-space reading)."""
    mounts = []

    def mount(size_mb):
        where = tmp_path / f'disk{len(mounts)}'
        where.mkdir()
        proc = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size_mb}m', 'tmpfs',
                               str(where)], capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f'cannot mount a {size_mb} MB tmpfs here: {proc.stderr.strip()}')
        mounts.append(where)
        return where
    yield mount
    for where in mounts:
        subprocess.run(['umount', '-l', str(where)], capture_output=True)


def test_a_real_small_disk_through_tools_train(tmp_path, small_disk):
    """A 30 MB disk holds one ~18 MB checkpoint, not two: a warning at the start, epoch 1
    saved, epoch 2's save fails with the message and no traceback; after the disk grows,
    --resume finishes the run. An 8 MB disk stops the run before its first step."""
    disk = small_disk(30)
    cfg = config(tmp_path, checkpoint=f'out_dir={str(disk)!r}')
    work = tmp_path / 'work'
    proc = run_tool(['tools/train.py', cfg, '--work-dir', str(work)], env=HOOKS_ENV, check=False)
    out = proc.stdout
    assert proc.returncode == 1, out[-3000:]
    ckpts = disk / 'work'  # mmengine: out_dir/<work_dir's name>
    assert 'this run keeps up to 2 checkpoints of' in out
    assert (f'error: DiskSpaceError: checkpoint {ckpts / "epoch_2.pth"} was not written '
            '(No space left on device; ') in out, out[-3000:]
    assert 'Traceback' not in out
    assert os.listdir(ckpts) == ['epoch_1.pth']  # no half-written file left
    assert load_ckpt(ckpts / 'epoch_1.pth')['meta']['epoch'] == 1

    subprocess.run(['mount', '-o', 'remount,size=64m', str(disk)], check=True)
    from clamp_hand.apis import train
    train(cfg, work_dir=str(work), resume='auto')
    assert sorted(os.listdir(ckpts)) == ['epoch_2.pth']

    tiny = small_disk(8)
    cfg = config(tmp_path, checkpoint=f'out_dir={str(tiny)!r}')
    proc = run_tool(['tools/train.py', cfg, '--work-dir', str(tmp_path / 'work8')],
                    env=HOOKS_ENV, check=False)
    assert proc.returncode == 1
    assert (f'error: DiskSpaceError: checkpoint folder {tiny / "work8"} has 8 MB free, less '
            'than one checkpoint of this run') in proc.stdout, proc.stdout[-3000:]
    assert 'Epoch(train)' not in proc.stdout and 'Traceback' not in proc.stdout


# -- installing and testing ----------------------------------------------------------------

def fake_df(tmp_path, free_mb):
    """A ``df -Pk`` that reports ``free_mb`` available, first on PATH."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    df = bin_dir / 'df'
    df.write_text('#!/bin/sh\necho "Filesystem 1024-blocks Used Available Capacity Mounted on"\n'
                  f'echo "/dev/x 100000000 0 {free_mb * 1024} 1% /"\n')
    df.chmod(0o755)
    return dict(PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}')


def test_install_stops_before_pip_on_a_small_disk(tmp_path):
    """A venv without torch yet and a disk with 900 MB: stops before step 1, naming the
    folder, the sizes and the fix."""
    base = osp.realpath(sys.executable)  # the interpreter under this venv: no torch of its own
    if subprocess.run([base, '-c', 'import torch'], capture_output=True).returncode == 0:
        pytest.skip(f'{base} has torch installed: no fresh venv to imitate')
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    os.symlink(base, venv / 'bin' / 'python')
    env = fake_df(tmp_path, 900)
    env.update(CLAMP_HAND_VENV=str(venv))
    proc = run_tool(['bash', 'tools/install.sh'], env=env, check=False)
    assert proc.returncode == 1, proc.stdout
    assert (f'error: installing the pinned requirements into {venv} needs about 7000 MB free on '
            f'the file system of {venv}; it has 900 MB.') in proc.stdout
    assert 'ln -s' in proc.stdout and '1/4' not in proc.stdout


def test_run_tests_stops_before_pytest_on_a_small_disk(tmp_path):
    env = fake_df(tmp_path, 500)
    env.update(TMPDIR=str(tmp_path), TEST_WORKERS='0')
    # were the check to let it through, pytest would only collect one small file
    proc = run_tool(['bash', 'tools/run_tests.sh', '--collect-only', 'tests/test_imports.py'],
                    env=env, check=False, timeout=300)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert (f"error: the test suite's temporary files in {tmp_path} needs about 3000 MB free on "
            f'the file system of {tmp_path}; it has 500 MB.') in proc.stdout
    assert 'set TMPDIR' in proc.stdout
