"""Shared test helpers: paths, the real hand samples, and running the tools as a user would."""
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
HAND_SAMPLES = osp.normpath(osp.join(ROOT, '..', 'shared', 'data', 'hand_samples'))
TINY_HAND_SAMPLES_CFG = osp.join(ROOT, 'configs', 'hand_samples',
                                 'clamp_vit-tiny_1xb12-40e_hand-samples-128x128.py')

# Config text: the top-down train and test pipelines at 128 px (what the tiny models take;
# the dataset configs resize to 256 px). Needs a ``codec`` defined before it.
PIPELINES_128 = """
train_pipeline = [
    dict(type='LoadImage'), dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='TopdownAffine', input_size=(128, 128)),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs', pack_transformed=True)]
val_pipeline = [
    dict(type='LoadImage'), dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=(128, 128)), dict(type='PackPoseInputs')]
"""


@pytest.fixture(scope='session', autouse=True)
def _temp_files_under_basetemp(tmp_path_factory):
    """Temporary files of this process and of every tool, launcher and tracker it starts
    (tempfile, TMPDIR: wandb's media folders, torchelastic's logs, multiprocessing's sockets)
    go under pytest's base temp folder, which tools/run_tests.sh has removed when the run
    passes, instead of piling up in /tmp run after run."""
    import tempfile
    tmp = tmp_path_factory.mktemp('tmpdir', numbered=False)
    saved = os.environ.get('TMPDIR'), tempfile.tempdir
    os.environ['TMPDIR'] = tempfile.tempdir = str(tmp)
    yield
    if saved[0] is None:
        os.environ.pop('TMPDIR', None)
    else:
        os.environ['TMPDIR'] = saved[0]
    tempfile.tempdir = saved[1]


def require_hand_samples():
    if not osp.isdir(HAND_SAMPLES):
        pytest.skip(f'real hand samples not found at {HAND_SAMPLES} (../shared/data/hand_samples)')
    return HAND_SAMPLES


# The 12 real hands as one in-order evaluation loader of 64 px crops, as the text of a config
# template (``.format(root=...)``-ed with the rest of it: hence the doubled braces); the config
# inherits a tiny config that has ``dataset_info``. ``{loader}``: the loader's key.
_HAND_SAMPLES_EVAL_64 = '''
_eval_64 = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale', padding=1.25),
            dict(type='TopdownAffine', input_size=(64, 64)), dict(type='PackPoseInputs')]
{loader} = dict(
    _delete_=True, batch_size=12, num_workers=0, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type='ConcatDataset', datasets=[
        dict(type='HandKeypointDataset', data_root={root!r}, metainfo={{{{_base_.dataset_info}}}},
             ann_file=f'{{name}}/test_{{name}}.json', data_prefix=dict(img=f'{{name}}/'),
             test_mode=True, eval_from_ann_file=False, pipeline=_eval_64)
        for name in ('onehand10k', 'freihand')]))
'''


def hand_samples_eval_cfg(loader):
    """Config-template text setting ``loader`` ('val_dataloader', 'test_dataloader') to the 12
    real hands (``{root}`` still to format, with the template it joins)."""
    return _HAND_SAMPLES_EVAL_64.replace('{loader}', loader)


def tool_env(env=None, omp_threads='2', base_env=None):
    """The environment a tool runs in: ``base_env`` (default: this process's), this interpreter
    first on PATH (and as $PYTHON for the shell tools), ``OMP_NUM_THREADS`` unless set (not at
    all when ``omp_threads`` is None), then ``env``."""
    full_env = dict(os.environ if base_env is None else base_env)
    full_env['PATH'] = osp.dirname(sys.executable) + os.pathsep + full_env.get('PATH', '')
    full_env['PYTHON'] = sys.executable
    if omp_threads is not None:
        full_env.setdefault('OMP_NUM_THREADS', omp_threads)
    full_env.update(env or {})
    return full_env


def tool_args(args):
    """``tools/x.py ...`` runs with this interpreter; anything else as given."""
    return [sys.executable] + list(args) if str(args[0]).endswith('.py') else list(args)


