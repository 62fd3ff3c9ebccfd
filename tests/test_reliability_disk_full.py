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
from clamp_hand.engine.disk_space import DiskSpaceError, checkpoint_bytes, optimizer_state_bytes
from conftest import HAND_SAMPLES, require_hand_samples, run_tool
from reliability_utils import HOOKS_ENV, VAL_CFG, load_ckpt, write_epoch_config

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


def fake_run(max_keep=1, interval=1, best=(), by_epoch=True, total=4, done=0, save_last=True,
             save_begin=0, val_interval=0, val_begin=1, kept_now=0):
    hook = types.SimpleNamespace(
        max_keep_ckpts=max_keep, interval=interval, save_best=list(best) or None,
        key_indicators=list(best), by_epoch=by_epoch, save_last=save_last,
        save_begin=save_begin, keep_ckpt_ids=list(range(kept_now)), best_ckpt_path=None,
        best_ckpt_path_dict=dict.fromkeys(best))
    loop = types.SimpleNamespace(val_interval=val_interval, val_begin=val_begin)
    runner = types.SimpleNamespace(max_epochs=total, epoch=done, max_iters=total, iter=done,
                                   train_loop=loop, val_loop=object() if val_interval else None)
    return hook, runner


@pytest.mark.parametrize('settings, saves', [
    (dict(interval=10, total=210), 21),
    (dict(interval=3, total=10), 4),  # 3, 6, 9 and the last
    (dict(interval=3, total=10, save_last=False), 3),
    (dict(interval=-1, total=10), 1),  # save_last saves the last step even without interval
    (dict(interval=-1, total=10, save_last=False), 0),
    (dict(interval=3, total=10, done=4), 3),  # resumed between saves: 6, 9, 10
    (dict(interval=2, total=10, save_begin=5), 4),  # 5, 7, 9 and the last
    (dict(interval=2, by_epoch=False, total=6, done=2), 2),
    # save_best: each validation after the first checkpoint may re-save its step
    (dict(interval=10, total=10, best=['coco/AP'], val_interval=3), 1),  # 3, 6, 9 come first
    (dict(interval=-1, total=10, save_last=False, best=['coco/AP'], val_interval=5), 0),
    (dict(interval=4, total=10, save_last=False, best=['coco/AP'], val_interval=3), 5),  # 4,
    # 8 saved; validations at 6, 9 and the last (10) re-save (3 is before any checkpoint)
])
def test_planned_saves_follow_mmengine_rules(settings, saves):
    assert disk_space.planned_saves(*fake_run(**settings)) == saves


def test_space_plan_counts_the_fullest_moment():
    full, weights = 100, 40
    plan = lambda **kw: disk_space.space_plan(*fake_run(**kw), full, weights)  # noqa: E731
    # the ViT-B configs: 3 kept + the one being written + the best by COCO AP
    assert plan(max_keep=3, interval=10, total=210, best=['coco/AP'], val_interval=10) == dict(
        smallest=100, new=4 * 100 + 40, peak=4, indicators=1)
    assert plan(max_keep=1, total=1)['new'] == 100  # one save only
    assert plan(max_keep=1, total=5)['new'] == 200  # the kept one and the one being written
    assert plan(max_keep=-1, total=4)['new'] == 400  # every save kept
    assert plan(max_keep=3, total=10, kept_now=3, done=6)['new'] == 100  # resumed: 3 on disk
    assert plan(interval=-1, save_last=False, total=4)['smallest'] == 0  # saves nothing
    only_best = plan(interval=-1, save_last=False, total=4, best=['EPE'], val_interval=1)
    assert only_best == dict(smallest=40, new=80, peak=0, indicators=1)  # a best and its
    # successor: no re-save of a step without a periodic checkpoint before
    assert plan(max_keep=2, total=3, best=['coco/AP', 'EPE'], val_interval=1)['new'] == (
        3 * 100 + 2 * 40)


# -- training on a disk too small ----------------------------------------------------------

def config(tmp_path, epochs=2, keep=1, checkpoint='', best=False):
    """The 12 real hands, 64 px tiny CLAMP, a checkpoint every epoch (~18 MiB each); with
    ``best``, validation every epoch and the best checkpoints by COCO AP and by EPE."""
    require_hand_samples()
    if best:
        checkpoint += "save_best=['coco/AP', 'EPE'], rule=['greater', 'less'], "
    return write_epoch_config(tmp_path / 'disk.py', epochs=epochs, keep=keep,
                              checkpoint=checkpoint, val_interval=1 if best else 1000,
                              extra=VAL_CFG.format(root=HAND_SAMPLES + '/') if best else '')


