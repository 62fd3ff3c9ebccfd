"""Experiment tracking switched on from the command line: ``tools/train.py CONFIG
--vis-backend tensorboard wandb mlflow clearml`` (any subset) adds mmengine visualizer backends
to the config's ``visualizer``; mmengine's ``LocalVisBackend`` (``vis_data/scalars.json``)
always stays.

Every backend receives what mmengine's ``LoggerHook`` logs: the loss terms, ``lr``, ``time``...
of the training iterations at ``step`` = iteration, and the validation metrics at ``step`` =
epoch (``log_metric_by_epoch=True``, mmengine's default) or iteration. Only rank 0 writes:
mmengine's ``Visualizer.add_scalars``/``add_config`` are ``master_only`` and the backends open
their files lazily, on first use.

- ``tensorboard``: mmengine's ``TensorboardVisBackend`` (event files in ``vis_data/``).
- ``mlflow``: ``MLflowFileVisBackend`` below: a local file store in the run's ``vis_data/``
  (``<work_dir>/<timestamp>/vis_data``) unless the ``MLFLOW_TRACKING_URI`` environment
  variable names another store; the experiment is named after the config.
- ``wandb``: ``WandbStepVisBackend`` below.
- ``clearml``: ``ClearMLTaskVisBackend`` below.

The packages are optional (``requirements/tracking.txt``); asking for a backend whose package
is missing fails before the run starts.
"""
import importlib.util
import netrc
import os
import os.path as osp
import re
import socket
from typing import Optional, Sequence
from urllib.parse import urlparse

from mmengine.logging import print_log
from mmengine.registry import VISBACKENDS
from mmengine.visualization import ClearMLVisBackend, MLflowVisBackend, WandbVisBackend
from mmengine.visualization.vis_backend import force_init_env

#: --vis-backend name -> (backend type, Python module it needs, pip requirement)
VIS_BACKENDS = {
    'tensorboard': ('TensorboardVisBackend', 'tensorboard', 'tensorboard'),
    'wandb': ('WandbStepVisBackend', 'wandb', 'wandb'),
    'mlflow': ('MLflowFileVisBackend', 'mlflow', 'mlflow-skinny'),
    'clearml': ('ClearMLTaskVisBackend', 'clearml', 'clearml'),
}


def add_vis_backends(cfg, names: Sequence[str], experiment: Optional[str] = None) -> None:
    """Add the visualizer backends ``names`` (keys of ``VIS_BACKENDS``) to ``cfg.visualizer``,
    keeping ``LocalVisBackend``. A backend of the same type that the config already has stays
    as configured (its options, e.g. ClearML's ``artifact_suffix``), with the project and run
    names added where it sets none.

    Args:
        cfg: the mmengine Config of the run (modified in place).
        names: e.g. ``['tensorboard', 'wandb']``.
        experiment: name of the W&B run / MLflow experiment (default: the config's name).

    Raises:
        ValueError: an unknown name.
        ImportError: a backend's package is not installed (says what to install).
    """
    if not names:
        return
    unknown = [n for n in names if n not in VIS_BACKENDS]
    if unknown:
        raise ValueError(f'--vis-backend {" ".join(unknown)}: unknown; choose from '
                         f'{", ".join(VIS_BACKENDS)}')
    missing = [VIS_BACKENDS[n][2] for n in names
               if importlib.util.find_spec(VIS_BACKENDS[n][1]) is None]
    if missing:
        raise ImportError(f'--vis-backend {" ".join(names)} needs {", ".join(missing)}: '
                          'pip install -r requirements/tracking.txt')
    visualizer = cfg.get('visualizer') or dict(type='Visualizer', name='visualizer')
    backends = list(visualizer.get('vis_backends') or [])
    present = {b.get('type') for b in backends}
    if 'LocalVisBackend' not in present:
        backends.insert(0, dict(type='LocalVisBackend'))
    experiment = experiment or osp.splitext(osp.basename(cfg.filename or 'clamp_hand'))[0]
    for name in dict.fromkeys(names):
        btype = VIS_BACKENDS[name][0]
        configured = [b for b in backends if b.get('type') == btype]
        backend = configured[0] if configured else dict(type=btype)
        # the run's names, unless the config's own entry of this backend gives them
        if name == 'mlflow':
            backend.setdefault('exp_name', experiment)
            backend.setdefault('tracking_uri', os.environ.get('MLFLOW_TRACKING_URI') or None)
        elif name == 'wandb':
            backend['init_kwargs'] = dict(
                dict(project=os.environ.get('WANDB_PROJECT', 'clamp-hand'), name=experiment),
                **(backend.get('init_kwargs') or {}))
        elif name == 'clearml':
            backend['init_kwargs'] = dict(
                dict(project_name=os.environ.get('CLEARML_PROJECT', 'clamp-hand'),
                     task_name=experiment), **(backend.get('init_kwargs') or {}))
        if not configured:
            backends.append(backend)
    visualizer['vis_backends'] = backends
    cfg.visualizer = visualizer


