"""Refuse a checkpoint made for another keypoint layout (e.g. 21 vs 42 keypoints).

mmengine loads checkpoints with ``strict=False``: a checkpoint whose head has another number
of keypoints would only log a size-mismatch warning and leave the head randomly initialised.
This hook runs on ``after_load_checkpoint`` (``--resume``, ``load_from``, ``tools/test.py``),
after the file is read and before any weight is copied or any step is taken, and raises a
``ValueError`` naming the checkpoint, both keypoint counts and the config it was trained with.
"""
import re
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import find_latest_checkpoint

from clamp_hand.registry import HOOKS


def checkpoint_keypoints(checkpoint: dict) -> Optional[int]:
    """Keypoint count of a checkpoint: its ``meta.dataset_meta`` (written by the Runner), else
    the output channels of ``head.final_layer``; None if neither is there."""
    meta = (checkpoint.get('meta') or {}).get('dataset_meta') or {}
    if meta.get('num_keypoints'):
        return int(meta['num_keypoints'])
    state = checkpoint.get('state_dict', checkpoint)
    for key in ('head.final_layer.weight', 'module.head.final_layer.weight'):
        if key in state and hasattr(state[key], 'shape'):
            return int(state[key].shape[0])
    return None


def checkpoint_config_name(checkpoint: dict) -> Optional[str]:
    """The config a Runner checkpoint was trained with (its experiment name without the
    ``_YYYYMMDD_HHMMSS`` suffix)."""
    name = (checkpoint.get('meta') or {}).get('experiment_name')
    return re.sub(r'_\d{8}_\d{6}$', '', name) + '.py' if name else None


@HOOKS.register_module()
class KeypointLayoutCheckHook(Hook):
    """Raise before loading a checkpoint whose keypoint count differs from the model's."""

    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        expected = getattr(model, 'num_keypoints', None)
        found = checkpoint_keypoints(checkpoint)
        if expected is None or found is None or int(expected) == found:
            return
        source = runner._load_from or find_latest_checkpoint(runner.work_dir)
        trained = checkpoint_config_name(checkpoint)
        raise ValueError(
            f'checkpoint {source} was trained for {found} keypoints but the model of this '
            f'config predicts {expected} (one per prompt in model.text_encoder.prompts). '
            + (f'Use the config it was trained with ({trained}) or ' if trained else 'Use ')
            + f'a config with the {found}-keypoint layout; to fine-tune across layouts, load '
            'only the backbone (model.pretrained / init_cfg) instead of load_from/--resume.')
