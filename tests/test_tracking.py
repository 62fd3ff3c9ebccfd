"""Experiment tracking: ``tools/train.py ... --vis-backend tensorboard wandb mlflow clearml`` on
a short run of the tiny 64x64 model (12 real hands, 2 epochs of 2 iterations, validation after each
epoch). Each tracker's own reader gets back the loss terms and lr at steps 1-4 (iterations)
and every validation metric at steps 1-2 (epochs), equal to mmengine's ``scalars.json``.
W&B and ClearML run offline without a login and the log says how to upload; MLflow writes a
local store."""
import glob
import json
import os
import os.path as osp
import struct
import subprocess
import sys
import zlib

import pytest

from _helpers_dist_runs import DIST_CHECK_CFG
from conftest import HAND_SAMPLES, ROOT, hand_samples_eval_cfg, require_hand_samples


CFG = '''
_base_ = [{base!r}]
_train = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale', padding=1.25),
          dict(type='TopdownAffine', input_size=(64, 64)),
          dict(type='GenerateTarget', encoder={{{{_base_.codec}}}}),
          dict(type='PackPoseInputs', pack_transformed=True)]
train_dataloader = dict(batch_size=6)
train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop', max_epochs=2, val_interval=1)
''' + hand_samples_eval_cfg('val_dataloader') + '''val_cfg = dict(_delete_=True, type='ValLoop')
val_evaluator = [dict(type='CocoMetric', nms_mode='none'),
                 dict(type='PCKAccuracy', thr=0.2, norm_item='bbox'),
                 dict(type='AUC', norm_factor=30), dict(type='EPE')]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=2, by_epoch=True, save_best=None))
log_processor = dict(by_epoch=True)
'''
TRAIN_KEYS = ('loss', 'loss_heatmap', 'loss_spatial', 'loss_feature', 'lr')
VAL_KEYS = ('coco/AP', 'coco/AP .5', 'coco/AR', 'PCK', 'AUC', 'EPE')


@pytest.fixture(scope='module')
def tracked_run(tmp_path_factory):
    """One run with all four trackers; returns (vis_data dir, stdout, scalars.json rows)."""
    for module in ('tensorboard', 'wandb', 'mlflow', 'clearml'):
        pytest.importorskip(module, reason='pip install -r requirements/tracking.txt')
    require_hand_samples()
    tmp = tmp_path_factory.mktemp('tracking')
    cfg = tmp / 'tracked.py'
    cfg.write_text(CFG.format(base=DIST_CHECK_CFG, root=HAND_SAMPLES + '/'))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('WANDB_', 'MLFLOW_', 'CLEARML_'))}  # the trackers' defaults
    env.update(HOME=str(tmp), PYTHONPATH=ROOT, OMP_NUM_THREADS=env.get('OMP_NUM_THREADS', '2'))
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(cfg), '--work-dir', str(tmp / 'work'),
         '--vis-backend', 'tensorboard', 'wandb', 'mlflow', 'clearml'], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-6000:]
    (vis,) = glob.glob(str(tmp / 'work' / '*' / 'vis_data'))
    rows = [json.loads(ln) for ln in open(osp.join(vis, 'scalars.json'))]
    return vis, proc.stdout, rows


def reference(rows):
    """{key: [(step, value), ...]} from mmengine's scalars.json; checks the steps too."""
    ref = {k: [(r['step'], r[k]) for r in rows if k in r] for k in TRAIN_KEYS + VAL_KEYS}
    for k in TRAIN_KEYS:
        assert [s for s, _ in ref[k]] == [1, 2, 3, 4], (k, ref[k])  # iterations
    for k in VAL_KEYS:
        assert [s for s, _ in ref[k]] == [1, 2], (k, ref[k])  # epochs
    assert ref['PCK'][0][1] > 0 and ref['EPE'][0][1] > 0 and ref['loss'][0][1] > 0
    return ref


def assert_series(got, want, what):
    assert [s for s, _ in got] == [s for s, _ in want], (what, got, want)
    for (_, a), (_, b) in zip(got, want):
        assert a == pytest.approx(b, rel=1e-5, abs=1e-7), (what, got, want)


