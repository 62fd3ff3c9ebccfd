"""A real one-node Slurm cluster on localhost for the tests (``slurm_cluster`` fixture).

It runs Debian's ``munged``, ``slurmctld`` and ``slurmd`` (packages ``munge slurmctld slurmd
slurm-client``; ``tools/run_tests.sh`` installs them when run as root) as child processes of the
test run, everything (munge key and socket, slurm.conf, state, spool, logs) in a temporary
folder, on free ports, so that it touches no system Slurm or munge. No systemd and no cgroups:
``ProctrackType=proctrack/linuxproc`` and ``TaskPlugin=task/none``. The node line is what
``slurmd -C`` reports for this machine, so CPUs match.

When the cluster cannot be started (not root, packages missing and not installable, a daemon
fails) the fixture skips with the reason and the tail of the daemon's log. At teardown every
process of the cluster (the three daemons, and any ``slurmstepd`` or job task still holding
this cluster's ``SLURM_CONF`` in its environment) is killed, and the fixture asserts that none
is left.
"""
import os
import os.path as osp
import shutil
import signal
import socket
import subprocess
import time

import pytest

DAEMONS = ('munged', 'slurmctld', 'slurmd')
CLIENTS = ('sinfo', 'srun', 'sbatch', 'scontrol', 'squeue')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _tail(path, n=30) -> str:
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-n:])
    except OSError:
        return '(no log)'


def missing_slurm_programs():
    """Names of the munge/Slurm programs not on PATH (or in /usr/sbin)."""
    path = os.environ.get('PATH', '') + os.pathsep + '/usr/sbin' + os.pathsep + '/sbin'
    return [p for p in DAEMONS + CLIENTS if shutil.which(p, path=path) is None]


