"""mmengine's ``Runner`` with checkpoints read and written as data.

* Reading (``load_from``, ``--resume``, ``tools/test.py``): mmengine opens the file through
  ``CheckpointLoader``, whose local loader ``clamp_hand.checkpoint`` replaces with its
  weights-only reader; this runner sets the user's opt-in (``trust_checkpoint``) around it.
  ``Runner.resume`` then runs ``Config.fromstring`` on an mmcv 1.x ``meta['config']`` text (to
  read ``gpu_ids``), which executes it and imports its ``custom_imports``: that text is parsed
  here with the literal-only reader first and handed on reduced to its ``gpu_ids`` (as it is,
  with ``trust_checkpoint``).
* Writing: ``meta['cfg']`` (and the message hub's copy) hold the resolved config as plain data
  (``config_to_data``), not ``cfg.pretty_text``; the yapf rendering mmengine does for it on every
  save (seconds per checkpoint) is skipped.
* The config text mmengine still writes (the log, ``work_dir/CONFIG.py``, the visualizer's copy,
  the message hub) is rendered once per config content instead of once per use
  (``clamp_hand.engine.config_text``; 4 yapf runs per run, most of the time of a short
  ``tools/test.py``).
"""
import copy

from mmengine.config import Config
from mmengine.runner import Runner

from clamp_hand.checkpoint import config_to_data, parse_literal_config, trusted_checkpoints
from clamp_hand.engine.config_text import render_once


class CheckpointAsDataRunner(Runner):
    """``Runner`` whose checkpoints are data (see the module doc). ``trust_checkpoint``: the
    user's explicit opt-in (``--trust-checkpoint``) to unpickle a checkpoint in full."""

    trust_checkpoint = False

    def __init__(self, *args, **kwargs):
        if isinstance(kwargs.get('cfg'), Config):
            kwargs['cfg'] = copy.deepcopy(render_once(kwargs['cfg']))
        super().__init__(*args, **kwargs)
        config_to_data(self.cfg)  # a config that cannot be stored as data fails now, not at a save

    def load_checkpoint(self, filename, map_location='cpu', strict=False,
                        revise_keys=[(r'^module.', '')]):  # noqa: B006 (mmengine's default)
        with trusted_checkpoints(self.trust_checkpoint):
            checkpoint = super().load_checkpoint(filename, map_location, strict, revise_keys)
        meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get('config'), str) \
                and not self.trust_checkpoint:
            gpu_ids = parse_literal_config(meta['config'],
                                           f'{filename}: meta.config').get('gpu_ids')
            if gpu_ids:
                meta['config'] = f'gpu_ids = {gpu_ids!r}'
            else:
                del meta['config']
        return checkpoint

    def save_checkpoint(self, *args, **kwargs):
        cfg = self.cfg
        fmt = getattr(cfg, '_format_python_code', None)
        if fmt is not None:  # meta['cfg'] gets replaced by data below: no yapf for it
            super(Config, cfg).__setattr__('_format_python_code', False)
        try:
            return super().save_checkpoint(*args, **kwargs)
        finally:
            if fmt is not None:
                super(Config, cfg).__setattr__('_format_python_code', fmt)

    def call_hook(self, fn_name: str, **kwargs) -> None:
        if fn_name == 'before_save_checkpoint':  # the last step before the file is written
            checkpoint = kwargs['checkpoint']
            data = config_to_data(self.cfg)
            checkpoint['meta']['cfg'] = data
            info = (checkpoint.get('message_hub') or {}).get('runtime_info')
            if isinstance(info, dict) and 'cfg' in info:
                info['cfg'] = data
        super().call_hook(fn_name, **kwargs)
