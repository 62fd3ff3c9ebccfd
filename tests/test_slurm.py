"""Slurm launch on a real Slurm: a one-node cluster of Debian's slurmctld/slurmd/munged started
for the session (_helpers_slurm.py; CPUs only, so the tasks fall back to gloo).

- ``tools/slurm_train.sh`` runs the distributed-check config as a 2-task job and ends with the
  weights of the 2-process ``tools/dist_train.sh`` run (_helpers_dist_runs.py); with
  ``--vis-backend tensorboard`` only rank 0 writes.
- ``tools/slurm_test.sh`` (2 tasks) prints the metrics of the 1-process ``tools/test.py``.
- ``tools/slurm_sbatch.sh`` submitted with sbatch and requeued mid-run (``scontrol requeue``,
  as a preemption does) resumes from its latest checkpoint with the same command and ends with
  the same weights.
"""
import glob
import re
import time

import pytest

from _helpers_dist_runs import DIST_CHECK_CFG, assert_same_weights, dist_train_run  # noqa: F401
from _helpers_slurm import slurm_cluster  # noqa: F401
from conftest import (HAND_SAMPLES, hand_samples_eval_cfg, load_tool, require_hand_samples,
                      run_tool)

# 2 CPU tasks on one node, one core each (CI machines have 2 cores)
TASKS = dict(GPUS='2', GPUS_PER_NODE='2', CPUS_PER_TASK='1', OMP_NUM_THREADS='1')

TEST_CFG = '''
_base_ = [{base!r}]
''' + hand_samples_eval_cfg('test_dataloader') + '''test_cfg = dict(_delete_=True, type='TestLoop')
test_evaluator = [dict(type='CocoMetric', nms_mode='none'),
                  dict(type='PCKAccuracy', thr=0.2, norm_item='bbox'),
                  dict(type='AUC', norm_factor=30), dict(type='EPE')]
'''


def slurm_run(cluster, args, env=None, timeout=900, check=True):
    """Run a command against ``cluster`` from the repo root (this interpreter's tools), in the
    cluster's environment, OMP_NUM_THREADS as the caller sets it."""
    return run_tool(args, timeout=timeout, env=env, check=check, base_env=cluster.env,
                    omp_threads=None)


def parse_table(stdout):
    lines = [ln for ln in stdout.strip().splitlines() if '|' in ln]
    head = [h.strip() for h in lines[-2].split('|')]
    return dict(zip(head, [float(v) for v in lines[-1].split('|')]))


def job_state(cluster, job):
    out = slurm_run(cluster, ['scontrol', 'show', 'job', str(job)], check=False).stdout
    m = re.search(r'JobState=(\w+)', out)
    return m.group(1) if m else 'UNKNOWN'


@pytest.fixture(scope='module')
def slurm_train(slurm_cluster, tmp_path_factory):  # noqa: F811
    require_hand_samples()
    work = tmp_path_factory.mktemp('slurm_train')
    t0 = time.time()
    out = slurm_run(slurm_cluster, ['bash', 'tools/slurm_train.sh', slurm_cluster.partition,
                                    'clamp-dist-check', DIST_CHECK_CFG, str(work),
                                    '--vis-backend', 'tensorboard'], env=TASKS)
    print(f'slurm_train.sh: {time.time() - t0:.1f} s')
    return work, out.stdout


def test_slurm_train_matches_dist_train(slurm_train, dist_train_run):  # noqa: F811
    (work, out), (dual, _) = slurm_train, dist_train_run
    assert "partition 'clamp' has no GPUs: 2 CPU processes with gloo" in out
    assert 'Distributed launcher: slurm' in out and 'Distributed training: True' in out
    assert 'Saving checkpoint at 4 iterations' in out
    assert_same_weights(work / 'iter_4.pth', dual / 'iter_4.pth')
    # only rank 0 logs to the trackers
    events = glob.glob(str(work / '*' / 'vis_data' / 'events.out.tfevents.*'))
    assert len(events) == 1, events
    assert len(glob.glob(str(work / '*' / 'vis_data' / 'scalars.json'))) == 1


def test_slurm_test_gives_the_single_process_metrics(slurm_train, slurm_cluster,  # noqa: F811
                                                      tmp_path, capsys):
    cfg = tmp_path / 'test_12_hands.py'
    cfg.write_text(TEST_CFG.format(base=DIST_CHECK_CFG, root=HAND_SAMPLES + '/'))
    ckpt = str(slurm_train[0] / 'iter_4.pth')
    # a single process: tools/test.py's main in this one
    load_tool('tools/test.py').main([str(cfg), ckpt, '--work-dir', str(tmp_path / 'one')])
    one = capsys.readouterr().out
    two = slurm_run(slurm_cluster, ['bash', 'tools/slurm_test.sh', slurm_cluster.partition,
                                    'clamp-test', str(cfg), ckpt,
                                    '--work-dir', str(tmp_path / 'two')], env=TASKS)
    assert 'Distributed training: True' in two.stdout
    m1, m2 = parse_table(one), parse_table(two.stdout)
    print('metrics (tools/test.py, slurm_test.sh):', m1, m2)
    assert m1.keys() == m2.keys() and {'AP', 'PCK@0.2', 'EPE'} <= m1.keys()
    for k in m1:
        assert m2[k] == pytest.approx(m1[k], abs=2e-4), k
    assert m1['EPE'] > 0  # imperfect predictions: a real comparison


