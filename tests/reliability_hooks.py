"""Test-only hooks for the reliability tests, imported by their configs through
``custom_imports`` (the tests put this folder on PYTHONPATH). Each is inert unless its
environment variable is set, so a killed run and its resumption use the same config."""
import math
import os
import signal

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from clamp_hand.registry import HOOKS


@HOOKS.register_module()
class KillAtIterHook(Hook):
    """SIGKILL this process just before iteration ``$CLAMP_KILL_AT_ITER`` (0-based
    ``runner.iter``): the most abrupt crash there is (no cleanup, no exception)."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        at = os.environ.get('CLAMP_KILL_AT_ITER')
        if at is not None and runner.iter == int(at):
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class NanLossAtIterHook(Hook):
    """Make ``loss_spatial`` NaN at iteration ``$CLAMP_NAN_AT_ITER`` (0-based) only."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        at = os.environ.get('CLAMP_NAN_AT_ITER')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if at is not None and runner.iter == int(at):
            self._weight = model.loss_spatial.loss_weight
            model.loss_spatial.loss_weight = math.nan

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if hasattr(self, '_weight'):
            model.loss_spatial.loss_weight = self._weight
            del self._weight