def test_tensorboard_event_files(tracked_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    vis, _, rows = tracked_run
    assert len(glob.glob(osp.join(vis, 'events.out.tfevents.*'))) == 1
    acc = EventAccumulator(vis)
    acc.Reload()
    for key, want in reference(rows).items():
        got = [(e.step, e.value) for e in acc.Scalars(key)]
        assert_series(got, want, f'tensorboard {key}')


def wandb_records(path):
    """The protobuf records of a W&B run file (``run-<id>.wandb``), read with W&B's own
    message types (wandb.proto). wandb >= 0.2x no longer ships a Python reader (the file is
    written by its Go core), so the framing is read here: a 7-byte file header (``:W&B``,
    magic 0xBEE1, version 0) then LevelDB-log records (crc32 of type byte + data, 2-byte
    length, 1-byte type FULL=1/FIRST=2/MIDDLE=3/LAST=4) in 32 KiB blocks, zero-padded when
    fewer than 7 bytes are left in a block."""
    from wandb.proto import wandb_internal_pb2 as pb
    block, head = 32768, 7
    data = open(path, 'rb').read()
    assert struct.unpack('<4sHB', data[:head]) == (b':W&B', 0xBEE1, 0), data[:head]
    i, parts = head, []
    while i + head <= len(data):
        left = block - i % block
        if left < head:
            i += left
            continue
        crc, n, kind = struct.unpack('<IHB', data[i:i + head])
        chunk = data[i + head:i + head + n]
        i += head + n
        if kind == 0 and n == 0:  # zero padding at the end of a block
            continue
        assert zlib.crc32(chunk, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF == crc, i
        parts.append(chunk)
        if kind in (1, 4):
            rec = pb.Record()
            rec.ParseFromString(b''.join(parts))
            parts = []
            yield rec


def test_wandb_offline_run(tracked_run):
    vis, out, rows = tracked_run
    assert 'W&B: no W&B login' in out and 'logging offline' in out
    (run_dir,) = glob.glob(osp.join(vis, 'wandb', 'offline-run-*'))
    assert f'wandb sync {run_dir}' in out  # how to upload it later
    (run_file,) = glob.glob(osp.join(run_dir, 'run-*.wandb'))
    history = []
    for rec in wandb_records(run_file):
        if rec.WhichOneof('record_type') == 'history':
            # wandb-core fills nested_key (the key split at '/') rather than key
            history.append({it.key or '/'.join(it.nested_key): json.loads(it.value_json)
                            for it in rec.history.item})
    assert history, 'no history rows in the W&B run file'
    for key, want in reference(rows).items():
        got = [(h['step'], h[key]) for h in history if key in h]
        assert_series(got, want, f'wandb {key}')
    assert osp.isfile(osp.join(run_dir, 'files', 'config.py'))


def test_mlflow_local_store(tracked_run, monkeypatch):
    from mlflow.tracking import MlflowClient
    vis, _, rows = tracked_run
    monkeypatch.setenv('MLFLOW_ALLOW_FILE_STORE', 'true')  # MLflow >= 3.7 reading a folder
    client = MlflowClient(tracking_uri=f'file://{vis}')
    exp = client.get_experiment_by_name('tracked')  # named after the config
    (run,) = client.search_runs([exp.experiment_id])
    assert run.info.status == 'FINISHED'
    assert run.data.params['train_cfg.max_epochs'] == '2'
    for key, want in reference(rows).items():
        got = [(m.step, m.value) for m in sorted(client.get_metric_history(run.info.run_id, key),
                                                 key=lambda m: m.step)]
        assert_series(got, want, f'mlflow {key}')
    # a name MLflow does not allow, renamed rather than dropped
    assert len(client.get_metric_history(run.info.run_id, 'coco/AP M')) == 2


def test_clearml_offline_task(tracked_run):
    """The offline task (HOME is the test's folder: ``~/.clearml/cache/offline/``): every
    scalar once, at mmengine's steps (also with TensorBoard on: ClearML's own TensorBoard
    capture is off), the config as its configuration, the config file as its only artifact
    (no checkpoint), and the log says how to import it."""
    vis, out, rows = tracked_run
    home = osp.dirname(osp.dirname(osp.dirname(vis)))  # <tmp>/work/<timestamp>/vis_data
    assert 'ClearML: no ClearML credentials' in out and 'logging offline' in out
    (folder,) = glob.glob(osp.join(home, '.clearml', 'cache', 'offline', 'offline-*[!p]'))
    assert f"Task.import_offline_session('{folder}.zip')" in out and osp.isfile(folder + '.zip')
    events = [e for line in open(osp.join(folder, 'metrics.jsonl')) for e in json.loads(line)]
    scalars = [e for e in events if e['type'] == 'training_stats_scalar']
    assert all(e['metric'] == e['variant'] for e in scalars)
    for key, want in reference(rows).items():
        got = sorted((e['iter'], e['value']) for e in scalars if e['metric'] == key)
        assert_series(got, want, f'clearml {key}')  # once per step: no TensorBoard echo
    task = json.load(open(osp.join(folder, 'task.json')))
    assert task['name'] == 'tracked' and task['project_name'] == 'clamp-hand'
    assert 'max_epochs = 2' in json.dumps(task['configuration'])
    uploaded = [osp.basename(p) for p in glob.glob(osp.join(folder, 'data', '**', '*'),
                                                   recursive=True) if osp.isfile(p)]
    assert any(p.endswith('.py') for p in uploaded), uploaded
    assert not any('.pth' in p for p in uploaded), uploaded


def test_vis_backend_option_errors_and_local_backend_kept(monkeypatch):
    import importlib.util

    from mmengine.config import Config

    from clamp_hand.engine.tracking import add_vis_backends, mlflow_metric_name
    assert mlflow_metric_name('coco/AP (M)') == 'coco/AP M'
    assert mlflow_metric_name('coco/AP .5') == 'coco/AP .5'
    cfg = Config.fromfile(DIST_CHECK_CFG)
    cfg.visualizer.vis_backends = []
    add_vis_backends(cfg, ['tensorboard', 'mlflow', 'tensorboard'], 'exp')
    assert [b['type'] for b in cfg.visualizer.vis_backends] == [
        'LocalVisBackend', 'TensorboardVisBackend', 'MLflowFileVisBackend']
    assert cfg.visualizer.vis_backends[2]['exp_name'] == 'exp'
    with pytest.raises(ValueError, match='--vis-backend neptune: unknown; choose from'):
        add_vis_backends(cfg, ['neptune'])
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: None if name == 'wandb' else real(name, *a))
    with pytest.raises(ImportError, match='needs wandb: pip install -r requirements/tracking'):
        add_vis_backends(cfg, ['wandb'])


def test_a_configured_clearml_backend_keeps_its_options():
    """A ClearML backend written in the config (to have ClearML's own capture back, as
    docs/training.md shows) keeps its options under --vis-backend clearml and gets the
    project and task names; its auto_connect_frameworks dict is merged key by key, so the
    repository analysis stays off unless named."""
    from mmengine.config import Config

    from clamp_hand.engine.tracking import add_vis_backends, clearml_init_kwargs
    cfg = Config.fromfile(DIST_CHECK_CFG)
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend'), dict(
        type='ClearMLTaskVisBackend', artifact_suffix=('.py', '.pth'),
        init_kwargs=dict(auto_resource_monitoring=True, task_name='mine'))]
    add_vis_backends(cfg, ['clearml'], 'exp')
    (clearml,) = [b for b in cfg.visualizer.vis_backends if 'ClearML' in b['type']]
    assert clearml['artifact_suffix'] == ('.py', '.pth')
    assert clearml['init_kwargs'] == dict(project_name='clamp-hand', task_name='mine',
                                          auto_resource_monitoring=True)
    kwargs = clearml_init_kwargs(dict(auto_connect_frameworks=dict(pytorch=True)))
    assert kwargs['auto_connect_frameworks']['pytorch'] is True
    assert kwargs['auto_connect_frameworks']['detect_repository'] is False
    assert kwargs['auto_resource_monitoring'] is False
    assert clearml_init_kwargs(dict(auto_connect_frameworks=True))['auto_connect_frameworks']


