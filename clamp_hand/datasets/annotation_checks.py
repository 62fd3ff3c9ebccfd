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
    return visible_outside_image(k[:, :2], visible, img)


def visible_outside_image(xy: np.ndarray, visible: np.ndarray,
                          img: dict) -> Optional[Tuple[str, str]]:
    """``(DOUBTFUL, reason)`` when a visible keypoint lies outside its image, else None.
    ``xy``: (K, 2) keypoints in pixels of the image; ``visible``: (K,) bool; ``img``: the COCO
    image record (``width``, ``height``)."""
    pts = xy[visible]
    outside = ((pts[:, 0] < 0) | (pts[:, 1] < 0) | (pts[:, 0] > img['width'])
               | (pts[:, 1] > img['height']))
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


# ---- whole-file and image-size checks (shared by HandKeypointDataset and checked_datasets) ----
BOX_OVERRUN_TOLERANCE = 0.1  # fraction of the image width/height a box may run past the border


def empty_annotations_problem(ann_file: str, data: dict) -> Optional[str]:
    """``'FILE has N images and no annotation'`` when the json lists no annotation at all
    (mmengine would fail later with ``need at least one array to concatenate``), else None."""
    if data.get('annotations'):
        return None
    n = len(data.get('images') or [])
    return (f'{ann_file} has {n} images and no annotation ("annotations" is '
            f'{"missing" if "annotations" not in data else "empty"}): write the hand '
            'annotations into it (see data/README.md for the converters), or point the '
            'config at the right file')


def box_overrun(box, img: dict) -> float:
    """How far a COCO box ``[x, y, w, h]`` runs past the border of its image, as a fraction of
    the image width/height (0 when it lies inside)."""
    x, y, w, h = (float(v) for v in box)
    width, height = float(img['width']), float(img['height'])
    return max(0.0, (x + w - width) / width, (y + h - height) / height, -x / width,
               -y / height)


def box_overrun_warning(ann_file: str, overruns, total: int) -> Optional[str]:
    """A warning when boxes run more than ``BOX_OVERRUN_TOLERANCE`` past the image border,
    naming the file, the count and the likely cause (``x1,y1,x2,y2`` written as ``x,y,w,h``);
    ``overruns``: :func:`box_overrun` of each checked box."""
    far = [o for o in overruns if o > BOX_OVERRUN_TOLERANCE]
    if not far:
        return None
    return (f'{ann_file}: {len(far)} of {total} boxes run more than '
            f'{BOX_OVERRUN_TOLERANCE:.0%} of the image size past the image border (up to '
            f'{max(far):.0%}). Are they written as x1,y1,x2,y2? COCO boxes are x,y,w,h '
            '(w = x2 - x1, h = y2 - y1): convert the file, or the crops (and COCO AP areas) '
            'will be wrong')


def flat_keypoints(kpts):
    """RHD-style nested keypoints ``[[x, y, v], ...]`` as a flat list ``[x, y, v, ...]``
    (other values are returned unchanged)."""
    if isinstance(kpts, (list, tuple)) and kpts and all(
            isinstance(k, (list, tuple)) for k in kpts):
        return [v for k in kpts for v in k]
    return kpts


EXIF_ORIENTATION = 0x0112  # EXIF tag 274 'Orientation' (TIFF/EXIF 2.3, table 4)


def exif_orientation(path: str) -> Optional[int]:
    """The EXIF Orientation tag of an image file (1-8), or None; reads only the header
    (PIL opens lazily, the pixels are not decoded)."""
    try:
        from PIL import Image
        with Image.open(path) as im:
            value = im.getexif().get(EXIF_ORIENTATION)
    except Exception:  # not an image PIL knows, or no EXIF block
        return None
    return int(value) if value else None


def decoded_size_problem(path: str, decoded_hw, record_wh) -> Optional[str]:
    """Why a decoded image disagrees with its ``images`` record, or None. ``decoded_hw``:
    ``(height, width)`` after decoding (e.g. ``ori_shape`` of ``LoadImage``); ``record_wh``:
    the record's ``(width, height)``. Names the EXIF Orientation tag when the file has one
    (OpenCV and mmcv rotate such images on decode unless told not to)."""
    h, w = (int(v) for v in decoded_hw[:2])
    rw, rh = (int(round(float(v))) for v in record_wh)
    if (w, h) == (rw, rh):
        return None
    reason = f'decodes to {w}x{h} pixels but its image record says {rw}x{rh}'
    tag = exif_orientation(path) if isinstance(path, str) else None
    if tag and tag != 1:
        reason += (f'; the file carries EXIF Orientation={tag}, which the decoder applied. If '
                   'the record and keypoints are those of the stored pixels, read the images '
                   "with LoadImage(color_type='color_ignore_orientation'); otherwise fix the "
                   "record's width/height and keypoints")
    else:
        reason += '; fix the width/height of the image record (and check its keypoints)'
    return reason
