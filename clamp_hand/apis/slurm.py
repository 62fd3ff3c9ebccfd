"""``--launcher slurm``: tasks started by ``srun`` (``tools/slurm_train.sh``,
``tools/slurm_test.sh``, ``tools/slurm_sbatch.sh``), one per GPU, or one per CPU process on a
partition without GPUs.

mmengine's own Slurm initialisation (``mmengine.dist.utils._init_dist_slurm``) derives the
torch.distributed variables from Slurm's, but only inside the Runner, after the data loaders
have been sized for ``WORLD_SIZE`` (``fit_dataloaders_to_machine``), always with
``torch.cuda.set_device`` (fails on CPU nodes) and on port 29500 for every job (two jobs on
one node collide). ``slurm_dist_env`` sets them before the Runner exists, with a port derived
from the job id; mmengine then keeps ``MASTER_ADDR``/``MASTER_PORT`` and recomputes the same
ranks on GPU nodes, and ``init_distributed_if_needed`` starts gloo on CPU nodes.

A job that Slurm requeues (preemption, node failure, ``scontrol requeue``; ``sbatch
--requeue``) re-runs the same command with ``SLURM_RESTART_COUNT`` > 0;
``resume_after_requeue`` turns that into ``--resume`` (the latest checkpoint in the work dir).
"""
import os
import re
import subprocess
from typing import MutableMapping, Optional

from mmengine.logging import print_log

#: base of the default master port: 10000 + job id mod 20000 stays below Linux's ephemeral
#: range (32768-60999), so the port is not taken by an outgoing connection
PORT_BASE, PORT_SPAN = 10000, 20000


def first_host(nodelist: str) -> str:
    """First host name of a Slurm node list (``node[03-05,7],gpu1`` -> ``node03``), via
    ``scontrol show hostnames`` when it is there, else by parsing the compressed form."""
    try:
        out = subprocess.run(['scontrol', 'show', 'hostnames', nodelist], capture_output=True,
                             text=True, timeout=30)
        if out.returncode == 0 and out.stdout.split():
            return out.stdout.split()[0]
    except (OSError, subprocess.TimeoutExpired):
        pass
    m = re.match(r'([^,\[]+)(?:\[([^\],-]+))?', nodelist)
    if not m:
        raise ValueError(f'cannot read the Slurm node list {nodelist!r}')
    return m.group(1) + (m.group(2) or '')


def slurm_dist_env(environ: Optional[MutableMapping] = None) -> dict:
    """Set (and return) ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
    ``MASTER_PORT`` in ``environ`` (default ``os.environ``) from an srun task's
    ``SLURM_PROCID``, ``SLURM_LOCALID``, ``SLURM_NTASKS`` and ``SLURM_STEP_NODELIST`` (or
    ``SLURM_NODELIST``). ``MASTER_ADDR``/``MASTER_PORT`` already set are kept (mmengine's
    rule); the default port is ``PORT_BASE + SLURM_JOB_ID % PORT_SPAN``.

    Raises:
        RuntimeError: not inside an srun task (``SLURM_PROCID`` missing): ``--launcher slurm``
            needs ``srun``, e.g. through ``tools/slurm_train.sh``.
    """
    env = os.environ if environ is None else environ
    missing = [k for k in ('SLURM_PROCID', 'SLURM_NTASKS') if k not in env]
    if missing:
        raise RuntimeError(f'--launcher slurm outside an srun task ({", ".join(missing)} not '
                           'set): start it with tools/slurm_train.sh / tools/slurm_test.sh '
                           '(or srun), or use --launcher none / pytorch')
    nodelist = env.get('SLURM_STEP_NODELIST') or env.get('SLURM_NODELIST') or 'localhost'
    out = dict(RANK=env['SLURM_PROCID'], WORLD_SIZE=env['SLURM_NTASKS'],
               LOCAL_RANK=env.get('SLURM_LOCALID', '0'))
    out['MASTER_ADDR'] = env.get('MASTER_ADDR') or first_host(nodelist)
    out['MASTER_PORT'] = env.get('MASTER_PORT') or str(
        PORT_BASE + int(env.get('SLURM_JOB_ID', '0')) % PORT_SPAN)
    env.update(out)
    return out


def resume_after_requeue(resume: Optional[str], launcher: str,
                         environ: Optional[MutableMapping] = None) -> Optional[str]:
    """``resume`` unchanged, except ``'auto'`` (latest checkpoint of the work dir; a fresh
    start when there is none) for a requeued Slurm job (``SLURM_RESTART_COUNT`` > 0)."""
    env = os.environ if environ is None else environ
    restarts = int(env.get('SLURM_RESTART_COUNT') or 0)
    if resume is None and launcher == 'slurm' and restarts > 0:
        print_log(f'requeued Slurm job (SLURM_RESTART_COUNT={restarts}): resuming from the '
                  'latest checkpoint in the work dir', logger='current')
        return 'auto'
    return resume


__all__ = ['first_host', 'slurm_dist_env', 'resume_after_requeue']
