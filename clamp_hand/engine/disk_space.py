"""Disk space for checkpoints: know before the first step whether the run's checkpoints fit.

A ViT-B/16 CLAMP checkpoint with its AdamW state is ~1.3 GB (1,355 MB), and mmengine finds out
that the work folder's disk is full only when ``torch.save``'s bytes are written, epochs into
the run (``OSError: [Errno 28] No space left on device``, a half-written file left behind).
:func:`check_checkpoint_space` runs in ``AtomicCheckpointHook.before_train``: it estimates one
checkpoint's size from the model and optimizer (:func:`checkpoint_bytes`), how many the
hook's settings keep on disk at once (:func:`peak_checkpoints`), and compares with the free
space of ``out_dir``. mmengine has no such check (its ``CheckpointHook`` only writes).
"""
import errno
import os
import os.path as osp
import shutil
from typing import Iterable, Optional

import torch
from mmengine.dist import broadcast_object_list, is_main_process
from mmengine.model import is_model_wrapper

MB = 1 << 20

# Per-parameter state tensors (each the parameter's size) that torch.optim keeps, from the
# optimizers' ``step`` code in torch/optim/*.py; the scalar ``step`` entries are left out.
# An optimizer not named here is assumed to keep two (Adam's count, the most common).
_STATE_TENSORS = {
    'Adam': lambda g: 2 + bool(g.get('amsgrad')), 'AdamW': lambda g: 2 + bool(g.get('amsgrad')),
    'Adamax': lambda g: 2, 'NAdam': lambda g: 2, 'RAdam': lambda g: 2, 'Adadelta': lambda g: 2,
    'Adagrad': lambda g: 1, 'SGD': lambda g: int(g.get('momentum', 0) != 0),
    'RMSprop': lambda g: 1 + int(g.get('momentum', 0) > 0) + bool(g.get('centered')),
}


class DiskSpaceError(OSError):
    """The disk that checkpoints go to cannot hold what the run writes (``errno`` ENOSPC);
    the message names the folder, the free and the needed space, and the fix."""

    def __init__(self, message: str):
        super().__init__(errno.ENOSPC, message)

    def __str__(self) -> str:
        return self.strerror


def _tensor_bytes(tensors: Iterable) -> int:
    return sum(t.numel() * t.element_size() for t in tensors if isinstance(t, torch.Tensor))


