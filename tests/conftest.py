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


def require_hand_samples():
    if not osp.isdir(HAND_SAMPLES):
        pytest.skip(f'real hand samples not found at {HAND_SAMPLES} (../shared/data/hand_samples)')
    return HAND_SAMPLES


def run_tool(args, timeout=900, env=None, check=True, cwd=ROOT):
    """Run a command from the repo root (or ``cwd``) with this interpreter first on PATH;
    returns the CompletedProcess (stdout and stderr merged)."""
    full_env = dict(os.environ)
    full_env['PATH'] = osp.dirname(sys.executable) + os.pathsep + full_env.get('PATH', '')
    full_env['PYTHON'] = sys.executable
    full_env.setdefault('OMP_NUM_THREADS', '2')
    full_env.update(env or {})
    if args[0].endswith('.py'):
        args = [sys.executable] + list(args)
    proc = subprocess.run(args, cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{" ".join(map(str, args))} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-6000:]}')
    return proc


@pytest.fixture(scope='session', autouse=True)
def _clamp_hand_scope():
    from clamp_hand.registry import register_all_modules
    register_all_modules()