def test_a_second_run_in_one_process_gets_a_visualizer_of_its_own():
    """mmengine keeps one Visualizer per name; a taken name gets a suffix so that the run's
    scalars go to its own work dir (tests/test_hand_datasets_train.py trains three times in
    one process and reads each run's own scalars.json)."""
    from mmengine.config import Config
    from mmengine.visualization import Visualizer

    from clamp_hand.engine import give_visualizer_own_name
    taken = f'taken_{os.getpid()}'
    Visualizer.get_instance(taken)
    cfg = Config(dict(visualizer=dict(type='Visualizer', name=taken)))
    assert give_visualizer_own_name(cfg) == f'{taken}_2'
    Visualizer.get_instance(f'{taken}_2')
    assert give_visualizer_own_name(Config(dict(visualizer=dict(name=taken)))) == f'{taken}_3'
    free = Config(dict(visualizer=dict(type='Visualizer', name=f'free_{os.getpid()}')))
    assert give_visualizer_own_name(free) == f'free_{os.getpid()}'
    assert give_visualizer_own_name(Config(dict(visualizer=dict(type='Visualizer')))) is None


def test_two_runs_of_one_config_name_in_the_same_second_keep_their_own_log_and_hub(
        tmp_path, monkeypatch):
    """mmengine names logger and message hub ``{config stem}_{timestamp in seconds}`` and
    reuses an instance of a taken name: without ``give_experiment_own_name`` the second run
    (same file name, same second: the clock is held still here) wrote its log lines into the
    first run's log file and read the first run's runtime info."""
    import mmengine.runner.runner as mm_runner
    from mmengine.config import Config

    from clamp_hand.apis.runner import build_runner
    from reliability_utils import write_epoch_config
    require_hand_samples()
    monkeypatch.setattr(mm_runner.time, 'strftime', lambda fmt, *a: '20260101_000000')
    runners = []
    for name in ('a', 'b'):
        (tmp_path / name).mkdir()
        cfg = write_epoch_config(tmp_path / name / 'same.py', epochs=1, keep=1)
        runners.append(build_runner(Config.fromfile(cfg), work_dir=str(tmp_path / name / 'work'),
                                    config_path=cfg))
        runners[-1].train()
    first, second = runners
    assert second.experiment_name != first.experiment_name
    assert second.message_hub is not first.message_hub and second.logger is not first.logger
    for name in ('a', 'b'):
        log = tmp_path / name / 'work' / '20260101_000000' / '20260101_000000.log'
        text = log.read_text()
        assert text.count('Epoch(train) [1][3/3]') == 1, (name, text[-2000:])
        assert str(tmp_path / name / 'work' / 'epoch_1.pth') in (
            tmp_path / name / 'work' / 'last_checkpoint').read_text()
