"""Checks of COCO hand keypoint records, and of image files, with one short reason each.

Two kinds of problem (see ``HandKeypointDataset`` for what is done with each):

- ``BROKEN``: the record cannot be used or scored at all (a missing field, a zero or negative
  box, a keypoint list of the wrong length, an image record without size, an annotation of an
  image that is not in ``images``);
- ``DOUBTFUL``: the record is well formed but should not be trained on (no visible keypoint,
  a visible keypoint outside the image). Evaluation keeps these as ground truth.
"""
import math
import os.path as osp
from typing import Optional, Tuple

import cv2
import numpy as np

BROKEN, DOUBTFUL = 'broken', 'doubtful'
ANNOTATION_FIELDS = ('id', 'image_id', 'category_id', 'bbox', 'keypoints')
IMAGE_FIELDS = ('id', 'file_name', 'width', 'height')


def image_record_problem(img: dict) -> Optional[str]:
    """Reason why an ``images`` entry is unusable, or None."""
    missing = [f for f in IMAGE_FIELDS if f not in img]
    if missing:
        return f'image record misses field(s) {", ".join(missing)}'
    if not (_is_number(img['width']) and _is_number(img['height'])
            and img['width'] > 0 and img['height'] > 0):
        return f'image record has size {img["width"]}x{img["height"]}'
    return None


def annotation_problem(ann: dict, img: Optional[dict],
                       num_keypoints: int) -> Optional[Tuple[str, str]]:
    """``(BROKEN or DOUBTFUL, reason)`` for one annotation, or None when it is fine.
    ``img``: its image record (None when ``image_id`` is not in ``images``)."""
    missing = [f for f in ANNOTATION_FIELDS if f not in ann]
    if missing:
        return BROKEN, f'missing field(s) {", ".join(missing)}'
    if img is None:
        return BROKEN, f'image_id {ann["image_id"]} is not in the images list'
    bad_img = image_record_problem(img)
    if bad_img:
        return BROKEN, bad_img
    box = ann['bbox']
    if (not isinstance(box, (list, tuple)) or len(box) != 4
            or not all(_is_number(v) for v in box)):
        return BROKEN, f'bbox {box!r} is not 4 finite numbers [x, y, w, h]'
    x, y, w, h = box
    if w <= 0 or h <= 0:
        return BROKEN, f'bbox {list(box)} has zero or negative size'
    if x >= img['width'] or y >= img['height'] or x + w <= 0 or y + h <= 0:
        return BROKEN, f'bbox {list(box)} lies outside the {img["width"]}x{img["height"]} image'
    kpts = ann['keypoints']
    if not isinstance(kpts, (list, tuple)) or len(kpts) != 3 * num_keypoints:
        n = len(kpts) if isinstance(kpts, (list, tuple)) else type(kpts).__name__
        return BROKEN, (f'keypoints has {n} values; the layout has {num_keypoints} keypoints, '
                        f'so {3 * num_keypoints} values (x, y, visibility) are expected')
    if not all(_is_number(v) for v in kpts):
        return BROKEN, 'keypoints hold non-numeric or non-finite values'
    k = np.asarray(kpts, dtype=np.float64).reshape(-1, 3)
    visible = k[:, 2] > 0
    if not visible.any():
        return DOUBTFUL, 'no visible keypoint'
    xy = k[visible, :2]
    outside = ((xy[:, 0] < 0) | (xy[:, 1] < 0) | (xy[:, 0] > img['width'])
               | (xy[:, 1] > img['height']))
    if outside.any():
        idx = np.flatnonzero(visible)[outside].tolist()
        return DOUBTFUL, (f'visible keypoint(s) {idx} outside the '
                          f'{img["width"]}x{img["height"]} image')
    return None


def image_file_problem(path: str) -> Optional[str]:
    """Why an image file cannot be used (missing, unreadable, undecodable), or None."""
    if not osp.isfile(path):
        return 'file not found'
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as err:
        return f'unreadable ({err.strerror})'
    if not data:
        return 'empty file'
    if cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is None:
        return 'cannot be decoded (corrupt or truncated image)'
    return None


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
