"""AssemblyHands 2D keypoint json -> COCO keypoints json (one-hand and two-hand layouts).

Raw format (e.g. ``assemblyhands_train_ego_data_v1-1.json``): COCO-like ``images`` (id,
file_name, width, height) and ``annotations``, one per image, each with

* ``keypoints``: 42 joints as ``x, y, score`` (flat 126 numbers or a 42 x 3 list): the right
  hand's 21, then the left hand's 21, each hand in the native order thumb tip -> thumb base
  (4), index tip -> base (4), middle (4), ring (4), little (4), wrist (index 20);
* ``joint_valid``: 42 flags (flat or nested);
* ``bbox``: ``{"right": [x1, y1, x2, y2] or null, "left": [...] or null}``.

Outputs (the native joint order is kept, wrist last):

* one-hand: one instance per valid hand (box present with positive size, at least one valid
  joint), 21 keypoints, ``hand_type`` ``"right"``/``"left"``;
* two-hand: one instance per raw annotation, 42 keypoints (right 21, then left 21), ``bbox``
  = union of the hand boxes, ``hand_boxes`` = ``{"right": [x, y, w, h] or None, "left": ...}``.

Boxes become ``[x, y, w, h]`` (not clipped) and ``area = w * h``. Valid joints get visibility
2, invalid joints and the joints of a hand without a usable box are written as ``0, 0, 0``.
Raw annotations that cannot be used are skipped and counted by reason (``DROP_REASONS``);
only a file that is not in this format at all raises an error.
"""
import json
import math
import os

HAND_SIDES = ('right', 'left')  # order of the two hands in the 42-joint layout
_FINGERS = ('thumb', 'forefinger', 'middle_finger', 'ring_finger', 'pinky_finger')
_THUMB_JOINTS = ('tip', 'ip', 'mcp', 'cmc')
_FINGER_JOINTS = ('tip', 'dip', 'pip', 'mcp')
# 21 native joint names: tip -> base per finger, then the wrist
KEYPOINT_NAMES = tuple(f'{f}_{j}' for f in _FINGERS
                       for j in (_THUMB_JOINTS if f == 'thumb' else _FINGER_JOINTS)) + ('wrist',)
NUM_JOINTS = len(KEYPOINT_NAMES)  # 21
WRIST = 20
# 0-based links, from the wrist out: wrist-base, base-.., ..-tip for every finger
SKELETON = tuple(link for f in range(5)
                 for link in ((WRIST, 4 * f + 3), (4 * f + 3, 4 * f + 2),
                              (4 * f + 2, 4 * f + 1), (4 * f + 1, 4 * f)))

# Why a raw annotation is skipped (it is then missing from both outputs).
DROP_REASONS = (
    'image_missing',         # image_id not in images, or the file is not under image_root
    'no_hand_box',           # both hand boxes are null
    'wrong_keypoint_count',  # keypoints not 42 x 3 numbers, or joint_valid not 42 flags
    'degenerate_box',        # no hand box with w > 0 and h > 0 left
    'no_valid_joints',       # no valid joint on the hands that have a box
    'malformed',             # not a dict, or a field missing / of the wrong type
)


def keypoint_names(num_hands):
    """21 native names for one hand; 42 (``right_*`` then ``left_*``) for two."""
    if num_hands == 1:
        return list(KEYPOINT_NAMES)
    return [f'{side}_{n}' for side in HAND_SIDES for n in KEYPOINT_NAMES]


def coco_categories(num_hands):
    """COCO ``categories`` entry; the skeleton is 1-based as in COCO."""
    links = [[a + 1, b + 1] for a, b in SKELETON]
    if num_hands == 2:
        links = links + [[a + NUM_JOINTS, b + NUM_JOINTS] for a, b in links]
    return [dict(id=1, name='hand', supercategory='hand', keypoints=keypoint_names(num_hands),
                 skeleton=links)]


