"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [--out preds.json]
[--cfg-options ...]``; prints COCO AP/AP50/AP75/AR (OKS with hand sigmas), PCK@0.2, AUC and EPE.
``--ap10k-sigmas`` adds the Hand-CLAMP seed's AP (AP-10K animal sigmas, for comparison only).
CHECKPOINT may also be an original CLAMP / Hand-CLAMP (mmpose 0.x) file: it is converted on
load. Multi-GPU/multi-node: ``tools/dist_test.sh``."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mmengine.dist import is_main_process  # noqa: E402

from clamp_hand.apis.runner import DictAction, format_metrics, test  # noqa: E402
from clamp_hand.apis.preflight import MissingDataError, PreflightError  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('config', help='config file')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--work-dir', help='where the test log goes')
    p.add_argument('--out', help='write predictions as a COCO keypoint results json')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config entries, e.g. model.test_cfg.flip_test=False')
    p.add_argument('--ap10k-sigmas', action='store_true',
                   help='also report COCO AP with the seed\'s AP-10K sigmas '
                   '(coco-ap10k-sigmas/AP), beside the hand-sigma coco/AP')
    p.add_argument('--trust-checkpoint', action='store_true',
                   help='CHECKPOINT is a file you trust: unpickle it in full if it holds '
                   'more than data (this can run code in it)')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    p.add_argument('--local-rank', '--local_rank', type=int, default=0)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    metrics = test(args.config, args.checkpoint, work_dir=args.work_dir,
                   cfg_options=args.cfg_options, launcher=args.launcher, out=args.out,
                   extra_metrics=[dict(type='AP10KSigmaCocoMetric')] if args.ap10k_sigmas else (),
                   trust_checkpoint=args.trust_checkpoint)
    if is_main_process():
        print(format_metrics(metrics))
    return metrics


if __name__ == '__main__':
    try:
        main()
    except (MissingDataError, PreflightError) as err:  # bad input: the message, no traceback
        sys.exit(f'error: {type(err).__name__}: {err}')