def run_tool(args, timeout=900, env=None, check=True, cwd=ROOT, **env_options):
    """Run a command from the repo root (or ``cwd``) with this interpreter first on PATH;
    returns the CompletedProcess (stdout and stderr merged). ``env_options``: ``base_env``,
    ``omp_threads`` of :func:`tool_env`."""
    args = tool_args(args)
    proc = subprocess.run(args, cwd=cwd, env=tool_env(env, **env_options), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{" ".join(map(str, args))} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-6000:]}')
    return proc


def load_tool(path):
    """The module of the Python tool at ``path`` (relative to the repo root, e.g.
    ``'tools/train.py'``), loaded in this process: ``load_tool('tools/train.py').main([...])``
    runs the tool as its command line does, without the seconds of a new interpreter's imports
    (for tests whose point is not the process itself: its exit, signals, a launcher)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'tool_' + path.replace('/', '_').rsplit('.', 1)[0], osp.join(ROOT, path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def start_tool(args, log_path, env=None):
    """Start a command as ``run_tool`` runs it, in the background, stdout and stderr to
    ``log_path``; returns the Popen (``.wait()`` it)."""
    with open(log_path, 'w') as log:
        return subprocess.Popen(tool_args(args), cwd=ROOT, env=tool_env(env), stdout=log,
                                stderr=subprocess.STDOUT)


# x 20 iterations of 12 images: 8 epochs end at AP 0.99, PCK@0.2 1.0, EPE 0.66 px on this
# machine (tests/test_train_real_hands.py asks >= 0.8, >= 0.9, < 3 px); the docs' overfit figure
# (docs/performance.md) is 15 epochs, twice the time for no more than the tests check.
REAL_HANDS_EPOCHS, REAL_HANDS_VAL_INTERVAL = 8, 2


@pytest.fixture(scope='session')
def trained_hand_samples(tmp_path_factory):
    """The tiny CLAMP config trained through ``tools/train.py`` on the 12 real hands for
    ``REAL_HANDS_EPOCHS`` epochs (20 iterations each, one log row per epoch), validated every
    ``REAL_HANDS_VAL_INTERVAL`` epochs; ``(work_dir, checkpoint)``. Shared by the tests that
    need a trained model (learning on real images, inference, drawing, training curves): one
    run for all of them."""
    require_hand_samples()
    work = tmp_path_factory.mktemp('hand_samples_run')
    epochs = REAL_HANDS_EPOCHS
    run_tool(['tools/train.py', TINY_HAND_SAMPLES_CFG, '--work-dir', str(work), '--cfg-options',
              f'max_epochs={epochs}', f'train_cfg.max_epochs={epochs}',
              f'train_cfg.val_interval={REAL_HANDS_VAL_INTERVAL}',
              f'default_hooks.checkpoint.interval={epochs}', f'param_scheduler.1.end={epochs}'])
    return str(work), osp.join(str(work), f'epoch_{epochs}.pth')


@pytest.fixture(scope='session', autouse=True)
def _clamp_hand_scope():
    from clamp_hand.registry import register_all_modules
    register_all_modules()


# Test files that share a session-scoped fixture run in one pytest-xdist worker, so that the
# fixture is built once (tools/run_tests.sh runs `-n 2`): file -> the file whose worker takes it.
# pytest_collection_modifyitems below checks that this table covers every shared fixture.
SAME_WORKER = {
    'tests/test_train_real_hands.py': 'tests/test_inference.py',  # trained_hand_samples
    'tests/test_slurm.py': 'tests/test_distributed.py',  # the distributed-check runs
}


def _worker_group(nodeid: str) -> str:
    path = nodeid.split('::', 1)[0]
    return SAME_WORKER.get(path, path)


# Seconds each worker group takes (its files run alone in one process on the 2-core machine:
# `pytest FILES --durations=0`, setup + call + teardown of its tests, rounded; in the two-worker
# suite each takes 1.1-1.6x as long), for the scheduler below to hand out the longest first.
# Groups not listed count 0.2 s a test. Only the order depends on these figures: a stale one
# costs balance, never a test.
GROUP_SECONDS = {
    'tests/test_inference.py': 84,  # + test_train_real_hands.py (trained_hand_samples)
    'tests/test_distributed.py': 72,  # + test_slurm.py (the distributed runs, the Slurm jobs)
    'tests/test_quickstart.py': 42,
    'tests/test_hand_benchmarks.py': 29,
    'tests/test_checkpoint_safety.py': 27,
    'tests/test_reliability_resume.py': 25,
    'tests/test_gpu_report.py': 24,
    'tests/test_hand_datasets_train.py': 21,
    'tests/test_reliability_disk_full.py': 21,
    'tests/test_reliability_bad_input.py': 21,
    'tests/test_tracking.py': 20,
    'tests/test_seed_checkpoint_conversion.py': 17,
    'tests/test_model.py': 16,
    'tests/test_reliability_dist_eval.py': 14,
    'tests/test_onnx_export.py': 14,
    'tests/test_benchmark.py': 11,
    'tests/test_preflight.py': 10,
    'tests/test_seed_configs_metric.py': 9,
    'tests/test_synthetic_hands.py': 8,
    'tests/test_runner_options.py': 8,
    'tests/test_imports.py': 8,
    'tests/test_keypoint_order.py': 7,
    'tests/test_docs.py': 7,
    'tests/test_reliability_checkpoint.py': 6,
    'tests/test_reliability_bad_config.py': 6,
    'tests/test_clip_weights.py': 5,
    'tests/test_config_and_browse_tools.py': 5,
}


def _group_seconds(group: str, num_tests: int) -> float:
    return GROUP_SECONDS.get(group, 0.2 * num_tests)


@pytest.hookimpl(optionalhook=True)  # an xdist hook: pytest without xdist must not fail on it
def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist: whole test files per worker (as ``--dist loadfile``), the files of
    ``SAME_WORKER`` together, the longest group (``GROUP_SECONDS``) first whenever a worker
    asks for work, so that the workers end together: the longest-first rule, which leaves
    short groups for the end. (``--dist loadgroup`` cannot group with pytest 9: xdist 3.8
    renames items through ``Item._nodeid``, which pytest 9 no longer reads; xdist's own order
    is by number of tests, which puts a one-test group of a minute and a half last.)"""
    from xdist.scheduler import LoadScopeScheduling

    class FileGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _worker_group(nodeid)

        def _assign_work_unit(self, node):
            longest = max(self.workqueue,
                          key=lambda g: _group_seconds(g, len(self.workqueue[g])))
            self.workqueue.move_to_end(longest, last=False)  # xdist hands out the first
            super()._assign_work_unit(node)

    return FileGroupScheduling(config, log)


# Session fixtures that every worker sets up for itself, by design (cheap, per process).
PER_WORKER_FIXTURES = ('_clamp_hand_scope', '_temp_files_under_basetemp')


def pytest_collection_modifyitems(config, items):
    """Fail at collection when two test files share a session-scoped fixture (a trained model,
    the distributed runs, the Slurm cluster) but ``SAME_WORKER`` would send them to different
    workers, where the fixture would be built twice."""
    users = {}  # session fixture name -> worker groups of the files using it
    for item in items:
        defs = getattr(getattr(item, '_fixtureinfo', None), 'name2fixturedefs', {}) or {}
        for name, fixturedefs in defs.items():
            if any(d.scope == 'session' and name not in PER_WORKER_FIXTURES and
                   not name.startswith(('tmp_path', 'worker_id', 'testrun_uid'))
                   for d in fixturedefs):
                users.setdefault(name, set()).add(_worker_group(item.nodeid))
    split = {name: sorted(groups) for name, groups in users.items() if len(groups) > 1}
    if split:
        raise pytest.UsageError(f'session fixtures used from test files that would run in '
                                f'different xdist workers: {split}; add the files to '
                                'SAME_WORKER in tests/conftest.py')
