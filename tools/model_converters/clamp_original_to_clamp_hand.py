"""Convert a checkpoint of the original CLAMP / Hand-CLAMP (mmpose 0.x) to this project.

    python tools/model_converters/clamp_original_to_clamp_hand.py \\
        work_dirs/CLAMP_ViTB_ap10k_256x256_onehand/epoch_210.pth \\
        work_dirs/CLAMP_ViTB_ap10k_256x256_onehand/epoch_210_clamp_hand.pth \\
        [--config configs/animal/2d_kpt_sview_rgb_img/topdown_heatmap/ap10k/\
                  CLAMP_ViTB_ap10k_256x256_onehand.py]

prints where every tensor went (placed / dropped as unused / not placed) and the config numbers
the checkpoint needs (keypoints, context tokens, name length). With ``--config`` it also builds
that config's model and loads the result strictly. ``tools/test.py`` accepts the original file
directly too (converted on load); this tool is for keeping a converted copy.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import torch  # noqa: E402

from clamp_hand.models.converters import (  # noqa: E402
    check_fits_model, convert_original_checkpoint, is_original_state_dict, load_original_checkpoint)
from clamp_hand.models.converters.clamp_original import state_dict_of  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help='original CLAMP / Hand-CLAMP checkpoint (.pth)')
    p.add_argument('dst', help='where to write the converted checkpoint')
    p.add_argument('--config', help='also check that the result loads strictly into the '
                   'model of this config')
    p.add_argument('--trust-checkpoint', action='store_true',
                   help='SRC is a file you trust: unpickle it in full if it holds '
                   'more than data (this can run code in it)')
    return p.parse_args(argv)


def convert(src: str, dst: str, config: str = None, trust: bool = False):
    """Convert ``src`` into ``dst``; returns the report. Raises ``ValueError`` on a file that
    is not an original checkpoint, on tensors that could not be placed, and (with ``config``)
    when the result does not fit that config's model; ``UnsafeCheckpointError`` (a
    ``ValueError``) when ``src`` holds more than data and ``trust`` is not given."""
    if not os.path.isfile(src):
        raise FileNotFoundError(f'checkpoint {src!r} does not exist')
    checkpoint = load_original_checkpoint(src, trust=trust)
    if not is_original_state_dict(state_dict_of(checkpoint)):
        raise ValueError(f'{src} is not an original CLAMP / Hand-CLAMP checkpoint (no '
                         'keypoint_head.* / contexts keys); a CLAMP-Hand checkpoint needs no '
                         'conversion')
    converted, report = convert_original_checkpoint(checkpoint)
    if report.unplaced:
        raise ValueError(f'{src}: tensors with no place in this project\'s model:\n'
                         + report.summary())
    if config:
        from clamp_hand.apis.runner import load_config
        from clamp_hand.registry import MODELS, register_all_modules
        register_all_modules()
        cfg = load_config(config)
        cfg.model.pretrained = None
        model_sd = MODELS.build(cfg.model).state_dict()
        fit = check_fits_model(converted['state_dict'], model_sd)
        problems = fit['mismatched'] + [f'{k}: missing' for k in fit['missing']] + \
            [f'{k}: unexpected' for k in fit['unexpected']]
        if problems:
            raise ValueError(f'{src} converted does not fit the model of {config}:\n  '
                             + '\n  '.join(problems))
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    torch.save(converted, dst)
    return report


def main(argv=None):
    args = parse_args(argv)
    try:
        report = convert(args.src, args.dst, args.config, args.trust_checkpoint)
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(report.summary())
    print(f'wrote {args.dst}' + (f' (loads strictly into {args.config})' if args.config else ''))


if __name__ == '__main__':
    main()