def test_slurm_env_to_torch_distributed_variables():
    """What a task started by srun gets (no cluster needed)."""
    from clamp_hand.apis.slurm import first_host, resume_after_requeue, slurm_dist_env
    assert first_host('node[03-05,7],gpu1') == 'node03'
    assert first_host('gpu1') == 'gpu1'
    env = dict(SLURM_PROCID='3', SLURM_NTASKS='4', SLURM_LOCALID='1', SLURM_JOB_ID='123',
               SLURM_STEP_NODELIST='gpu[7-8]', SLURM_NODELIST='gpu[1-8]')
    assert slurm_dist_env(env) == dict(RANK='3', WORLD_SIZE='4', LOCAL_RANK='1',
                                       MASTER_ADDR='gpu7', MASTER_PORT='10123')
    assert env['RANK'] == '3' and env['MASTER_PORT'] == '10123'
    kept = dict(env, MASTER_ADDR='10.0.0.1', MASTER_PORT='29999')
    assert slurm_dist_env(kept)['MASTER_ADDR'] == '10.0.0.1' and kept['MASTER_PORT'] == '29999'
    with pytest.raises(RuntimeError, match='outside an srun task .*tools/slurm_train.sh'):
        slurm_dist_env({})
    assert resume_after_requeue(None, 'slurm', dict(SLURM_RESTART_COUNT='1')) == 'auto'
    assert resume_after_requeue(None, 'slurm', dict(SLURM_RESTART_COUNT='0')) is None
    assert resume_after_requeue(None, 'slurm', {}) is None
    assert resume_after_requeue('ckpt.pth', 'slurm', dict(SLURM_RESTART_COUNT='2')) == 'ckpt.pth'
    assert resume_after_requeue(None, 'pytorch', dict(SLURM_RESTART_COUNT='2')) is None


def test_sbatch_job_requeued_mid_run_resumes(slurm_cluster, dist_train_run,  # noqa: F811
                                             tmp_path):
    require_hand_samples()
    work, log = tmp_path / 'work', tmp_path / 'slurm.out'
    # checkpoints every iteration, so that the requeue lands between two of them
    job = slurm_run(slurm_cluster, [
        'sbatch', '--parsable', '-p', slurm_cluster.partition, '--gres=none',
        '--ntasks-per-node=2', '--cpus-per-task=1', f'--output={log}',
        'tools/slurm_sbatch.sh', DIST_CHECK_CFG, str(work),
        '--cfg-options', 'default_hooks.checkpoint.interval=1'],
        env=dict(OMP_NUM_THREADS='1')).stdout.strip().split(';')[0]

    def wait(cond, what, timeout=600, interval=0.05):
        t0, n = time.time(), 0
        while not cond():
            n += 1
            state = job_state(slurm_cluster, job) if n * interval >= 1 else 'RUNNING'
            n = 0 if n * interval >= 1 else n
            if state in ('FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY'):
                break
            if time.time() - t0 > timeout:
                state = f'{state}, timed out'
                break
            time.sleep(interval)
        else:
            return
        text = log.read_text() if log.exists() else '(no output)'
        raise AssertionError(f'job {job} {state} waiting for {what}:\n{text[-6000:]}')

    wait(lambda: (work / 'last_checkpoint').exists(), 'the first checkpoint')
    slurm_run(slurm_cluster, ['scontrol', 'requeue', job])
    # Slurm holds a requeued job for ~2 minutes (BeginTime); let it start now. An update sent
    # while the job is still completing is accepted but lost: repeat it while it is pending.
    t0, pending = time.time(), False
    while time.time() - t0 < 180:
        state = job_state(slurm_cluster, job)
        if state == 'PENDING':
            pending = True
            slurm_run(slurm_cluster, ['scontrol', 'update', f'jobid={job}', 'StartTime=now'],
                      check=False)
        elif pending:
            break
        time.sleep(0.2)
    wait(lambda: job_state(slurm_cluster, job) == 'COMPLETED', 'the requeued run to finish',
         interval=1)

    text = log.read_text()
    assert '(restart 0)' in text and '(restart 1)' in text, text[-3000:]
    second = text[text.index('(restart 1)'):]
    assert 'requeued Slurm job' in second
    m = re.search(r'resumed epoch: \d+, iter: (\d+)', second)
    assert m and 0 < int(m.group(1)) < 4, second[-3000:]  # requeued mid-run, not at the end
    assert f'Advance dataloader {m.group(1)} steps' in second
    assert 'Saving checkpoint at 4 iterations' in second
    assert_same_weights(work / 'iter_4.pth', dist_train_run[0] / 'iter_4.pth')