class LocalSlurm:
    """One-node Slurm on localhost under ``root_dir``; ``start()``, then ``env`` holds what a
    client (sinfo, srun, sbatch, tools/slurm_*.sh) needs (``SLURM_CONF``), ``partition`` is the
    partition name; ``stop()`` kills every process of it and returns the pids still alive
    (none expected)."""

    partition = 'clamp'

    def __init__(self, root_dir):
        self.root = str(root_dir)
        self.procs = {}
        self.conf = osp.join(self.root, 'slurm.conf')
        self.munge_socket = osp.join(self.root, 'munge', 'munge.socket')
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        self.env['PATH'] = self.env.get('PATH', '') + ':/usr/sbin:/sbin'
        for var in [k for k in self.env if k.startswith('SLURM_') and k != 'SLURM_CONF']:
            del self.env[var]  # no job context of an outer Slurm

    # -- setup -----------------------------------------------------------------------------
    def _munge(self):
        d = osp.dirname(self.munge_socket)
        os.makedirs(d, mode=0o700, exist_ok=True)
        key = osp.join(d, 'munge.key')
        with open(key, 'wb') as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        log = osp.join(d, 'munged.log')
        self._spawn('munged', ['munged', '--foreground', '--force', f'--socket={self.munge_socket}',
                               f'--key-file={key}', f'--pid-file={d}/munged.pid',
                               f'--log-file={log}', f'--seed-file={d}/munged.seed'], log)
        self._wait(lambda: osp.exists(self.munge_socket), 'munged', log, 20)

    def _write_conf(self):
        node = subprocess.run(['slurmd', '-C'], env=self.env, capture_output=True, text=True,
                              check=True).stdout.splitlines()[0]
        assert node.startswith('NodeName='), node
        self.node = node.split()[0].split('=', 1)[1]
        for sub in ('state', 'spool', 'log'):
            os.makedirs(osp.join(self.root, sub), exist_ok=True)
        r = self.root
        lines = [
            'ClusterName=clamptest',
            f'SlurmctldHost={self.node}(127.0.0.1)',
            f'SlurmctldPort={_free_port()}',
            f'SlurmdPort={_free_port()}',
            'SlurmUser=root', 'SlurmdUser=root',
            'AuthType=auth/munge', 'CredType=cred/munge',
            f'AuthInfo=socket={self.munge_socket}',
            'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none',
            'SelectType=select/cons_tres', 'SelectTypeParameters=CR_CPU',
            'SchedulerType=sched/backfill', 'MpiDefault=none', 'ReturnToService=2',
            'JobAcctGatherType=jobacct_gather/none',
            'AccountingStorageType=accounting_storage/none',
            'JobCompType=jobcomp/none', 'JobRequeue=1', 'KillWait=5', 'MinJobAge=600',
            'InactiveLimit=0', 'SlurmctldTimeout=30', 'SlurmdTimeout=30',
            'PlugStackConfig=/dev/null',
            f'StateSaveLocation={r}/state', f'SlurmdSpoolDir={r}/spool',
            f'SlurmctldPidFile={r}/slurmctld.pid', f'SlurmdPidFile={r}/slurmd.pid',
            f'SlurmctldLogFile={r}/log/slurmctld.log', f'SlurmdLogFile={r}/log/slurmd.log',
            f'{node} NodeAddr=127.0.0.1 State=UNKNOWN',
            f'PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE '
            'State=UP',
        ]
        with open(self.conf, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def _spawn(self, name, cmd, log):
        out = open(log + '.stdout', 'w')
        self.procs[name] = subprocess.Popen(cmd, env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT, cwd=self.root)

    def _wait(self, ready, name, log, timeout):
        t0 = time.time()
        while time.time() - t0 < timeout:
            if ready():
                return
            for n, p in self.procs.items():
                if p.poll() is not None:
                    raise RuntimeError(f'{n} exited with {p.returncode}:\n{_tail(log)}\n'
                                       f'{_tail(log + ".stdout")}')
            time.sleep(0.3)
        raise RuntimeError(f'{name} not ready after {timeout} s:\n{_tail(log)}')

    def _node_state(self):
        p = subprocess.run(['sinfo', '-h', '-N', '-o', '%T'], env=self.env, capture_output=True,
                           text=True)
        return p.stdout.strip() if p.returncode == 0 else ''

    def start(self, timeout=60):
        """Start munged, slurmctld and slurmd; wait until ``sinfo`` reports the node idle."""
        self._munge()
        self._write_conf()
        log = osp.join(self.root, 'log')
        self._spawn('slurmctld', ['slurmctld', '-D', '-c', '-i', '-f', self.conf],
                    osp.join(log, 'slurmctld.log'))
        self._spawn('slurmd', ['slurmd', '-D', '-f', self.conf, '-N', self.node],
                    osp.join(log, 'slurmd.log'))
        self._wait(lambda: self._node_state() == 'idle', 'node (sinfo idle)',
                   osp.join(log, 'slurmd.log'), timeout)
        return self

    # -- teardown --------------------------------------------------------------------------
    def cluster_pids(self):
        """Pids of processes of this cluster: its daemons and anything (slurmstepd, job
        tasks) whose environment names this cluster's slurm.conf or munge socket."""
        own = {p.pid for p in self.procs.values() if p.poll() is None}
        marks = (f'SLURM_CONF={self.conf}'.encode(), self.munge_socket.encode())
        for pid in os.listdir('/proc'):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f'/proc/{pid}/environ', 'rb') as f:
                    env = f.read()
                with open(f'/proc/{pid}/cmdline', 'rb') as f:
                    cmd = f.read()
            except OSError:
                continue
            if any(m in env.split(b'\0') or m in cmd for m in marks):
                own.add(int(pid))
        return own

    def stop(self):
        """Cancel jobs, stop the daemons (SIGTERM, then SIGKILL after 10 s) and kill what is
        left of this cluster; returns the pids still alive afterwards."""
        if 'slurmctld' in self.procs and self.procs['slurmctld'].poll() is None:
            subprocess.run(['scancel', '--full', '-u', 'root'], env=self.env,
                           capture_output=True, timeout=30)
        for name in ('slurmd', 'slurmctld', 'munged'):
            p = self.procs.get(name)
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        for pid in self.cluster_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        t0 = time.time()
        while time.time() - t0 < 10:
            left = self.cluster_pids()
            if not left:
                break
            time.sleep(0.2)
        return left


def _start_or_reason(root):
    if os.geteuid() != 0:
        return None, 'Slurm test cluster needs root (SlurmUser=root, munged --force)'
    missing = missing_slurm_programs()
    if missing:
        return None, (f'Slurm/munge programs not installed: {", ".join(missing)} '
                      '(apt-get install slurmctld slurmd slurm-client munge; '
                      'tools/run_tests.sh does it when run as root)')
    cluster = LocalSlurm(root)
    try:
        return cluster.start(), None
    except Exception as e:  # noqa: BLE001  (any failure to start is reported as the skip reason)
        left = cluster.stop()
        return None, f'could not start the local Slurm cluster: {e}' + (
            f' (and pids {sorted(left)} would not die)' if left else '')


@pytest.fixture(scope='session')
def slurm_cluster(tmp_path_factory):
    """A running one-node Slurm (``LocalSlurm``), shared by the session; skips with the reason
    when it cannot be started. Teardown asserts no process of it is left."""
    # munge's socket path must stay short (sun_path is 108 bytes): keep the root in /tmp
    root = tmp_path_factory.mktemp('slurm')
    cluster, reason = _start_or_reason(root)
    if cluster is None:
        pytest.skip(reason)
    yield cluster
    left = cluster.stop()
    assert not left, f'Slurm processes still running after teardown: {sorted(left)}'
