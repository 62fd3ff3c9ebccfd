"""Convert an AssemblyHands 2D keypoint json to COCO keypoints json files.

    python tools/dataset_converters/assemblyhands2coco.py \
        data/assemblyhands/annotations/assemblyhands_train_ego_data_v1-1.json \
        --out-dir data/assemblyhands/annotations --image-root data/assemblyhands/images

writes ``OUT_DIR/<stem>_onehand.json`` (one 21-keypoint instance per hand) and
``OUT_DIR/<stem>_twohands.json`` (one 42-keypoint instance per image, right hand then left),
both in AssemblyHands' native joint order, and prints what was kept and dropped. See
``clamp_hand/datasets/assemblyhands_converter.py`` for the rules.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from clamp_hand.datasets.assemblyhands_converter import convert_file, format_summary  # noqa


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('in_json', help='raw AssemblyHands json')
    p.add_argument('--out-dir', required=True, help='folder for the two output files')
    p.add_argument('--image-root', default=None,
                   help='folder the images\' file_name is relative to; when given, annotations '
                   'of images that are not there are dropped')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        stats = convert_file(args.in_json, args.out_dir, image_root=args.image_root)
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(format_summary(stats))


if __name__ == '__main__':
    main()