def build(cfg, work, resume=None, options=None):
    """The Runner of config file ``cfg`` (``options``: ``--cfg-options`` as a dict)."""
    from clamp_hand.apis.runner import build_runner
    config = Config.fromfile(cfg)
    config.merge_from_dict(options or {})
    return build_runner(config, work_dir=str(work), config_path=cfg, resume=resume)


def checkpoint_hook(runner):
    return next(h for h in runner.hooks if type(h).__name__ == 'AtomicCheckpointHook')


def test_estimate_matches_the_written_checkpoint(tmp_path):
    runner = build(config(tmp_path, epochs=1), tmp_path / 'work')
    runner.train()
    estimate = checkpoint_hook(runner).space_check['full']  # made before the first step
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
    size = checkpoint_bytes(runner.model, [runner.optim_wrapper.optimizer])  # built by train()
    assert msg.startswith(
        f'checkpoint folder {tmp_path / "work"} has 5 MiB free; the first checkpoint this run '
        f'writes needs {disk_space.needed_for(size) / MB:,.0f} MiB (~{size / MB:,.0f} MiB of '
        'weights and buffers and optimizer state); stopped before the first training step.')
    assert 'default_hooks.checkpoint.out_dir=DIR' in msg
    assert 'default_hooks.checkpoint.check_free_space=False skips this check' in msg
    assert runner.iter == 0 and not glob.glob(str(tmp_path / 'work' / '*.pth*'))
    after = runner.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # not one step taken


@pytest.mark.parametrize('options', [
    {'default_hooks.checkpoint.check_free_space': False},
    {'default_hooks.checkpoint.interval': -1, 'default_hooks.checkpoint.save_last': False}],
    ids=['check-switched-off', 'saves-nothing'])
def test_no_refusal_when_switched_off_or_nothing_is_saved(tmp_path, monkeypatch, options):
    runner = build(config(tmp_path, epochs=1), tmp_path / 'work', options=options)
    monkeypatch.setattr(disk_space, 'free_bytes', lambda path: 5 * MB)
    runner.train()
    assert runner.iter == 3


def test_too_little_space_for_the_kept_checkpoints_is_a_warning(tmp_path, monkeypatch):
    runner = build(config(tmp_path), tmp_path / 'work')  # keep 1: 2 on disk during a save
    monkeypatch.setattr(disk_space, 'free_bytes', lambda path: int(1.5 * checkpoint_bytes(
        runner.model, [runner.optim_wrapper.optimizer])))  # (built by train())
    runner.train()  # the run goes on
    size = checkpoint_hook(runner).space_check['full']
    log = open(glob.glob(str(tmp_path / 'work' / '*' / '*.log'))[0]).read()
    assert (f'has {1.5 * size / MB:,.0f} MiB free; this run writes ~{2 * size / MB:,.0f} MiB '
            f'more there at its fullest (2 checkpoints of ~{size / MB:,.0f} MiB at once: '
            'max_keep_ckpts=1 plus the one being written). A later save may run out of space; '
            'set default_hooks.checkpoint.out_dir to a larger disk.') in log
    assert osp.isfile(tmp_path / 'work' / 'epoch_2.pth')


def test_the_fullest_moment_is_what_the_plan_says(tmp_path, monkeypatch):
    """Every file in the checkpoint folder summed after each write (each checkpoint's
    temporary file, before the rename and before the oldest is removed) over 3 epochs with
    max_keep_ckpts=1 and two best metrics (mmengine re-saves the epoch's checkpoint after a
    new best): never more than the plan made before the first step."""
    runner = build(config(tmp_path, epochs=3, best=True), tmp_path / 'work')
    put, usage = LocalBackend.put, []

    def put_and_measure(self, obj, filepath):
        put(self, obj, filepath)
        folder = osp.dirname(str(filepath))
        names = [n for n in os.listdir(folder) if '.pth' in n]
        usage.append((sum(osp.getsize(osp.join(folder, n)) for n in names), sorted(names)))
    monkeypatch.setattr(LocalBackend, 'put', put_and_measure)
    runner.train()
    plan = checkpoint_hook(runner).space_check
    fullest = max(usage)
    assert plan['peak'] == 2 and plan['indicators'] == 2
    assert fullest[0] <= disk_space.needed_for(plan['new']), (fullest, plan)
    assert len(fullest[1]) <= plan['peak'] + plan['indicators'], fullest
    assert sum(n.startswith('best_') for n in fullest[1]) <= 2  # never two of one metric


