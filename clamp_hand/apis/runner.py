"""Build mmengine Runners for training and testing from a config path; the tools are thin
shells over these functions, which the tests call directly."""
import os
import os.path as osp
from typing import Optional, Sequence

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction  # noqa: F401  (DictAction re-exported for tools)
from mmengine.runner import Runner

from clamp_hand.apis.config_check import check_registered_types
from clamp_hand.apis.preflight import attach_prebuilt, preflight
from clamp_hand.apis.slurm import resume_after_requeue, slurm_dist_env
from clamp_hand.checkpoint import check_checkpoint
from clamp_hand.datasets.keypoint_order import restore_keypoint_order
from clamp_hand.engine import (CheckpointAsDataRunner, amp_optim_wrapper_cfg,
                               fit_dataloaders_to_machine)
from clamp_hand.engine.tracking import (add_vis_backends, give_experiment_own_name,
                                        give_visualizer_own_name)
from clamp_hand.registry import register_all_modules


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Read a config file, apply ``--cfg-options`` style overrides and check it."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path!r} does not exist')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    restore_keypoint_order(cfg)  # a work_dirs copy of a config lists keypoints in text order
    check_keypoint_layout(cfg, path)
    return cfg


def _dataset_keypoints(dataset_cfg) -> Optional[int]:
    """Keypoint count of a dataset config's metainfo (None when it cannot be told)."""
    if dataset_cfg is None:
        return None
    if dataset_cfg.get('type') in ('ConcatDataset', 'RepeatDataset', 'ClassBalancedDataset'):
        inner = dataset_cfg.get('datasets') or [dataset_cfg.get('dataset')]
        return _dataset_keypoints(inner[0])
    meta = dataset_cfg.get('metainfo') or {}
    info = meta.get('keypoint_info')
    return len(info) if info else None


def check_keypoint_layout(cfg: Config, path: str = '<config>') -> None:
    """The prompts (model.text_encoder.prompts) must name exactly the dataset's keypoints."""
    prompts = (cfg.get('model') or {}).get('text_encoder', {}).get('prompts')
    if prompts is None:
        return
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        k = _dataset_keypoints((cfg.get(loader) or {}).get('dataset'))
        if k is not None and k != len(prompts):
            raise ValueError(
                f'{path}: model.text_encoder.prompts has {len(prompts)} entries but '
                f'{loader}.dataset.metainfo has {k} keypoints; give one prompt per keypoint '
                '(e.g. keypoint_prompts from the same configs/_base_/datasets file)')


def add_reliability_hooks(cfg: Config) -> None:
    """Append the hooks every run needs unless the config already has one of that type:
    ``KeypointLayoutCheckHook`` (refuse checkpoints of another keypoint layout) and
    ``NonFiniteLossHook`` (stop on a NaN/Inf loss; set it in ``custom_hooks`` with
    ``on_nonfinite='skip'`` to skip such steps instead), ``OriginalCheckpointHook``
    (convert original CLAMP / Hand-CLAMP checkpoints on load) and ``ResumeScheduleHook``
    (a resumed schedule that differs from the checkpoint's: config key ``resume_schedule``)."""
    hooks = list(cfg.get('custom_hooks') or [])
    present = {h.get('type') for h in hooks if isinstance(h, dict)}
    for name in ('KeypointLayoutCheckHook', 'NonFiniteLossHook', 'OriginalCheckpointHook',
                 'ResumeScheduleHook'):
        if name not in present:
            hooks.append(dict(type=name))
    cfg.custom_hooks = hooks


def init_distributed_if_needed(launcher: str) -> str:
    """For ``--launcher pytorch`` without CUDA, start a gloo process group before the Runner
    exists (mmengine's own init calls ``torch.cuda.set_device``, which fails on CPU) and
    return the model wrapper settings CPU DDP needs."""
    if launcher == 'none' or torch.cuda.is_available() or dist.is_initialized():
        return launcher
    dist.init_process_group(backend='gloo')
    return launcher


