"""Train a CLAMP-Hand model: ``python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]]
[--amp] [--vis-backend tensorboard wandb mlflow clearml] [--cfg-options key=value ...]``.
Multi-GPU/multi-node: ``tools/dist_train.sh``; Slurm: ``tools/slurm_train.sh``."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from clamp_hand.apis.runner import DictAction, train  # noqa: E402
from clamp_hand.apis.preflight import MissingDataError, PreflightError  # noqa: E402
from clamp_hand.engine import DiskSpaceError  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('config', help='config file')
    p.add_argument('--work-dir', help='where logs and checkpoints go '
                   '(default: work_dirs/<config name>)')
    p.add_argument('--resume', nargs='?', const='auto', default=None,
                   help='resume from CKPT, or without a value from the latest checkpoint in the work dir')
    p.add_argument('--amp', action='store_true', help='mixed precision: bf16 (or fp16 without bf16 support) on CUDA, bf16 autocast on a CPU')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config entries, e.g. train_dataloader.batch_size=8')
    p.add_argument('--vis-backend', nargs='+', default=[], metavar='NAME',
                   choices=['tensorboard', 'wandb', 'mlflow', 'clearml'],
                   help='also log to these trackers (tensorboard, wandb, mlflow, clearml; any '
                   'subset; '
                   'pip install -r requirements/tracking.txt); vis_data/scalars.json always')
    p.add_argument('--trust-checkpoint', action='store_true',
                   help='the --resume / load_from checkpoint is a file you trust: unpickle it in full if it holds '
                   'more than data (this can run code in it)')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    p.add_argument('--local-rank', '--local_rank', type=int, default=0)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    train(args.config, work_dir=args.work_dir, cfg_options=args.cfg_options,
          launcher=args.launcher, resume=args.resume, amp=args.amp,
          vis_backends=args.vis_backend, trust_checkpoint=args.trust_checkpoint)


if __name__ == '__main__':
    try:
        main()
    except (MissingDataError, PreflightError, DiskSpaceError) as err:  # the message says it all
        sys.exit(f'error: {type(err).__name__}: {err}')
