"""Render a synthetic hand keypoint dataset (COCO keypoints format).

    python tools/dataset_converters/make_synthhands.py --out data/synthhands \
        --hands 1 --num-train 2000 --num-val 200 --size 128 --seed 0 [--difficulty easy]

writes ``OUT/images/{train,val}/NNNNNN.jpg`` and ``OUT/annotations/{train,val}.json``; see
``clamp_hand/datasets/synthetic_hands.py`` for the hand model, the keypoint order and the
visibility rules. The output depends only on the arguments (not on ``--workers``).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from clamp_hand.datasets.synthetic_hands import DIFFICULTIES, generate_dataset  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--hands', type=int, choices=(1, 2), default=1,
                   help='1: one hand per image (21 keypoints); 2: a right and a left hand '
                   '(one 42-keypoint instance per image)')
    p.add_argument('--num-train', type=int, default=1000)
    p.add_argument('--num-val', type=int, default=100)
    p.add_argument('--size', type=int, default=128, help='image side, px')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--difficulty', choices=sorted(DIFFICULTIES), default='hard',
                   help='hard: any 3D view, fists, small and truncated hands (default); '
                   'easy: near-frontal views, no fists, large hands inside the image')
    p.add_argument('--workers', type=int, default=None,
                   help='processes (default: min(2, cpu count))')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    cocos = generate_dataset(args.out, args.num_train, args.num_val, size=args.size,
                             num_hands=args.hands, seed=args.seed, workers=args.workers,
                             difficulty=args.difficulty)
    n = sum(len(c['images']) for c in cocos.values())
    dt = time.time() - t0
    counts = ', '.join(f'{k}: {len(c["images"])}' for k, c in cocos.items())
    print(f'wrote {n} images ({counts}) to {args.out} in {dt:.1f} s '
          f'({n / max(dt, 1e-9) * 60:.0f} images/min)')


if __name__ == '__main__':
    main()
