"""COCO-WholeBody -> one COCO keypoints instance per valid hand.

mmpose's ``CocoWholeBodyHandDataset`` reads hands straight from the whole-body json, but its
samples carry no per-hand ground truth that ``CocoMetric`` could score (the json's
annotations are whole persons). Converting once gives a plain hand json that every
COCO-style tool here reads, with ``area`` = hand box ``w * h`` for OKS.
"""
import json
from typing import Dict, Tuple


def convert_coco_wholebody_hands(src: dict) -> Tuple[dict, Dict[str, int]]:
    """Return ``(hand_json, counts)``. Each person's ``lefthand``/``righthand`` becomes one
    annotation when ``*_valid`` is true, its box has positive size and a keypoint is labeled;
    ``hand_type`` records the side. Keypoints keep COCO-WholeBody's wrist-first order."""
    out_anns, counts = [], dict(kept=0, invalid=0, empty_box=0, no_keypoints=0)
    for ann in src.get('annotations', []):
        for side in ('left', 'right'):
            if not ann.get(f'{side}hand_valid', False):
                counts['invalid'] += 1
                continue
            x, y, w, h = ann[f'{side}hand_box']
            kpts = ann[f'{side}hand_kpts']
            if w <= 0 or h <= 0:
                counts['empty_box'] += 1
                continue
            labeled = sum(1 for v in kpts[2::3] if v > 0)
            if labeled == 0:
                counts['no_keypoints'] += 1
                continue
            out_anns.append(dict(id=len(out_anns) + 1, image_id=ann['image_id'], category_id=1,
                                 bbox=[x, y, w, h], area=float(w * h), iscrowd=0,
                                 keypoints=list(kpts), num_keypoints=labeled, hand_type=side,
                                 person_id=ann.get('id')))
            counts['kept'] += 1
    used = {a['image_id'] for a in out_anns}
    images = [dict(id=i['id'], file_name=i['file_name'], width=i['width'], height=i['height'])
              for i in src.get('images', []) if i['id'] in used]
    category = dict(id=1, name='hand', supercategory='hand', keypoints=[], skeleton=[])
    return dict(images=images, annotations=out_anns, categories=[category]), counts


def convert_file(src_path: str, dst_path: str) -> Dict[str, int]:
    """Convert ``src_path`` (COCO-WholeBody json) to ``dst_path``; returns the counts."""
    with open(src_path) as f:
        src = json.load(f)
    if 'annotations' not in src or 'images' not in src:
        raise ValueError(f'{src_path}: not a COCO json (needs "images" and "annotations")')
    out, counts = convert_coco_wholebody_hands(src)
    with open(dst_path, 'w') as f:
        json.dump(out, f)
    return counts
