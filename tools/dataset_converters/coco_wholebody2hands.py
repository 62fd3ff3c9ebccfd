"""Write one COCO keypoints instance per valid hand of a COCO-WholeBody json:
``python tools/dataset_converters/coco_wholebody2hands.py IN.json OUT.json``
(e.g. data/coco/annotations/coco_wholebody_val_v1.0.json -> ..._v1.0_hands.json)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from clamp_hand.datasets.coco_wholebody_hands import convert_file  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('src', help='COCO-WholeBody annotation json')
    p.add_argument('dst', help='output hand json')
    args = p.parse_args(argv)
    counts = convert_file(args.src, args.dst)
    print(f'{args.dst}: kept {counts["kept"]} hands; dropped {counts["invalid"]} not valid, '
          f'{counts["empty_box"]} empty boxes, {counts["no_keypoints"]} without keypoints')


if __name__ == '__main__':
    main()