def optimizer_state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Bytes of ``optimizer.state_dict()``'s tensors: counted when the state exists (a resumed
    run), else predicted per parameter group from :data:`_STATE_TENSORS` (state tensors are
    created at the first ``step``, shaped and typed like their parameter)."""
    if optimizer.state:
        return sum(_tensor_bytes(s.values()) for s in optimizer.state.values())
    per_group = _STATE_TENSORS.get(type(optimizer).__name__, lambda g: 2)
    return sum(per_group(group) * _tensor_bytes(p for p in group['params'] if p.requires_grad)
               for group in optimizer.param_groups)


def checkpoint_bytes(model: torch.nn.Module, optimizers: Iterable = ()) -> int:
    """Estimated size in bytes of an mmengine checkpoint of ``model`` (its ``state_dict``, as
    mmengine saves it: every parameter and buffer, frozen ones too) and of ``optimizers``'
    state. The pickled metadata (config, message hub, schedulers) adds kilobytes; the tests
    compare the estimate with a written checkpoint."""
    if is_model_wrapper(model):
        model = model.module
    return _tensor_bytes(model.state_dict().values()) + sum(
        optimizer_state_bytes(o) for o in optimizers)


def free_bytes(path: str) -> int:
    """Free bytes (for an unprivileged user) on the file system that holds ``path`` or, if it
    does not exist yet, its nearest existing parent."""
    path = osp.abspath(path)
    while not osp.isdir(path) and osp.dirname(path) != path:
        path = osp.dirname(path)
    return shutil.disk_usage(path).free


def _optimizers(optim_wrapper) -> list:
    """The torch optimizers of an ``OptimWrapper`` or ``OptimWrapperDict`` (none: [])."""
    if optim_wrapper is None:
        return []
    if hasattr(optim_wrapper, 'optim_wrappers'):  # OptimWrapperDict
        return [w.optimizer for w in optim_wrapper.optim_wrappers.values()]
    return [optim_wrapper.optimizer]


def peak_checkpoints(hook, runner) -> int:
    """How many checkpoints ``hook`` (an mmengine ``CheckpointHook``) has on disk at once at
    most in this run: ``max_keep_ckpts`` (or every save when it is -1) plus the one being
    written, plus one best checkpoint per ``save_best`` indicator. Checkpoints already in
    ``out_dir`` (a resumed run) are in the used space and not counted again."""
    if hook.by_epoch:
        total, done = runner.max_epochs, runner.epoch
    else:
        total, done = runner.max_iters, runner.iter
    saves = 0
    if hook.interval > 0:
        saves = (total - done) // hook.interval + int(
            hook.save_last and (total % hook.interval) != 0)
    periodic = min(saves, hook.max_keep_ckpts + 1) if hook.max_keep_ckpts > 0 else saves
    best = len(getattr(hook, 'key_indicators', []) or []) if hook.save_best else 0
    return periodic + best


def describe_mb(num_bytes: int) -> str:
    return f'{num_bytes / MB:,.0f} MB'


def check_checkpoint_space(hook, runner) -> int:
    """Before the first training step: return the estimated checkpoint size in bytes; raise
    :class:`DiskSpaceError` on every rank when the main process's ``hook.out_dir`` cannot hold
    one checkpoint; log a warning when it cannot hold the run's peak (:func:`peak_checkpoints`),
    so a later save would fail. Only local ``out_dir`` paths are checked. Sizes are decided on
    the main process (the one that writes) and broadcast, so that all ranks stop together."""
    facts = [None]
    if is_main_process():
        size = checkpoint_bytes(runner.model,
                                _optimizers(runner.optim_wrapper) if hook.save_optimizer else [])
        facts = [dict(size=size, free=free_bytes(hook.out_dir),
                      peak=peak_checkpoints(hook, runner))]
    broadcast_object_list(facts)  # a no-op without a process group
    size, free, peak = facts[0]['size'], facts[0]['free'], facts[0]['peak']
    where = f"checkpoint folder {hook.out_dir}"
    if free < size * 1.05:  # 5 %: the metadata and the file system's own blocks
        raise DiskSpaceError(
            f'{where} has {describe_mb(free)} free, less than one checkpoint of this run '
            f'(~{describe_mb(size)}: the model\'s weights and buffers'
            f'{" and the optimizer state" if hook.save_optimizer else ""}); stopped before '
            'the first training step. Fix: free space there, or write checkpoints to a larger '
            'disk (--cfg-options default_hooks.checkpoint.out_dir=DIR).')
    if free < size * peak and is_main_process():
        runner.logger.warning(
            f'{where} has {describe_mb(free)} free; this run keeps up to {peak} checkpoints of '
            f'~{describe_mb(size)} on disk at once (max_keep_ckpts={hook.max_keep_ckpts}, '
            f'save_best={hook.save_best!r}, interval={hook.interval}): '
            f'~{describe_mb(size * peak)}. '
            'A later save may run out of space; lower default_hooks.checkpoint.max_keep_ckpts '
            'or set default_hooks.checkpoint.out_dir to a larger disk.')
    return size


def save_failed_error(err: OSError, path: str, size: Optional[int], last: Optional[str]
                      ) -> OSError:
    """The error to raise when writing checkpoint ``path`` failed with ``err`` (its partial
    file already removed): says how much space there is and which checkpoint is still good
    (``last``: what ``last_checkpoint`` names, if anything). ENOSPC/EDQUOT give a
    :class:`DiskSpaceError`, other errors an ``OSError`` with the same errno."""
    folder = osp.dirname(path)
    try:
        space = f'{describe_mb(free_bytes(folder))} free there'
    except OSError:
        space = 'free space unknown'
    if size is not None:
        space += f', the checkpoint needs ~{describe_mb(size)}'
    kept = (f'{last} is intact and last_checkpoint still names it' if last else
            'no earlier checkpoint of this run exists')
    message = (f'checkpoint {path} was not written ({err.strerror or err}; {space}); its '
               f'half-written file was removed and {kept}. Fix the cause, then continue with '
               '--resume.')
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskSpaceError(message + ' For space: free some there, lower '
                              'default_hooks.checkpoint.max_keep_ckpts, or set '
                              'default_hooks.checkpoint.out_dir to a larger disk.')
    return OSError(err.errno, message)


def remove_quietly(path: str) -> None:
    """Remove ``path`` if it exists (a half-written file); never raises."""
    try:
        os.remove(path)
    except OSError:
        pass
