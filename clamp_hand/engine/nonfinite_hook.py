"""Stop (or skip) a training step whose loss is NaN or Inf, before the optimizer applies it.

The hook wraps the model's ``parse_losses`` (called by ``train_step`` in one process and by
``MMDistributedDataParallel.train_step`` under DDP) so that every loss term is checked right
after the forward pass, before backward and the optimizer step:

- ``on_nonfinite='raise'`` (default): raise ``FloatingPointError`` naming the iteration, the
  epoch and the non-finite loss terms. No optimizer step is taken, so the weights in memory
  and every checkpoint on disk stay finite.
- ``on_nonfinite='skip'``: drop the step (backward runs on a zero loss so that DDP processes
  stay in step, then the optimizer step is skipped), log a warning and count the skipped
  steps (``skipped_steps``; logged as ``nonfinite_skipped`` and at the end of training).

Under DDP the verdict is agreed across processes (one all-reduce of a flag per step), so
every process raises or skips together.
"""
import math

import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from clamp_hand.registry import HOOKS


def nonfinite_terms(log_vars: dict) -> dict:
    """``{name: value}`` of the loss terms (keys containing 'loss') that are NaN or Inf, with
    one device-to-host transfer for all of them."""
    terms = {k: v for k, v in log_vars.items() if 'loss' in k and k != 'loss'}
    if not terms:
        return {}
    values = torch.stack([torch.as_tensor(v).detach().float().mean()
                          for v in terms.values()]).cpu()
    if bool(torch.isfinite(values).all()):
        return {}
    return {k: float(v) for k, v in zip(terms, values) if not math.isfinite(float(v))}


def _any_process(flag: bool, device) -> bool:
    """True if ``flag`` is True on any process (the flag itself outside distributed runs)."""
    if not (dist.is_available() and dist.is_initialized()):
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Args:
        on_nonfinite: 'raise' (stop training) or 'skip' (drop the step and go on).
        max_skips: with 'skip', raise anyway after this many skipped steps (None: never).
    """

    priority = 'VERY_HIGH'

    def __init__(self, on_nonfinite: str = 'raise', max_skips=None):
        if on_nonfinite not in ('raise', 'skip'):
            raise ValueError(f"NonFiniteLossHook: on_nonfinite={on_nonfinite!r}; use 'raise' "
                             "or 'skip'")
        self.on_nonfinite = on_nonfinite
        self.max_skips = max_skips
        self.skipped_steps = 0
        self._skip_next_step = False

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        parse_losses = model.parse_losses
        optim_wrapper = runner.optim_wrapper
        step = optim_wrapper.step

        def checked_parse_losses(losses):
            loss, log_vars = parse_losses(losses)
            bad = nonfinite_terms(log_vars)
            if not _any_process(bool(bad), loss.device):
                return loss, log_vars
            where = f'iteration {runner.iter + 1} (epoch {runner.epoch + 1})'
            terms = (', '.join(f'{k}={v}' for k, v in bad.items())
                     or 'none here: another process had them')
            if self.on_nonfinite == 'raise' or (self.max_skips is not None and
                                                self.skipped_steps >= self.max_skips):
                raise FloatingPointError(
                    f'non-finite loss at {where}: {terms}. No optimizer step was taken and no '
                    'checkpoint was written with these values. Lower the learning rate, check '
                    'the data of this batch, or set '
                    "custom_hooks=[dict(type='NonFiniteLossHook', on_nonfinite='skip')] to "
                    'skip such steps.')
            self.skipped_steps += 1
            runner.logger.warning(f'skipping the optimizer step at {where}: non-finite loss '
                                  f'({terms}); {self.skipped_steps} step(s) skipped so far')
            self._skip_next_step = True
            # zero gradients for every trainable weight, without touching the NaN activations
            zero = sum((p.sum() * 0 for p in model.parameters() if p.requires_grad),
                       loss.new_zeros(()))
            return zero, log_vars

        def guarded_step(*args, **kwargs):
            if self._skip_next_step:
                self._skip_next_step = False
                return None
            return step(*args, **kwargs)

        model.parse_losses = checked_parse_losses
        optim_wrapper.step = guarded_step

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self.on_nonfinite == 'skip':
            runner.message_hub.update_scalar('train/nonfinite_skipped', self.skipped_steps)

    def after_train(self, runner) -> None:
        if self.skipped_steps:
            runner.logger.warning(f'{self.skipped_steps} training step(s) were skipped because '
                                  'of a non-finite loss')
