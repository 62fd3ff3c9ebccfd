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


def require_hand_samples():
    if not osp.isdir(HAND_SAMPLES):
        pytest.skip(f'real hand samples not found at {HAND_SAMPLES} (../shared/data/hand_samples)')
    return HAND_SAMPLES


def tool_env(env=None, omp_threads='2'):
    """The environment a tool runs in: this interpreter first on PATH (and as $PYTHON for the
    shell tools), ``OMP_NUM_THREADS`` unless set, then ``env``."""
    full_env = dict(os.environ)
    full_env['PATH'] = osp.dirname(sys.executable) + os.pathsep + full_env.get('PATH', '')
    full_env['PYTHON'] = sys.executable
    full_env.setdefault('OMP_NUM_THREADS', omp_threads)
    full_env.update(env or {})
    return full_env


def tool_args(args):
    """``tools/x.py ...`` runs with this interpreter; anything else as given."""
    return [sys.executable] + list(args) if str(args[0]).endswith('.py') else list(args)


def run_tool(args, timeout=900, env=None, check=True, cwd=ROOT):
    """Run a command from the repo root (or ``cwd``) with this interpreter first on PATH;
    returns the CompletedProcess (stdout and stderr merged)."""
    args = tool_args(args)
    proc = subprocess.run(args, cwd=cwd, env=tool_env(env), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{" ".join(map(str, args))} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-6000:]}')
    return proc


def start_tool(args, log_path, env=None):
    """Start a command as ``run_tool`` runs it, in the background, stdout and stderr to
    ``log_path``; returns the Popen (``.wait()`` it)."""
    with open(log_path, 'w') as log:
        return subprocess.Popen(tool_args(args), cwd=ROOT, env=tool_env(env), stdout=log,
                                stderr=subprocess.STDOUT)


REAL_HANDS_EPOCHS, REAL_HANDS_VAL_INTERVAL = 15, 5  # x 20 iterations of 12 images


@pytest.fixture(scope='session')
def trained_hand_samples(tmp_path_factory):
    """The tiny CLAMP config trained through ``tools/train.py`` on the 12 real hands for 15
    epochs (20 iterations each, one log row per epoch), validated after epochs 5, 10 and 15;
    ``(work_dir, checkpoint)``. Shared by the tests that need a trained model (learning on real
    images, inference, drawing, training curves): one run for all of them."""
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


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``-n N --dist loadgroup``, what ``tools/run_tests.sh`` runs): one
    group per test file, and files whose tests share a session-scoped fixture (a trained
    model, the distributed runs, the Slurm cluster) in one group, so each such fixture is built
    once, in one worker. Without xdist the marks do nothing."""
    parent = {}

    def find(f):
        while parent.setdefault(f, f) != f:
            f = parent[f]
        return f

    owner = {}  # session fixture name -> first file using it
    for item in items:
        path = item.nodeid.split('::')[0]
        find(path)
        defs = getattr(getattr(item, '_fixtureinfo', None), 'name2fixturedefs', {}) or {}
        for name, fixturedefs in defs.items():
            if any(d.scope == 'session' and name != '_clamp_hand_scope' and
                   not name.startswith(('tmp_path', 'worker_id', 'testrun_uid'))
                   for d in fixturedefs):
                other = owner.setdefault(name, path)
                parent[find(path)] = find(other)
    for item in items:
        item.add_marker(pytest.mark.xdist_group(find(item.nodeid.split('::')[0])))
