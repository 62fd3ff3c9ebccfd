"""Checkpoints that are never half-written.

mmengine's ``CheckpointHook`` writes ``epoch_N.pth`` in place and removes the oldest kept
checkpoint *before* writing the new one, so a crash (or SIGKILL) during a save can leave a
truncated file and no loadable checkpoint at all. ``AtomicCheckpointHook`` keeps every
behaviour of ``CheckpointHook`` (interval, ``max_keep_ckpts``, ``save_best``, ``last_checkpoint``)
and changes only the order of the file operations:

1. write ``<name>.tmp``, flush it to disk (fsync), then ``os.replace`` it onto ``<name>``
   (atomic on POSIX file systems: readers see the old file or the new one, never half);
2. point ``last_checkpoint`` at the new file (also through a temporary file);
3. only then remove the checkpoint that fell out of ``max_keep_ckpts`` (or the previous best).

It also refuses to write a checkpoint whose weights hold NaN or Inf, checks before the first
step that the checkpoint folder's disk holds the run's checkpoints (``disk_space``), and turns a
failed write (a full disk) into an error naming the file, the space and the checkpoint that is
still good, with the half-written file removed.
"""
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.dist import is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper

from clamp_hand.engine.disk_space import (best_checkpoint_paths, check_checkpoint_space,
                                          remove_quietly, write_failed_error)
from clamp_hand.registry import HOOKS


