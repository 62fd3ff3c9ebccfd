"""Draw a run's training curves: ``python tools/analysis/plot_curves.py WORK_DIR [--out PNG]``.

Reads mmengine's scalar log (``WORK_DIR/<timestamp>/vis_data/scalars.json``) and plots the loss
terms per iteration and the validation AP / AR / PCK / AUC per epoch; default output
``WORK_DIR/training_curves.png``."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from clamp_hand.visualization.curves import plot_curves  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('work_dir', help='work dir of a tools/train.py run')
    p.add_argument('--out', help='PNG to write (default WORK_DIR/training_curves.png)')
    args = p.parse_args(argv)
    print(plot_curves(args.work_dir, args.out))


if __name__ == '__main__':
    main()
