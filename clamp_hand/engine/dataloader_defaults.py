"""Data-loader settings sized to the machine a run lands on.

Configs are written for the GPU servers they were tuned on (e.g. ``num_workers=4``,
``pin_memory=True``). :func:`fit_dataloader_to_machine` keeps them where they fit and lowers
them where they do not: no more workers than the CPU cores this process may use (shared by the
processes of a distributed run, one core left to the training process itself), page-locked
memory only when batches go to a CUDA device, persistent workers only when there are workers.
"""
import os
from typing import Optional

import torch


def usable_cpus() -> int:
    """CPU cores this process may run on (its affinity mask, else ``os.cpu_count()``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def fit_dataloader_to_machine(loader_cfg: dict, world_size: Optional[int] = None,
                              cuda: Optional[bool] = None) -> dict:
    """Return a copy of a ``*_dataloader`` config with ``num_workers`` (``'auto'`` or a number:
    capped at ``cores per process - 1``), ``pin_memory`` (only with CUDA) and
    ``persistent_workers`` (only with workers) fitted to this machine."""
    cfg = dict(loader_cfg)
    world_size = world_size or int(os.environ.get('WORLD_SIZE', 1))
    cuda = torch.cuda.is_available() if cuda is None else cuda
    cap = max(usable_cpus() // max(world_size, 1) - 1, 0)
    wanted = cfg.get('num_workers', 'auto')
    cfg['num_workers'] = cap if wanted == 'auto' else min(int(wanted), cap)
    cfg['pin_memory'] = bool(cfg.get('pin_memory', cuda)) and cuda
    cfg['persistent_workers'] = bool(cfg.get('persistent_workers', True)) and cfg['num_workers'] > 0
    return cfg


def fit_dataloaders_to_machine(cfg, world_size: Optional[int] = None) -> None:
    """Apply :func:`fit_dataloader_to_machine` in place to the train/val/test loaders of an
    mmengine ``Config``."""
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(name):
            cfg[name] = fit_dataloader_to_machine(cfg[name], world_size)


__all__ = ['fit_dataloader_to_machine', 'fit_dataloaders_to_machine', 'usable_cpus']