def give_visualizer_own_name(cfg) -> Optional[str]:
    """Make ``cfg.visualizer.name`` one that no Visualizer of this process holds yet.

    mmengine keeps one Visualizer per name (``ManagerMixin``) and hands an existing one to a
    later Runner asking for that name, with the first run's ``save_dir``: a second training in
    the same Python process (a notebook, a sweep, a test) would write its ``scalars.json`` and
    config into the first run's ``vis_data`` and none into its own. A taken name (mmpose's
    default runtime names it ``'visualizer'``) gets a suffix ``_2``, ``_3``, ...; a free name,
    or no name (mmengine then uses the run's timestamped experiment name), stays. Returns the
    name set, ``None`` when there is no visualizer config.
    """
    from mmengine.visualization import Visualizer

    from clamp_hand.registry import VISUALIZERS
    visualizer = cfg.get('visualizer')
    if not visualizer or not visualizer.get('name'):
        return None
    vis_cls = VISUALIZERS.get(visualizer.get('type', 'Visualizer')) or Visualizer
    base, n, name = visualizer['name'], 1, visualizer['name']
    while vis_cls.check_instance_created(name) or Visualizer.check_instance_created(name):
        n += 1
        name = f'{base}_{n}'
    visualizer['name'] = name
    return name


def give_experiment_own_name(cfg) -> Optional[str]:
    """Make the run's experiment name one that no earlier run of this process used.

    mmengine names a run's logger, message hub and default scope
    ``{experiment_name or config file stem}_{timestamp}``, the timestamp in whole seconds, and
    hands an existing instance of a name to a later Runner asking for it: two runs of configs
    with one file name started within the same second in one process (a sweep, a notebook,
    the tests) would share the first run's log file and message hub (its runtime info: kept
    checkpoints, best scores). When an earlier run of this process used the base name,
    ``cfg.experiment_name`` becomes ``{base}-2``, ``{base}-3``, ... (``run-N`` for a config
    without file name); the first run keeps mmengine's name. Returns the name set, or None.
    """
    from mmengine.logging import MMLogger
    base = cfg.get('experiment_name') or (
        osp.splitext(osp.basename(cfg.filename))[0] if cfg.filename else '')
    stamp = r'\d{8}_\d{6}'
    pattern = (re.escape(base) + r'(-\d+)?_' if base else r'(run-\d+_)?') + stamp
    earlier = [n for n in MMLogger._instance_dict if re.fullmatch(pattern, n)]
    if not earlier:
        return None
    cfg.experiment_name = f'{base or "run"}-{len(earlier) + 1}'
    return cfg.experiment_name


def _wandb_host() -> str:
    return urlparse(os.environ.get('WANDB_BASE_URL', 'https://api.wandb.ai')).hostname


