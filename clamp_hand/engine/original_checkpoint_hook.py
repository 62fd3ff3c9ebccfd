"""Load checkpoints of the original CLAMP / Hand-CLAMP (mmpose 0.x) as they are.

On ``after_load_checkpoint`` (``tools/test.py CONFIG CKPT``, ``load_from``), before any weight
is copied, a checkpoint recognised as the original's is converted in place by
``clamp_hand.models.converters.convert_original_state_dict`` and a log line says so. Its
tensors must then fit the model exactly; if not (e.g. a Hand-CLAMP checkpoint with 2 context
tokens under a config with 8), this raises, naming the config settings that fit it, instead of
mmengine's non-strict load leaving those weights random.
"""
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from clamp_hand.models.converters import (check_fits_model, convert_original_state_dict,
                                          is_original_state_dict, original_class_names)
from clamp_hand.registry import HOOKS


@HOOKS.register_module()
class OriginalCheckpointHook(Hook):
    """Convert an original CLAMP / Hand-CLAMP checkpoint on load (runs before every other
    ``after_load_checkpoint`` hook, so the layout check sees the converted names)."""

    priority = 'HIGHEST'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        wrapped = 'state_dict' in checkpoint
        sd = checkpoint['state_dict'] if wrapped else checkpoint
        if not isinstance(sd, dict) or not is_original_state_dict(sd):
            return
        new_sd, report = convert_original_state_dict(sd)
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        source = getattr(runner, '_load_from', None) or 'the checkpoint'
        fit = check_fits_model(new_sd, model.state_dict())
        problems = ([f'{k}: {why}' for k, why in report.unplaced.items()] + fit['mismatched']
                    + [f'{k}: the model has it, the checkpoint does not' for k in fit['missing']])
        if problems:
            raise ValueError(
                f'{source} is an original CLAMP / Hand-CLAMP checkpoint that does not fit this '
                'config\'s model:\n  ' + '\n  '.join(problems))
        for key in fit['unexpected']:  # e.g. loss_feature.logit_scale of a model without it
            del new_sd[key]
        if fit['unexpected']:
            print_log(f'{source}: not used by this model: {fit["unexpected"]}', logger='current')
        names = original_class_names(checkpoint)
        prompts = getattr(getattr(model, 'text_encoder', None), 'prompts', None)
        if names and prompts and list(names) != list(prompts):
            print_log(f'{source} was trained with the keypoint names {names}, but '
                      'model.text_encoder.prompts differs; its learned contexts were fitted to '
                      'its own names (the configs under configs/animal/.../ap10k/ use them)',
                      logger='current', level=30)
        if wrapped:
            checkpoint['state_dict'] = new_sd
        else:
            checkpoint.clear()
            checkpoint.update(new_sd)
        print_log(f'{source}: converted an original CLAMP / Hand-CLAMP checkpoint on load '
                  f'({report.summary().splitlines()[0]}; {", ".join(report.notes)})',
                  logger='current')
