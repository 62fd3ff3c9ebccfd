"""Say when a resumed run's schedule differs from the checkpoint's, and settle which one wins.

mmengine's ``Runner.resume`` loads the parameter schedulers' state from the checkpoint, which
includes their settings (``begin``, ``end``, ``T_max``, ``milestones``, ...): a run resumed after
lengthening the schedule (``train_cfg.max_epochs=6 param_scheduler.1.end=6`` on a 3-epoch
checkpoint) silently keeps the old one (the learning rate stays at its end value), while
``max_epochs`` itself comes from the config. This hook compares the settings when the
checkpoint is read (``after_load_checkpoint``, before any weight is copied) and acts by the
top-level config key ``resume_schedule`` (or the hook's ``on_mismatch``):

- ``'error'`` (default): stop with the differences and how to proceed;
- ``'config'``: continue with the config's schedule, rebuilt at the resumed iteration as a
  fresh run of this config would have it (:func:`replay_config_schedule`: the config's
  schedulers stepped through the iterations and epochs already done);
- ``'checkpoint'``: keep the checkpoint's schedulers (mmengine's behaviour), with a warning.

A different ``max_epochs``/``max_iters`` alone (schedulers equal) is logged, not an error.
"""
import copy
import logging
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner.checkpoint import find_latest_checkpoint

from clamp_hand.registry import HOOKS

# scheduler state that changes while training (not a setting)
DYNAMIC_KEYS = frozenset({'last_step', '_global_step', '_last_value', 'verbose', 'base_values',
                          '_get_value_called_within_step'})
CHOICES = ('error', 'config', 'checkpoint')


def scheduler_settings(state: dict) -> dict:
    """The settings part of a scheduler ``state_dict`` (without its progress)."""
    return {k: v for k, v in state.items() if k not in DYNAMIC_KEYS}


def schedule_differences(checkpoint_states: list, config_states: list) -> List[str]:
    """``'param_scheduler[i].key: checkpoint -> config'`` for each differing setting."""
    if len(checkpoint_states) != len(config_states):
        return [f'param_scheduler: {len(checkpoint_states)} scheduler(s) in the checkpoint, '
                f'{len(config_states)} in the config']
    out = []
    for i, (old, new) in enumerate(zip(checkpoint_states, config_states)):
        old, new = scheduler_settings(old), scheduler_settings(new)
        for key in sorted(set(old) | set(new)):
            if old.get(key, '<absent>') != new.get(key, '<absent>'):
                out.append(f'param_scheduler[{i}].{key}: {old.get(key, "<absent>")} -> '
                           f'{new.get(key, "<absent>")}')
    return out


def _checkpoint_length(checkpoint: dict) -> Optional[str]:
    """``max_epochs=N`` / ``max_iters=N`` of the run that wrote the checkpoint: its stored
    config (plain data, or an older checkpoint's literal config text), read as data."""
    from clamp_hand.checkpoint import config_from_checkpoint
    stored = (checkpoint.get('meta') or {}).get('cfg')
    if not stored:
        return None
    try:
        loop = config_from_checkpoint(stored, '<checkpoint meta.cfg>').get('train_cfg') or {}
    except ValueError:  # not a literal config (the reader refuses it on its own path): nothing
        return None  # to compare the length with
    for key in ('max_epochs', 'max_iters'):
        if loop.get(key) is not None:
            return f'{key}={loop[key]}'
    return None