def unreachable(host: str, port: int, timeout: float) -> str:
    """Why ``host:port`` cannot be reached by TCP within ``timeout`` seconds ('' when it can);
    compute nodes often have no internet."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as e:
        return f'{host}:{port} unreachable ({e})'
    return ''


def wandb_can_go_online(timeout: float = 2.0) -> str:
    """Why W&B cannot sync live ('' when it can): no login (``WANDB_API_KEY`` or a
    ``~/.netrc`` entry for the W&B host, as ``wandb login`` writes) or the host does not answer
    on port 443 within ``timeout`` seconds (compute nodes often have no internet)."""
    host = _wandb_host()
    logged_in = bool(os.environ.get('WANDB_API_KEY'))
    if not logged_in:
        try:
            logged_in = netrc.netrc().authenticators(host) is not None
        except (OSError, netrc.NetrcParseError):
            logged_in = False
    if not logged_in:
        return 'no W&B login (WANDB_API_KEY or `wandb login`)'
    return unreachable(host, 443, timeout)


@VISBACKENDS.register_module()
class WandbStepVisBackend(WandbVisBackend):
    """mmengine's ``WandbVisBackend`` with two changes.

    - Offline unless told otherwise: when neither ``WANDB_MODE`` nor ``init_kwargs['mode']``
      is set and W&B cannot be reached (``wandb_can_go_online``), the run is written offline
      under ``<save_dir>/wandb/offline-run-*`` and the log says the ``wandb sync`` command that
      uploads it later.
    - The step is kept: mmengine's backend drops ``step`` (W&B counts its own), so a validation
      metric logged per epoch could not be told from one logged per iteration. Here every row
      carries mmengine's ``step`` (iteration for training rows, epoch or iteration for
      validation rows, as in ``scalars.json``) and W&B plots every metric against it
      (``define_metric('*', step_metric='step')``).

    ``add_config`` records the config (as a dict and as ``config.py`` among the run's files)
    but, unlike mmengine's, does not upload the working directory's code: ``log_code`` walks
    the whole current directory, datasets and work dirs included.
    """

    def _init_env(self):
        kwargs = dict(self._init_kwargs or {})
        if 'mode' not in kwargs and not os.environ.get('WANDB_MODE'):
            why = wandb_can_go_online()
            if why:
                kwargs['mode'] = 'offline'
                print_log(f'W&B: {why}; logging offline', logger='current')
        self._init_kwargs = kwargs
        super()._init_env()
        self._wandb.define_metric('step')
        self._wandb.define_metric('*', step_metric='step')

    @force_init_env
    def add_config(self, config, **kwargs) -> None:
        self._wandb.config.update(config.to_dict(),
                                  allow_val_change=self._init_kwargs.get('allow_val_change',
                                                                         False))
        with open(osp.join(self._wandb.run.dir, 'config.py'), 'w') as f:
            f.write(config.pretty_text)

    @force_init_env
    def add_scalar(self, name, value, step: int = 0, **kwargs) -> None:
        self._wandb.log({name: value, 'step': step}, commit=self._commit)

    @force_init_env
    def add_scalars(self, scalar_dict: dict, step: int = 0, file_path=None, **kwargs) -> None:
        self._wandb.log(dict(scalar_dict, step=step), commit=self._commit)

    def close(self) -> None:
        if not hasattr(self, '_wandb') or self._wandb.run is None:
            return
        run = self._wandb.run
        offline = run.settings.mode == 'offline' if hasattr(run, 'settings') else False
        run_dir = osp.dirname(run.dir)  # .../wandb/offline-run-<time>-<id>
        self._wandb.finish()
        if offline:
            print_log(f'W&B: offline run saved in {run_dir}; upload it with: '
                      f'wandb sync {run_dir}', logger='current')


def clearml_can_go_online(timeout: float = 2.0) -> str:
    """Why ClearML cannot report live ('' when it can): no credentials (the
    ``CLEARML_API_ACCESS_KEY`` environment variable or ``clearml.conf``, as ``clearml-init``
    writes) or its API server (``CLEARML_API_HOST`` or ``clearml.conf``; default
    api.clear.ml) does not answer within ``timeout`` seconds."""
    from clearml.backend_api.session import Session
    from clearml.backend_api.session.defs import ENV_ACCESS_KEY
    from clearml.config import config_obj
    if not (ENV_ACCESS_KEY.get() or config_obj.get('api.credentials.access_key', None)):
        return 'no ClearML credentials (CLEARML_API_ACCESS_KEY or `clearml-init`)'
    url = urlparse(Session.get_api_server_host())
    return unreachable(url.hostname, url.port or (443 if url.scheme == 'https' else 80),
                       timeout)


#: ClearML's automatic capture, all off: the keys of ``Task.init``'s ``auto_connect_frameworks``
#: (clearml/task.py; a key left out counts as on), ``detect_repository`` included: its
#: repository and package analysis held the task's ``close`` for its 300 s time-out in the
#: tracking test (a run of 30 s).
CLEARML_NO_CAPTURE = dict.fromkeys(
    ('detect_repository', 'hydra', 'scikit', 'joblib', 'matplotlib', 'tensorflow', 'tensorboard',
     'tfdefines', 'pytorch', 'megengine', 'xgboost', 'catboost', 'fastai', 'lightgbm', 'gradio',
     'jsonargparse'), False)


def clearml_init_kwargs(given: Optional[dict]) -> dict:
    """``Task.init`` arguments: ``given`` over this project's defaults (all automatic capture
    and the resource monitor off); an ``auto_connect_frameworks`` dict is merged key by key
    into ``CLEARML_NO_CAPTURE`` (ClearML counts a key left out of the dict as on)."""
    kwargs = dict(auto_connect_frameworks=dict(CLEARML_NO_CAPTURE),
                  auto_connect_arg_parser=False, auto_resource_monitoring=False)
    given = dict(given or {})
    if isinstance(given.get('auto_connect_frameworks'), dict):
        kwargs['auto_connect_frameworks'].update(given.pop('auto_connect_frameworks'))
    kwargs.update(given)
    return kwargs


@VISBACKENDS.register_module()
class ClearMLTaskVisBackend(ClearMLVisBackend):
    """mmengine's ``ClearMLVisBackend`` with three changes.

    - Offline unless told otherwise: when ``CLEARML_OFFLINE_MODE`` is not set and ClearML
      cannot be reached (``clearml_can_go_online``), the task is written offline (ClearML's
      ``~/.clearml/cache/offline/offline-<id>.zip``) and the log says the command that
      imports it into a server later.
    - Only what mmengine's logger hook reports: ClearML's automatic capture of frameworks
      (``torch.save`` files as output models, TensorBoard events, which would report every
      scalar twice when ``tensorboard`` is also on, matplotlib figures), of the git repository
      and installed packages (``CLEARML_NO_CAPTURE``), of ``argparse`` and its resource
      monitor (machine statistics against seconds, not steps) are off unless ``init_kwargs``
      says otherwise (``Task.init`` arguments; an ``auto_connect_frameworks`` dict is merged
      key by key into ``CLEARML_NO_CAPTURE``, so ``dict(pytorch=True)`` switches on that one
      capture only). The repository analysis held the task's ``close`` for its 300 s
      time-out in the tracking test.
    - At the end the run's config file is uploaded as an artifact, the checkpoints are not
      (mmengine's backend uploads every ``.pth`` of the work dir: gigabytes per run); pass
      ``artifact_suffix=('.py', '.pth')`` to upload them.

    Scalars are reported with ``iteration`` = mmengine's ``step`` (iteration for training
    rows, epoch or iteration for validation rows, as in ``scalars.json``), title and series
    the metric's name; the config goes in as the task's configuration ``General``.
    """

    def __init__(self, save_dir=None, init_kwargs=None, artifact_suffix=('.py',)):
        super().__init__(save_dir, init_kwargs, artifact_suffix)

    def _init_env(self):
        from clearml import Task
        kwargs = clearml_init_kwargs(self._init_kwargs)
        if not os.environ.get('CLEARML_OFFLINE_MODE') and not Task.is_offline():
            why = clearml_can_go_online()
            if why:
                Task.set_offline(True)
                print_log(f'ClearML: {why}; logging offline', logger='current')
        self._init_kwargs = kwargs
        super()._init_env()

    def close(self) -> None:
        if not hasattr(self, '_task'):
            return
        from clearml import Task
        offline = Task.is_offline()
        folder = self._task.get_offline_mode_folder() if offline else None
        super().close()
        if offline:
            print_log(f'ClearML: offline task saved in {folder}.zip; import it into a ClearML '
                      'server with: python -c "from clearml import Task; '
                      f'Task.import_offline_session(\'{folder}.zip\')"', logger='current')


def mlflow_metric_name(name: str) -> str:
    """``name`` without the characters MLflow does not allow in metric names (allowed:
    alphanumerics, ``_ - . : /`` and spaces; mlflow.utils.validation), e.g.
    ``'coco/AP (M)'`` -> ``'coco/AP M'``."""
    return re.sub(r'[^\w\-.:/ ]', '', name)


@VISBACKENDS.register_module()
class MLflowFileVisBackend(MLflowVisBackend):
    """mmengine's ``MLflowVisBackend``, fixed for this project's configs and current MLflow.

    - Without a tracking URI the store is the folder ``save_dir`` (mmengine's default), which
      MLflow >= 3.7 refuses unless ``MLFLOW_ALLOW_FILE_STORE=true`` (set here unless the user
      set it; a database store would need SQLAlchemy, not in ``mlflow-skinny``).
    - The config's parameters are flattened with ``str`` keys (mmengine's ``_flatten`` fails
      on the integer keys of ``keypoint_info``/``skeleton_info``) and values cut to MLflow's
      6000-character limit. The dataset metainfo (``NOT_PARAMS``: ~170 entries per dataset,
      the bulk of a config's parameters) is left out of the parameters; the whole config is
      the run's ``config.py`` artifact.
    - Metric names lose the characters MLflow rejects (``mlflow_metric_name``): mmpose's
      ``coco/AP (M)`` becomes ``coco/AP M``; mmengine's backend would drop the whole batch of
      validation metrics with a warning.
    """

    #: MLflow's limit on a parameter value (mlflow.utils.validation.MAX_PARAM_VAL_LENGTH)
    MAX_PARAM_LENGTH = 6000
    NOT_PARAMS = ('metainfo', 'dataset_info', 'keypoint_info', 'skeleton_info')

    def _init_env(self):
        if self._tracking_uri is None:
            os.environ.setdefault('MLFLOW_ALLOW_FILE_STORE', 'true')
        super()._init_env()

    @force_init_env
    def add_scalar(self, name, value, step: int = 0, **kwargs) -> None:
        super().add_scalar(mlflow_metric_name(name), value, step, **kwargs)

    @force_init_env
    def add_scalars(self, scalar_dict: dict, step: int = 0, file_path=None, **kwargs) -> None:
        super().add_scalars({mlflow_metric_name(k): v for k, v in scalar_dict.items()}, step,
                            file_path, **kwargs)

    def _flatten(self, d, parent_key='', sep='.') -> dict:
        items = dict()
        for k, v in d.items():
            key = f'{parent_key}{sep}{k}' if parent_key else str(k)
            if k in self.NOT_PARAMS:
                continue
            if isinstance(v, dict):
                items.update(self._flatten(v, key, sep=sep))
            elif isinstance(v, (list, tuple)) and any(isinstance(x, dict) for x in v):
                for i, x in enumerate(v):
                    items.update(self._flatten(x, f'{key}{sep}{i}', sep=sep)
                                 if isinstance(x, dict) else {f'{key}{sep}{i}': x})
            else:
                items[key] = str(v)[:self.MAX_PARAM_LENGTH]
        return items
