"""Disk space for checkpoints: know before the first step whether the run's checkpoints fit.

A ViT-B/16 CLAMP checkpoint with its AdamW state is ~1.3 GB (1,355 MiB), and mmengine finds out
that the work folder's disk is full only when ``torch.save``'s bytes are written, epochs into
the run (``OSError: [Errno 28] No space left on device``, a half-written file left behind).
:func:`check_checkpoint_space` runs in ``AtomicCheckpointHook.before_train``: it estimates one
checkpoint's size from the model and optimizer (:func:`checkpoint_bytes`), what the hook's
settings keep on disk at the run's fullest moment (:func:`space_plan`), and compares with the
free space of ``out_dir``. mmengine has no such check (its ``CheckpointHook`` only writes).
"""
import errno
import os
import os.path as osp
import shutil
from typing import Dict, Iterable, Optional, Tuple

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


def _step_and_total(hook, runner) -> Tuple[int, int]:
    """(steps done, steps in all) of the run in the hook's unit: epochs or iterations."""
    if hook.by_epoch:
        return runner.epoch, runner.max_epochs
    return runner.iter, runner.max_iters


def planned_saves(hook, runner) -> int:
    """How many full checkpoints (weights + optimizer state) ``hook`` (an mmengine
    ``CheckpointHook``) writes in the rest of the run, at most: one at each ``interval`` step
    from ``save_begin`` and at the last step with ``save_last`` (mmengine's
    ``every_n_epochs``/``every_n_train_iters`` rule); with ``save_best``, also one at each
    later validation, counted as if every validation found a new best (mmengine then re-saves
    the step's checkpoint so that it records the best, once any checkpoint was saved;
    validation at ``val_interval`` steps from ``val_begin`` and at the last step, as its
    training loops do)."""
    done, total = _step_and_total(hook, runner)
    interval, begin = hook.interval, getattr(hook, 'save_begin', 0)
    loop = getattr(runner, 'train_loop', None) if hook.save_best else None
    val_interval = getattr(loop, 'val_interval', 0) if getattr(runner, 'val_loop', None) else 0
    val_begin = getattr(loop, 'val_begin', 1)
    saved_before = getattr(hook, 'last_ckpt', None) is not None
    count = 0
    for step in range(done + 1, total + 1):
        if ((interval > 0 and step >= begin and (step - begin) % interval == 0)
                or (hook.save_last and step == total)):
            count, saved_before = count + 1, True
        elif (saved_before and val_interval > 0 and step >= val_begin
              and (step % val_interval == 0 or step == total)):
            count += 1
    return count


def space_plan(hook, runner, full: int, weights: int) -> Dict[str, int]:
    """What the rest of the run writes into ``hook.out_dir``, in bytes, given the size of a
    full checkpoint (``full``) and of a best checkpoint (``weights``: mmengine saves those
    without optimizer state). Returns ``smallest`` (the first file the run writes; 0: it
    writes none), ``new`` (bytes more than now on disk at the fullest moment) and ``peak``
    (the number of files then). Files of this run already there (a resumed run's kept and
    best checkpoints, as the hook tracks them) count as present.

    The fullest moment is a save of a periodic checkpoint: ``max_keep_ckpts`` kept plus the
    one being written (``AtomicCheckpointHook`` removes the oldest only after the new one is
    on disk), plus one best checkpoint per ``save_best`` indicator; ``max_keep_ckpts=-1``
    keeps every save."""
    saves = planned_saves(hook, runner)
    indicators = len(getattr(hook, 'key_indicators', None) or []) if hook.save_best else 0
    kept_now = len(getattr(hook, 'keep_ckpt_ids', None) or []) if hook.max_keep_ckpts > 0 else 0
    best_now = sum(1 for p in best_checkpoint_paths(hook).values()
                   if p and osp.isfile(p)) if indicators else 0
    if hook.max_keep_ckpts > 0:
        periodic_new = max(0, min(kept_now + saves, hook.max_keep_ckpts + 1) - kept_now)
    else:
        periodic_new = saves
    # a new best is written before the previous one goes: one more when no periodic save
    # (which is larger) makes the fullest moment
    best_new = max(0, indicators - best_now) + (1 if indicators and not periodic_new else 0)
    smallest = full if periodic_new else (weights if indicators else 0)
    return dict(smallest=smallest, new=periodic_new * full + best_new * weights,
                peak=kept_now + periodic_new, indicators=indicators)


def best_checkpoint_paths(hook) -> Dict[str, Optional[str]]:
    """Best checkpoint path (None: none yet) per ``save_best`` key indicator of an mmengine
    ``CheckpointHook`` (mmengine keeps one attribute for a single indicator and a dict for
    several)."""
    if len(hook.key_indicators) == 1:
        return {hook.key_indicators[0]: getattr(hook, 'best_ckpt_path', None)}
    return dict(hook.best_ckpt_path_dict)