def build_runner(cfg: Config,
                 work_dir: Optional[str] = None,
                 launcher: str = 'none',
                 resume: Optional[str] = None,
                 amp: bool = False,
                 config_path: Optional[str] = None,
                 vis_backends: Sequence[str] = (),
                 mode: str = 'train',
                 trust_checkpoint: bool = False) -> Runner:
    """Settle work dir, launcher, AMP, resume and extra visualizer backends
    (``--vis-backend``, see ``clamp_hand.engine.tracking``) on ``cfg`` and build the Runner for a
    ``mode`` ('train' or 'test') run, after the checks of ``clamp_hand.apis.preflight`` (data
    files, datasets, batch size, metrics), whose datasets the Runner then uses. The Runner
    reads and writes checkpoints as data (``CheckpointAsDataRunner``); ``trust_checkpoint``:
    the user's opt-in to unpickle a ``load_from`` / resume checkpoint in full."""
    register_all_modules()
    source = config_path or cfg.filename or '<config>'
    run_name = osp.splitext(osp.basename(config_path or cfg.filename or 'run'))[0]
    add_vis_backends(cfg, vis_backends, run_name)
    give_visualizer_own_name(cfg)
    give_experiment_own_name(cfg)
    check_registered_types(cfg, source)
    add_reliability_hooks(cfg)
    if work_dir:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', run_name)
    if launcher == 'slurm':  # torch.distributed variables from srun's, before they are read
        slurm_dist_env()
        resume = resume_after_requeue(resume, launcher)
    cfg.launcher = init_distributed_if_needed(launcher)
    if cfg.launcher != 'none' and not torch.cuda.is_available():
        # CPU DDP: no device_ids (mmengine passes [LOCAL_RANK], valid for CUDA only)
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None,
                                     broadcast_buffers=False)
    if amp:
        # CUDA: mmengine's AmpOptimWrapper (bf16 where supported, else fp16 with loss scaling);
        # CPU: bf16 autocast (AutocastOptimWrapper), as AmpOptimWrapper refuses CPUs
        cuda = torch.cuda.is_available()
        precision = 'bf16' if not cuda or torch.cuda.is_bf16_supported() else 'fp16'
        cfg.optim_wrapper = amp_optim_wrapper_cfg(cfg.optim_wrapper, precision,
                                                  'cuda' if cuda else 'cpu')
    if resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif resume:
        cfg.resume, cfg.load_from = True, resume
    if cfg.get('resume') or cfg.get('load_from'):
        # the checkpoint overwrites every weight: do not require (or read) the CLIP file
        cfg.model.pretrained = None
    if cfg.get('load_from'):  # an unsafe file is refused before the run is built
        check_checkpoint(cfg.load_from, trust_checkpoint, resume=bool(cfg.get('resume')))
    fit_dataloaders_to_machine(cfg, int(os.environ.get('WORLD_SIZE', 1)))
    prebuilt = preflight(cfg, mode, source, cfg.launcher)
    runner = CheckpointAsDataRunner.from_cfg(cfg)  # config text rendered once, not 5 times
    runner.trust_checkpoint = trust_checkpoint
    attach_prebuilt(runner, prebuilt)
    return runner


def train(config: str, work_dir: Optional[str] = None, cfg_options: Optional[dict] = None,
          launcher: str = 'none', resume: Optional[str] = None, amp: bool = False,
          vis_backends: Sequence[str] = (), trust_checkpoint: bool = False):
    """Train from a config path; returns the trained model. ``trust_checkpoint``: see
    ``build_runner``."""
    cfg = load_config(config, cfg_options)
    runner = build_runner(cfg, work_dir, launcher, resume, amp, config_path=config,
                          vis_backends=vis_backends, trust_checkpoint=trust_checkpoint)
    return runner.train()


def test(config: str, checkpoint: str, work_dir: Optional[str] = None,
         cfg_options: Optional[dict] = None, launcher: str = 'none',
         out: Optional[str] = None, extra_metrics: Sequence[dict] = (),
         trust_checkpoint: bool = False) -> dict:
    """Evaluate a checkpoint; returns the metrics dict. ``out``: also write the predictions
    as a COCO keypoint results json. ``extra_metrics``: metric configs added to the config's
    test evaluator (those of a type it already has are skipped). ``trust_checkpoint``: the
    user's opt-in to unpickle the checkpoint in full (see ``clamp_hand.checkpoint``)."""
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} does not exist')
    cfg = load_config(config, cfg_options)
    cfg.load_from = checkpoint
    evaluator = cfg.test_evaluator
    metrics = list(evaluator) if isinstance(evaluator, (list, tuple)) else [evaluator]
    present = {m.get('type') for m in metrics}
    metrics += [dict(m) for m in extra_metrics if m.get('type') not in present]
    if out:
        metrics.append(dict(type='CocoResultsDumper', out_file=out))
    cfg.test_evaluator = metrics
    runner = build_runner(cfg, work_dir, launcher, config_path=config, mode='test',
                          trust_checkpoint=trust_checkpoint)
    return runner.test()


METRIC_COLUMNS = (('AP', 'coco/AP'), ('AP50', 'coco/AP .5'), ('AP75', 'coco/AP .75'),
                  ('AR', 'coco/AR'), ('PCK@0.2', 'PCK'), ('AUC', 'AUC'), ('EPE', 'EPE'),
                  # the seed's AP (AP-10K animal sigmas), only where that metric is configured
                  ('AP-ap10k', 'coco-ap10k-sigmas/AP'))


def format_metrics(metrics: dict, columns: Sequence = METRIC_COLUMNS) -> str:
    """A two-line table of the hand metrics present in ``metrics``."""
    cols = [(name, metrics[key]) for name, key in columns if key in metrics]
    head = ' | '.join(f'{n:>8}' for n, _ in cols)
    vals = ' | '.join(f'{v:8.4f}' for _, v in cols)
    return f'{head}\n{vals}'


__all__ = ['load_config', 'check_keypoint_layout', 'build_runner', 'train', 'test',
           'format_metrics']