class _Skip(Exception):
    """A raw annotation that is skipped, with the reason (one of ``DROP_REASONS``)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _flatten(values):
    """Flat list of a flat or nested (one level) list."""
    if not isinstance(values, (list, tuple)):
        raise _Skip('malformed')
    out = []
    for v in values:
        out.extend(v if isinstance(v, (list, tuple)) else [v])
    return out


def _number(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise _Skip('malformed')
    return float(v)


def _parse_keypoints(ann):
    """-> (42, 3) nested list of floats, and 42 bools (joint valid)."""
    if 'keypoints' not in ann or 'joint_valid' not in ann:
        raise _Skip('malformed')
    kps = ann['keypoints']
    if isinstance(kps, (list, tuple)) and kps and isinstance(kps[0], (list, tuple)):
        if any(not isinstance(k, (list, tuple)) or len(k) != 3 for k in kps):
            raise _Skip('wrong_keypoint_count')
    flat = _flatten(kps)
    valid = _flatten(ann['joint_valid'])
    if len(flat) != 2 * NUM_JOINTS * 3 or len(valid) != 2 * NUM_JOINTS:
        raise _Skip('wrong_keypoint_count')
    flat = [_number(v) for v in flat]
    valid = [_number(v) > 0 for v in valid]
    return [flat[3 * i:3 * i + 3] for i in range(2 * NUM_JOINTS)], valid


def _parse_boxes(ann):
    """-> {'right': [x, y, w, h] or None, 'left': ...}; degenerate boxes become None."""
    raw = ann.get('bbox')
    if not isinstance(raw, dict):
        raise _Skip('malformed')
    boxes = {side: raw.get(side) for side in HAND_SIDES}
    if all(b is None for b in boxes.values()):
        raise _Skip('no_hand_box')
    out = {}
    for side, b in boxes.items():
        if b is None:
            out[side] = None
            continue
        b = _flatten(b)
        if len(b) != 4:
            raise _Skip('malformed')
        x1, y1, x2, y2 = (_number(v) for v in b)
        out[side] = [x1, y1, x2 - x1, y2 - y1] if x2 > x1 and y2 > y1 else None
    if all(b is None for b in out.values()):
        raise _Skip('degenerate_box')
    return out


def _hand_keypoints(joints, valid, present):
    """21 joints of one hand -> flat COCO keypoints and the labeled count."""
    flat, n = [], 0
    for (x, y, _score), ok in zip(joints, valid):
        if present and ok:
            flat += [x, y, 2]
            n += 1
        else:
            flat += [0, 0, 0]
    return flat, n


def convert_assemblyhands(raw, image_root=None, source='<input>'):
    """Convert a loaded raw AssemblyHands dict.

    Args:
        raw: the raw json (dict with ``images`` and ``annotations``).
        image_root: when given, an annotation whose ``file_name`` is not a file under this
            folder is dropped (``image_missing``), and so is its image entry.
        source: name used in error messages (the file path).

    Returns:
        ``(onehand, twohands, stats)``: two COCO dicts and
        ``stats = {'records': int, 'kept': {'onehand': int, 'twohands': int},
        'dropped': {reason: int for reason in DROP_REASONS},
        'hands_skipped': {'degenerate_box': int, 'no_valid_joints': int}}``; ``hands_skipped``
        counts single hands left out of the one-hand output (and zeroed in the two-hand one)
        while the other hand of the same record was kept.

    Raises:
        ValueError: ``raw`` is not in this format (names ``source`` and the missing field).
    """
    if not isinstance(raw, dict):
        raise ValueError(f'{source}: not an AssemblyHands keypoint json (top level is '
                         f'{type(raw).__name__}, expected an object)')
    for field in ('images', 'annotations'):
        if field not in raw:
            raise ValueError(f'{source}: not an AssemblyHands keypoint json: missing top-level '
                             f'field "{field}"')
        if not isinstance(raw[field], list):
            raise ValueError(f'{source}: top-level field "{field}" must be a list')

    images, present_ids = [], set()
    for img in raw['images']:
        if not isinstance(img, dict) or 'id' not in img or 'file_name' not in img:
            continue  # an unusable image entry: its annotations count as image_missing
        if image_root is not None and not os.path.isfile(
                os.path.join(image_root, str(img['file_name']))):
            continue
        images.append(dict(img))
        present_ids.add(img['id'])

    stats = dict(records=len(raw['annotations']), kept=dict(onehand=0, twohands=0),
                 dropped={r: 0 for r in DROP_REASONS},
                 hands_skipped=dict(degenerate_box=0, no_valid_joints=0))
    one_anns, two_anns = [], []
    for ann in raw['annotations']:
        try:
            if not isinstance(ann, dict):
                raise _Skip('malformed')
            if ann.get('image_id') not in present_ids:
                raise _Skip('image_missing')
            joints, valid = _parse_keypoints(ann)
            raw_boxes = ann.get('bbox') if isinstance(ann.get('bbox'), dict) else {}
            boxes = _parse_boxes(ann)
            hands = {}
            for h, side in enumerate(HAND_SIDES):
                sl = slice(h * NUM_JOINTS, (h + 1) * NUM_JOINTS)
                hands[side] = _hand_keypoints(joints[sl], valid[sl], boxes[side] is not None)
            if sum(n for _, n in hands.values()) == 0:
                raise _Skip('no_valid_joints')
        except _Skip as skip:
            stats['dropped'][skip.reason] += 1
            continue
        image_id = ann['image_id']
        for side in HAND_SIDES:
            kps, n = hands[side]
            if boxes[side] is None:
                if raw_boxes.get(side) is not None:
                    stats['hands_skipped']['degenerate_box'] += 1
                continue
            if n == 0:
                stats['hands_skipped']['no_valid_joints'] += 1
                continue
            box = boxes[side]
            one_anns.append(dict(id=len(one_anns) + 1, image_id=image_id, category_id=1,
                                 bbox=box, area=box[2] * box[3], iscrowd=0, num_keypoints=n,
                                 keypoints=kps, hand_type=side))
        seen = [b for b in boxes.values() if b is not None]
        x0, y0 = min(b[0] for b in seen), min(b[1] for b in seen)
        x1, y1 = max(b[0] + b[2] for b in seen), max(b[1] + b[3] for b in seen)
        two_anns.append(dict(id=len(two_anns) + 1, image_id=image_id, category_id=1,
                             bbox=[x0, y0, x1 - x0, y1 - y0], area=(x1 - x0) * (y1 - y0),
                             iscrowd=0, num_keypoints=sum(n for _, n in hands.values()),
                             keypoints=hands['right'][0] + hands['left'][0],
                             hand_boxes=dict(boxes)))
    stats['kept'] = dict(onehand=len(one_anns), twohands=len(two_anns))
    info = dict(description=f'AssemblyHands converted by clamp_hand from '
                f'{os.path.basename(source)}', keypoint_order='AssemblyHands native: per '
                'finger tip -> base (thumb, index, middle, ring, little), wrist last')
    onehand = dict(info=info, images=images, annotations=one_anns,
                   categories=coco_categories(1))
    twohands = dict(info=dict(info, keypoint_order=info['keypoint_order']
                              + '; right hand 21 then left hand 21'),
                    images=images, annotations=two_anns, categories=coco_categories(2))
    return onehand, twohands, stats


def convert_file(in_json, out_dir, image_root=None):
    """Convert ``in_json`` and write ``out_dir/<stem>_onehand.json`` and
    ``out_dir/<stem>_twohands.json`` (stem: the input name without ``.json``).

    Returns ``stats`` (see :func:`convert_assemblyhands`) plus ``'outputs'``:
    ``{'onehand': path, 'twohands': path}``.
    """
    try:
        with open(in_json) as fh:
            raw = json.load(fh)
    except json.JSONDecodeError as err:
        raise ValueError(f'{in_json}: not valid json ({err})') from None
    onehand, twohands, stats = convert_assemblyhands(raw, image_root=image_root,
                                                     source=str(in_json))
    stem = os.path.basename(str(in_json))
    stem = stem[:-len('.json')] if stem.endswith('.json') else stem
    os.makedirs(out_dir, exist_ok=True)
    stats['outputs'] = {}
    for kind, coco in (('onehand', onehand), ('twohands', twohands)):
        path = os.path.join(out_dir, f'{stem}_{kind}.json')
        with open(path, 'w') as fh:
            json.dump(coco, fh, separators=(',', ':'))
        stats['outputs'][kind] = path
    return stats


def format_summary(stats):
    """Human-readable lines of a ``stats`` dict."""
    lines = [f'raw annotations: {stats["records"]}']
    for kind, n in stats['kept'].items():
        where = f' -> {stats["outputs"][kind]}' if 'outputs' in stats else ''
        lines.append(f'kept {kind}: {n} instances{where}')
    dropped = sum(stats['dropped'].values())
    lines.append(f'dropped annotations: {dropped}')
    lines += [f'  {reason}: {n}' for reason, n in stats['dropped'].items()]
    lines.append('single hands left out (other hand kept): '
                 + ', '.join(f'{k}: {n}' for k, n in stats['hands_skipped'].items()))
    return '\n'.join(lines)