def fill_disk_at(monkeypatch, name, nth=1):
    """The ``nth`` write of checkpoint ``name``'s temporary file goes to /dev/full: the
    kernel's own ENOSPC, at the write, as on a full disk."""
    if not os.access('/dev/full', os.W_OK):
        pytest.skip('/dev/full is not there to write to')
    put, seen = LocalBackend.put, []

    def put_on_full_disk(self, obj, filepath):
        if osp.basename(str(filepath)) == name + '.tmp':
            seen.append(filepath)
            if len(seen) == nth:
                os.symlink('/dev/full', filepath)
        return put(self, obj, filepath)
    monkeypatch.setattr(LocalBackend, 'put', put_on_full_disk)


def test_a_failed_rewrite_after_a_new_best_keeps_the_earlier_file(tmp_path, monkeypatch):
    """After epoch 1's first validation (a new best) mmengine rewrites epoch_1.pth to record
    it; that second write fails on a full disk: the message says so, epoch_1.pth as first
    written is intact, and the best checkpoints are on disk."""
    work = tmp_path / 'work'
    fill_disk_at(monkeypatch, 'epoch_1.pth', nth=2)
    with pytest.raises(DiskSpaceError) as info:
        build(config(tmp_path, best=True), work).train()
    msg = str(info.value)
    assert msg.startswith(f'checkpoint {work / "epoch_1.pth"} could not be rewritten (to record '
                          'the new best score) (No space left on device; '), msg
    assert 'the earlier epoch_1.pth is intact' in msg
    assert load_ckpt(work / 'epoch_1.pth')['meta']['epoch'] == 1
    assert sorted(p.name for p in work.glob('*.pth*')) == [
        'best_EPE_epoch_1.pth', 'best_coco_AP_epoch_1.pth', 'epoch_1.pth']


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
    assert 'MiB free there, the file needs ~' in msg
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
    assert 'more there at its fullest (2 checkpoints of' in out
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
    assert (f'error: DiskSpaceError: checkpoint folder {tiny / "work8"} has 8 MiB free; the '
            'first checkpoint this run writes needs ') in proc.stdout, proc.stdout[-3000:]
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


def test_install_stops_before_making_the_venv_on_a_small_disk(tmp_path):
    """No venv yet and a disk with 900 MiB: stops before anything is made, naming the
    folder, the sizes and the fix (nothing to remove before linking .venv elsewhere)."""
    venv = tmp_path / 'venv'
    env = dict(fake_df(tmp_path, 900), CLAMP_HAND_VENV=str(venv))
    proc = run_tool(['bash', 'tools/install.sh'], env=env, check=False)
    assert proc.returncode == 1, proc.stdout
    assert (f'error: not enough disk space for installing the pinned requirements into {venv}: '
            f'the file system of {tmp_path} has 900 MiB free, about 7000 MiB are needed.'
            ) in proc.stdout
    assert 'ln -s' in proc.stdout and 'CLAMP_HAND_SKIP_DISK_CHECK=1' in proc.stdout
    assert not venv.exists()


def test_install_checks_a_venv_that_has_no_torch_yet(tmp_path):
    base = osp.realpath(sys.executable)  # the interpreter under this venv: no torch of its own
    if subprocess.run([base, '-c', 'import torch'], capture_output=True).returncode == 0:
        pytest.skip(f'{base} has torch installed: no venv without torch to imitate')
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    os.symlink(base, venv / 'bin' / 'python')
    env = dict(fake_df(tmp_path, 900), CLAMP_HAND_VENV=str(venv))
    proc = run_tool(['bash', 'tools/install.sh'], env=env, check=False)
    assert proc.returncode == 1 and '900 MiB free, about 7000 MiB' in proc.stdout, proc.stdout
    assert '1/4' not in proc.stdout


def test_run_tests_stops_before_pytest_on_a_small_disk(tmp_path):
    env = fake_df(tmp_path, 500)
    env.update(TMPDIR=str(tmp_path), TEST_WORKERS='0')
    # were the check to let it through, pytest would only collect (not run) the tests
    proc = run_tool(['bash', 'tools/run_tests.sh', '--collect-only', 'tests/test_imports.py'],
                    env=env, check=False, timeout=300)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert (f"error: not enough disk space for the test suite's temporary files in {tmp_path}: "
            f'the file system of {tmp_path} has 500 MiB free, about 3000 MiB are needed.'
            ) in proc.stdout
    assert 'set TMPDIR' in proc.stdout