@HOOKS.register_module()
class ResumeScheduleHook(Hook):
    """See the module doc. Args: on_mismatch: 'error', 'config' or 'checkpoint' (the config
    key ``resume_schedule`` overrides it)."""

    priority = 'VERY_HIGH'

    def __init__(self, on_mismatch: str = 'error'):
        if on_mismatch not in CHOICES:
            raise ValueError(f'ResumeScheduleHook: on_mismatch={on_mismatch!r}; use one of '
                             f'{", ".join(CHOICES)}')
        self.on_mismatch = on_mismatch

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not runner._resume or 'param_schedulers' not in checkpoint:
            return  # load_from (fine-tuning) starts its schedule afresh anyway
        mode = runner.cfg.get('resume_schedule') or self.on_mismatch
        if mode not in CHOICES:
            raise ValueError(f'resume_schedule={mode!r}; use one of {", ".join(CHOICES)}')
        schedulers = runner.param_schedulers
        if not isinstance(schedulers, list) or not all(
                hasattr(s, 'state_dict') for s in schedulers):
            return  # dict of schedulers per optimizer, or not built: nothing comparable
        diffs = schedule_differences(list(checkpoint['param_schedulers']),
                                     [s.state_dict() for s in schedulers])
        loop = runner.cfg.get('train_cfg') or {}
        now = next((f'{k}={loop[k]}' for k in ('max_epochs', 'max_iters') if k in loop), None)
        before = _checkpoint_length(checkpoint)
        length = f'train_cfg {before} -> {now}' if before and now and before != now else None
        meta = checkpoint.get('meta') or {}
        source = runner._load_from or find_latest_checkpoint(runner.work_dir) or 'the checkpoint'
        at = f'epoch {meta.get("epoch", "?")}, iteration {meta.get("iter", "?")}'
        if not diffs:
            if length:
                print_log(f'resuming {source} ({at}): {length}; the learning-rate schedule is '
                          'the same as the checkpoint\'s', logger='current', level=logging.INFO)
            return
        listing = '; '.join(([length] if length else []) + diffs)
        if mode == 'error':
            raise ValueError(
                f'resuming {source} ({at}): the schedule of this config differs from the '
                f"checkpoint's ({listing}). mmengine would continue with the checkpoint's "
                "schedulers and ignore the config's. To continue with this config's schedule, "
                f'rebuilt at the resumed iteration, add --cfg-options resume_schedule=config; '
                "to keep the checkpoint's schedule, resume_schedule=checkpoint; or resume with "
                'the config the checkpoint was trained with.')
        if mode == 'checkpoint':
            print_log(f'resuming {source} ({at}): keeping the checkpoint\'s schedule, which '
                      f'differs from this config ({listing}) (resume_schedule=checkpoint)',
                      logger='current', level=logging.WARNING)
            return
        print_log(f'resuming {source} ({at}): the config\'s schedule replaces the '
                  f'checkpoint\'s ({listing}); rebuilt at the resumed iteration '
                  '(resume_schedule=config)', logger='current', level=logging.WARNING)
        replay_config_schedule(runner, checkpoint)


def replay_config_schedule(runner, checkpoint: dict) -> None:
    """Rewrite ``checkpoint`` (before mmengine's ``resume`` applies it) so that the run goes on
    with the config's schedule as a fresh run of this config would have it at the checkpoint's
    iteration: the config's schedulers are built on a stand-in optimizer with the
    checkpoint's parameter groups, their values reset to the initial ones (``initial_lr``
    ...), and stepped as ``ParamSchedulerHook`` steps them (iteration-based ones after each
    iteration, epoch-based ones after each epoch); their states replace
    ``checkpoint['param_schedulers']`` and the scheduled values replace those of the
    checkpoint's optimizer groups. The real optimizer is not touched here."""
    import torch
    from mmengine.optim import OptimWrapper
    groups = checkpoint['optimizer']['param_groups']
    stand_in = torch.optim.SGD([dict(params=[torch.nn.Parameter(torch.zeros(1))])
                                for _ in groups], lr=0.0)
    for group, saved in zip(stand_in.param_groups, groups):
        group.update({k: copy.deepcopy(v) for k, v in saved.items() if k != 'params'})
        for key in [k for k in saved if k.startswith('initial_')]:
            group[key[len('initial_'):]] = copy.deepcopy(saved[key])
    schedulers = runner._build_param_scheduler(copy.deepcopy(runner.cfg.param_scheduler),
                                               OptimWrapper(stand_in))
    meta = checkpoint['meta']
    per_epoch = len(runner.train_dataloader) if type(runner.train_loop).__name__.startswith(
        'EpochBased') else None
    for it in range(int(meta['iter'])):
        for s in schedulers:
            if not s.by_epoch:
                s.step()
        if per_epoch and (it + 1) % per_epoch == 0:
            for s in schedulers:
                if s.by_epoch:
                    s.step()
    checkpoint['param_schedulers'] = [s.state_dict() for s in schedulers]
    for group, saved in zip(stand_in.param_groups, groups):
        for key in [k for k in saved if k.startswith('initial_')]:
            name = key[len('initial_'):]
            saved[name] = group[name]
    lrs = sorted({float(f'{g["lr"]:.6g}') for g in groups})
    print_log(f'schedulers rebuilt from the config at iteration {meta["iter"]}: lr {lrs}',
              logger='current', level=logging.INFO)


__all__ = ['ResumeScheduleHook', 'replay_config_schedule', 'schedule_differences']
