"""Draw training (or validation) samples as the data pipeline delivers them:
``python tools/analysis/browse_dataset.py CONFIG --out-dir DIR [--phase train|val] [-n N]
[--seed S] [--size PX] [--no-names] [--cfg-options ...]``.

One PNG per sample with four panels: the pipeline's output (its random augmentation, seeded),
the target heatmaps, the sample without augmentation, and the same horizontally flipped, in
which keypoints named ``left_*`` must sit on the hand that was the right one. Keypoints are
drawn in the layout's colours with their names (see clamp_hand/visualization/dataset_browser.py).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from clamp_hand.apis.runner import DictAction, load_config  # noqa: E402
from clamp_hand.visualization.dataset_browser import browse_dataset  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='config file')
    p.add_argument('--out-dir', required=True, help='where the PNGs go')
    p.add_argument('--phase', choices=['train', 'val'], default='train',
                   help='train_dataloader (default) or val_dataloader')
    p.add_argument('-n', '--num', type=int, default=10, help='samples to draw (default 10)')
    p.add_argument('--seed', type=int, default=0, help='seed of the random augmentation')
    p.add_argument('--size', type=int, default=256, help='panel side in pixels (default 256)')
    p.add_argument('--no-names', action='store_true', help='do not write keypoint names')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config entries, e.g. train_dataloader.dataset.data_root=...')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.num < 1:
        raise SystemExit(f'-n {args.num}: draw at least one sample')
    cfg = load_config(args.config, args.cfg_options)
    written = browse_dataset(cfg, args.out_dir, args.phase, args.num, args.seed, args.size,
                             names=not args.no_names)
    for path, _ in written:
        print(path)
    print(f'{len(written)} {args.phase} samples drawn to {args.out_dir}')
    return written


if __name__ == '__main__':
    main()