def fsync_replace(tmp_path: str, final_path: str) -> None:
    """Flush ``tmp_path`` to disk and atomically rename it to ``final_path``."""
    with open(tmp_path, 'rb+') as f:
        os.fsync(f.fileno())
    os.replace(tmp_path, final_path)
    try:  # make the rename itself durable
        dir_fd = os.open(osp.dirname(osp.abspath(final_path)), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def write_text_atomic(path: str, text: str) -> None:
    """Write a small text file through ``<path>.tmp`` + rename."""
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    fsync_replace(tmp, path)


def nonfinite_weights(model: torch.nn.Module) -> list:
    """Names of the floating-point parameters/buffers holding NaN or Inf."""
    return [name for name, t in model.state_dict().items()
            if torch.is_floating_point(t) and not torch.isfinite(t).all()]


def _read_last_checkpoint(work_dir: str) -> Optional[str]:
    """What ``work_dir/last_checkpoint`` names, or None."""
    path = osp.join(work_dir, 'last_checkpoint')
    try:
        with open(path) as f:
            return f.read().strip() or None
    except OSError:
        return None


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` with atomic writes, delete-after-write retention, a NaN guard and a
    free-space check before the first step. Takes the same arguments as mmengine's
    ``CheckpointHook``, and ``check_free_space`` (default True; see ``disk_space``); a local
    ``out_dir`` only for the atomic part and the check (other back ends, e.g. ``s3://`` or a
    petrel ``path_mapping`` in ``backend_args``, are written as mmengine does)."""

    def __init__(self, *args, check_free_space: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.check_free_space = check_free_space

    def before_train(self, runner) -> None:
        super().before_train(runner)
        self._is_local = isinstance(self.file_backend, LocalBackend)
        if self._is_local and is_main_process():
            for name in sorted(os.listdir(self.out_dir)) if osp.isdir(self.out_dir) else []:
                if name.endswith('.pth.tmp'):  # left by a run killed while saving
                    os.remove(osp.join(self.out_dir, name))
                    runner.logger.warning(f'removed half-written checkpoint {name} '
                                          'left by an interrupted run')
        if self._is_local and self.check_free_space:
            self.space_check = check_checkpoint_space(self, runner)

    # -- every save of this hook goes through here -------------------------------------------
    def _save(self, runner, filename: str, *args, **kwargs) -> None:
        """``Runner.save_checkpoint(out_dir, filename, ...)``, made atomic."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        bad = nonfinite_weights(model)
        if bad:
            raise FloatingPointError(
                f'refusing to save checkpoint {filename}: non-finite values in {len(bad)} '
                f'weights ({", ".join(bad[:5])}{", ..." if len(bad) > 5 else ""}); '
                f'{osp.join(runner.work_dir, "last_checkpoint")} still names the last good one')
        save = type(runner).save_checkpoint.__get__(runner)
        if not getattr(self, '_is_local', False):
            save(self.out_dir, filename, *args, **kwargs)
            return
        tmp, final = (osp.join(self.out_dir, filename + s) for s in ('.tmp', ''))
        rewrite = osp.isfile(final)  # mmengine re-saves a step's checkpoint after a new best
        try:
            save(self.out_dir, filename + '.tmp', *args, **kwargs)
            if is_main_process():  # runner.save_checkpoint writes on the main process only
                fsync_replace(tmp, final)
        except OSError as err:
            remove_quietly(tmp)
            if rewrite:
                what = (f'checkpoint {final} could not be rewritten (to record the new best '
                        'score)')
                intact = f'the earlier {osp.basename(final)} is intact'
            else:
                last = _read_last_checkpoint(runner.work_dir)
                what = f'checkpoint {final} was not written'
                intact = (f'{last} is intact and last_checkpoint still names it' if last else
                          'no earlier checkpoint of this run exists')
            full = getattr(self, 'space_check', {}).get('full')  # set by the check, if it ran
            raise write_failed_error(err, what, self.out_dir, full, intact) from err

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        outdated = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        self._save(runner, filename,
                   file_client_args=self.file_client_args,
                   save_optimizer=self.save_optimizer,
                   save_param_scheduler=self.save_param_scheduler,
                   meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args,
                   **self.args)
        if not is_main_process():
            return
        last = osp.join(runner.work_dir, 'last_checkpoint')
        if getattr(self, '_is_local', False):
            previous = _read_last_checkpoint(runner.work_dir)
            try:
                write_text_atomic(last, self.last_ckpt)
            except OSError as err:
                remove_quietly(last + '.tmp')
                raise write_failed_error(
                    err, f'{self.last_ckpt} was written but {last} could not be updated',
                    runner.work_dir, None,
                    f'{last} still names {previous}' if previous else
                    f'{self.last_ckpt} is complete') from err
        else:
            with open(last, 'w') as f:
                f.write(self.last_ckpt)
        if outdated is not None and outdated != step:
            self._remove(self.file_backend.join_path(self.out_dir,
                                                     self.filename_tmpl.format(outdated)))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """mmengine's best-checkpoint logic, with its saves made atomic, the previous best
        removed only after the new best is on disk, and mmengine's re-save of the step's
        checkpoint (so that it records the new best) done after that removal, not before:
        two best checkpoints per indicator never sit beside the re-save's temporary file."""
        if not self.save_best:
            return
        previous = best_checkpoint_paths(self)
        self._set_best_paths({k: None for k in previous})  # so the parent deletes nothing
        runner.save_checkpoint = lambda out_dir, filename, *args, **kw: self._save(
            runner, filename, *args, **kw)
        last_ckpt, self.last_ckpt = self.last_ckpt, None  # the parent's re-save: below
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            del runner.save_checkpoint  # back to the class method
            self.last_ckpt = last_ckpt
            new = best_checkpoint_paths(self)  # None where this epoch did not improve
            self._set_best_paths({k: new.get(k) or old for k, old in previous.items()})
        for key, old in previous.items():
            if old and new.get(key) and new[key] != old:
                self._remove(old)
                runner.logger.info(f'The previous best checkpoint {old} is removed')
        if any(new.values()) and last_ckpt is not None:  # as mmengine's _save_best_checkpoint
            step = runner.epoch if self.by_epoch else runner.iter
            self._save_checkpoint_with_step(runner, step,
                                            dict(epoch=runner.epoch, iter=runner.iter))

    def _set_best_paths(self, paths: dict) -> None:
        if len(self.key_indicators) == 1:
            self.best_ckpt_path = paths[self.key_indicators[0]]
        else:
            self.best_ckpt_path_dict.update(paths)

    def _remove(self, path: str) -> None:
        if not is_main_process():
            return
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # deepspeed-style checkpoint folders
            self.file_backend.rmtree(path)