def describe_mb(num_bytes: int) -> str:
    """``num_bytes`` in MiB (2**20 bytes, what ``df -h`` calls M), e.g. '1,355 MiB'."""
    return f'{num_bytes / MB:,.0f} MiB'


def needed_for(num_bytes: int) -> int:
    """Free bytes a file of ``num_bytes`` needs: 1 % and 1 MiB more for the pickled metadata
    (kilobytes) and the file system's own blocks."""
    return int(num_bytes * 1.01) + MB


def check_checkpoint_space(hook, runner) -> Dict[str, int]:
    """Before the first training step: return what the check found, in bytes (``full``: one
    full checkpoint, ``free``, and :func:`space_plan`'s ``smallest``, ``new``, ``peak``);
    raise :class:`DiskSpaceError` on every rank when the main process's ``hook.out_dir``
    cannot hold the first file the run writes; log a warning when it cannot hold what the run
    keeps there at its fullest moment (:func:`space_plan`), so a later save would fail. Sizes
    are decided on the main process (the one that writes) and broadcast, so that all ranks
    stop together. A run that saves nothing is not checked."""
    facts = [None]
    if is_main_process():
        weights = checkpoint_bytes(runner.model)
        full = weights + sum(optimizer_state_bytes(o) for o in _optimizers(runner.optim_wrapper)
                             if hook.save_optimizer)
        plan = space_plan(hook, runner, full, weights)
        facts = [dict(plan, full=full, free=free_bytes(hook.out_dir))]
    broadcast_object_list(facts)  # a no-op without a process group
    facts = facts[0]
    free, full = facts['free'], facts['full']
    where = f'checkpoint folder {hook.out_dir}'
    if facts['smallest'] and free < needed_for(facts['smallest']):
        what = ('weights and buffers' + (' and optimizer state' if hook.save_optimizer else '')
                if facts['smallest'] == full else 'weights and buffers: a best checkpoint')
        raise DiskSpaceError(
            f'{where} has {describe_mb(free)} free; the first checkpoint this run writes needs '
            f'{describe_mb(needed_for(facts["smallest"]))} (~{describe_mb(facts["smallest"])} '
            f'of {what}); stopped before the first training step. Fix: free space there, or '
            'write checkpoints to a larger disk (--cfg-options '
            'default_hooks.checkpoint.out_dir=DIR); '
            'default_hooks.checkpoint.check_free_space=False skips this check.')
    if facts['new'] and free < needed_for(facts['new']) and is_main_process():
        runner.logger.warning(
            f'{where} has {describe_mb(free)} free; this run writes ~{describe_mb(facts["new"])} '
            f'more there at its fullest ({facts["peak"]} checkpoints of ~{describe_mb(full)} at '
            f'once: max_keep_ckpts={hook.max_keep_ckpts} plus the one being written'
            + (f', and {facts["indicators"]} best checkpoint(s)' if facts['indicators'] else '')
            + '). A later save may run out of space; set default_hooks.checkpoint.out_dir to '
            'a larger disk' + (' or lower default_hooks.checkpoint.max_keep_ckpts (1 still '
                               'holds 2 during a save)' if hook.max_keep_ckpts != 1 else '')
            + '.')
    return facts


def write_failed_error(err: OSError, what: str, folder: str, needs: Optional[int],
                       intact: str) -> OSError:
    """The error to raise when a checkpoint write failed with ``err``, its half-written file
    already removed. ``what``: the failed write ('checkpoint X was not written'); ``needs``:
    the file's estimated size (bytes) if known; ``intact``: which files are still good. Names
    the free space of ``folder``; ENOSPC/EDQUOT give a :class:`DiskSpaceError` with the ways
    to get space, other errors an ``OSError`` with the same errno."""
    try:
        space = f'{describe_mb(free_bytes(folder))} free there'
    except OSError:
        space = 'free space unknown'
    if needs is not None:
        space += f', the file needs ~{describe_mb(needs)}'
    message = (f'{what} ({err.strerror or err}; {space}); the half-written file was removed '
               f'and {intact}. Fix the cause, then continue with --resume.')
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskSpaceError(message + ' For space: free some there, set '
                              'default_hooks.checkpoint.out_dir to a larger disk, or lower '
                              'default_hooks.checkpoint.max_keep_ckpts.')
    return OSError(err.errno, message)


def remove_quietly(path: str) -> None:
    """Remove ``path`` if it exists (a half-written file); never raises."""
    try:
        os.remove(path)
    except OSError:
        pass
