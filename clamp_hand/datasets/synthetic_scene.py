"""Scenes of synthetic hands: difficulty presets, views and placement of the posed hands, the
pinhole camera, cluttered backgrounds, compositing with camera effects, and one annotated image
(:func:`render_sample`).

Conventions
-----------
* Hands get a random global 3D rotation (``DIFFICULTIES``: any, or near-frontal and upright) and
  are seen through a pinhole camera (OpenCV frame: x right, y down, z forward, cm).
* Image coordinates: continuous pixels, COCO style: pixel ``(col, row)`` covers
  ``[col, col + 1) x [row, row + 1)``, so its centre is at ``(col + 0.5, row + 0.5)``; a keypoint
  at ``(x, y)`` falls in pixel ``(floor(x), floor(y))``. Keypoints are rounded to 0.01 px
  before the visibility test, so the saved values reproduce it exactly. A keypoint's sample in
  the supersampled label map is ``(floor(x * ss), floor(y * ss))``.
* Visibility from the z-buffer's part labels:

  * ``v=2``: the joint's pixel shows one of the joint's own bones (e.g. the PIP pixel shows the
    proximal or the middle phalanx of that finger);
  * ``v=1``: the joint lies in the image but its pixel shows some other, nearer part (another
    bone of the same hand, the palm, the forearm, or the other hand);
  * ``v=0``: the joint projects outside the image (truncated); stored as ``x = y = 0``.

Every image comes from its own ``numpy.random.Generator`` (:func:`image_rng`); the order of the
random draws below fixes the images, so changing it changes every dataset.
"""
import math
import zlib

import cv2
import numpy as np

from .synthetic_hand_model import (ALL_POSE_MODES, NUM_KEYPOINTS, NUM_PARTS, PART_PALM,
                                   build_hand, joint_labels, part_label, rot_x, rot_y, rot_z,
                                   sample_pose)
from .synthetic_render import SKIN_TONES, noise_field, rasterise_hands, shade_hands

# Sampling presets (``difficulty`` of :func:`render_sample` and the generator tool).
#   ``pose_modes``: probabilities of the pose families of :func:`sample_pose` (open, relaxed,
#   fist, gesture, random); ``view``: ``None`` for a uniform random 3D rotation, else
#   ``(max_tilt, max_roll)`` in degrees: the palm or the back of the hand faces the camera,
#   tilted up to ``max_tilt`` about both image axes, fingers within ``max_roll`` of pointing up;
#   ``frame``: share of the image the hand's box spans; ``truncation``: chance per image axis
#   that the box is pushed 5-40 % past a border.
DIFFICULTIES = {
    # everything the generator can do: any view, fists, small and truncated hands
    'hard': dict(pose_modes=ALL_POSE_MODES, view=None, frame=(0.35, 0.9),
                 truncation=0.12),
    # a learnable-in-minutes subset for CPU tutorials: near-frontal, near-upright views, no
    # fists, hands that fill most of the image and never leave it (the quickstart's data; with
    # view=(30, 60) its model reached AP 0.29 after 6 epochs instead of 0.48 after 7)
    'easy': dict(pose_modes=(0.4, 0.35, 0.0, 0.25, 0.0), view=(20.0, 30.0), frame=(0.55, 0.9),
                 truncation=0.0),
}


def difficulty_preset(name):
    if name not in DIFFICULTIES:
        raise ValueError(f'unknown synthetic-hand difficulty {name!r}; choose one of '
                         f'{sorted(DIFFICULTIES)}')
    return DIFFICULTIES[name]


def _random_rotation(rng):
    """Uniform random 3D rotation (3, 3)."""
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def _frontal_rotation(rng, max_tilt, max_roll):
    """Rotation (3, 3) showing the palm or the back of the hand (even odds) to the camera,
    tilted up to ``max_tilt`` degrees about two axes, fingers within ``max_roll`` degrees of
    image-up."""
    side = rot_y(180.0) if rng.random() < 0.5 else np.eye(3)  # palm (+z) away: back seen
    tilt = rot_x(rng.uniform(-max_tilt, max_tilt)) @ rot_y(rng.uniform(-max_tilt, max_tilt))
    return rot_z(180.0 + rng.uniform(-max_roll, max_roll)) @ tilt @ side


def _posed_hand(rng, is_left, opts=DIFFICULTIES['hard']):
    """A random hand, mirrored if left, sampled as the preset ``opts`` (a value of
    ``DIFFICULTIES``) says, rotated into a camera-aligned frame centred on its keypoints (cm).
    Rotations that point the forearm at the camera, or steeply away from it (its far end would
    show), are re-drawn."""
    pose = sample_pose(rng, opts['pose_modes'])
    hand = build_hand(pose, scale=rng.uniform(0.85, 1.12), rng=rng)
    p0, p1 = hand['capsules'][-1][:2]
    arm = (p1 - p0) / np.linalg.norm(p1 - p0)
    mirror = np.diag([-1.0, 1.0, 1.0]) if is_left else np.eye(3)
    for _ in range(50):
        view = (_random_rotation(rng) if opts['view'] is None
                else _frontal_rotation(rng, *opts['view']))
        rot = view @ mirror
        if -0.3 < (rot @ arm)[2] < 0.3:
            break
    centre = hand['joints'].mean(0)

    def tp(p):
        return rot @ (p - centre)

    hand['joints'] = (hand['joints'] - centre) @ rot.T
    hand['capsules'] = [(tp(p0), tp(p1), r0, r1, part, None if d is None else rot @ d, tip)
                        for p0, p1, r0, r1, part, d, tip in hand['capsules']]
    hand['triangles'] = [((v - centre) @ rot.T, part, pl) for v, part, pl in hand['triangles']]
    hand['palm_normal'] = rot @ hand['palm_normal']
    hand['palm_centre'] = tp(hand['palm_centre'])
    return hand


def _translate(hand, t):
    hand['joints'] = hand['joints'] + t
    hand['capsules'] = [(p0 + t, p1 + t, r0, r1, part, d, tip)
                        for p0, p1, r0, r1, part, d, tip in hand['capsules']]
    hand['triangles'] = [(v + t, part, pl) for v, part, pl in hand['triangles']]
    hand['palm_centre'] = hand['palm_centre'] + t


def random_background(rng, h, w):
    """Cluttered background (h, w, 3) float32 RGB: gradient, smooth and fine textures,
    random shapes and sometimes skin-coloured distractors."""
    c1, c2 = rng.random((2, 3)).astype(np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    g = (xx * math.cos(ang) + yy * math.sin(ang)) / max(h, w)
    g = (g - g.min()) / (np.ptp(g) + 1e-6)
    img = c1 * (1 - g[..., None]) + c2 * g[..., None]
    img *= (0.7 + 0.6 * noise_field(rng, h, w, int(rng.integers(2, 8))))[..., None]
    if rng.random() < 0.35:  # stripes / fabric
        fx, fy = rng.normal(0, 0.5, 2)
        s = 0.5 + 0.5 * np.sin(xx * fx + yy * fy + rng.uniform(0, 6.3))
        img = img * (1 - 0.25 * s[..., None]) + 0.25 * s[..., None] * rng.random(3)
    canvas = np.ascontiguousarray((np.clip(img, 0, 1) * 255).astype(np.uint8))
    for _ in range(int(rng.integers(3, 14))):
        layer = canvas.copy()
        col = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.12:  # skin-coloured distractor
            tone = SKIN_TONES[rng.integers(len(SKIN_TONES))]
            col = tuple(int(c) for c in tone * rng.uniform(160, 255))
        kind = rng.integers(5)
        cx, cy = int(rng.integers(-w // 4, w + w // 4)), int(rng.integers(-h // 4, h + h // 4))
        s = int(rng.integers(max(2, w // 20), max(3, w // 2)))
        if kind == 0:
            cv2.rectangle(layer, (cx, cy), (cx + s, cy + int(rng.integers(2, s + 3))), col, -1)
        elif kind == 1:
            cv2.circle(layer, (cx, cy), s // 2, col, -1, cv2.LINE_AA)
        elif kind == 2:
            cv2.ellipse(layer, (cx, cy), (s // 2, max(1, s // int(rng.integers(2, 6)))),
                        float(rng.uniform(0, 180)), 0, 360, col, -1, cv2.LINE_AA)
        elif kind == 3:
            p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.line(layer, (cx, cy), p2, col, int(rng.integers(1, max(2, w // 25))), cv2.LINE_AA)
        else:
            poly = (np.array([cx, cy]) + rng.normal(0, s / 2, (int(rng.integers(3, 7)), 2)))
            cv2.fillPoly(layer, [poly.astype(np.int32)], col, cv2.LINE_AA)
        a = rng.uniform(0.5, 1.0)
        canvas = cv2.addWeighted(layer, a, canvas, 1 - a, 0)
    img = canvas.astype(np.float32) / 255
    img *= (0.85 + 0.3 * noise_field(rng, h, w, int(rng.integers(8, 20))))[..., None]
    img += rng.normal(0, rng.uniform(0.0, 0.05), (h, w, 1)).astype(np.float32)  # grain
    if rng.random() < 0.5:  # out-of-focus background
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 2.0))
    return np.clip(img, 0, 1)


def image_rng(seed, split, index):
    """The generator of image ``index`` of ``split`` (any string) for ``seed``."""
    return np.random.default_rng([int(seed), zlib.crc32(split.encode()), int(index)])


def render_sample(rng, size=128, num_hands=1, ss=3, difficulty='hard'):
    """Render one image with ``num_hands`` (1: a random right or left hand; 2: right + left),
    hands sampled as the ``difficulty`` preset says (a key of ``DIFFICULTIES``).

    Returns dict:
      ``image`` (size, size, 3) uint8 BGR, as written to disk (before JPEG);
      ``keypoints`` (21 * num_hands, 3) float64 ``[x, y, v]``, px, 0.01-px grid, x=y=0 if v=0;
      ``hand_types`` list of ``'right'``/``'left'`` per slot;
      ``hand_boxes`` list per slot of ``[x, y, w, h]`` (px) or None if the hand is not seen;
      ``bbox`` union ``[x, y, w, h]``;
      ``label_map`` (size*ss, size*ss) int16, see the module docstring;
      ``depth_map`` (size*ss, size*ss) float32 cm, inf on background;
      ``hand_mask`` (size, size) bool, pixels with any hand (incl. forearm) coverage;
      ``joint_depth`` (21 * num_hands,) float64 camera depth of each joint, cm;
      ``projected`` (21 * num_hands, 2) float64 image position of every joint, px, also of
      the truncated ones (0.01-px grid);
      ``ss`` int; ``jpeg_quality`` int.
    """
    assert num_hands in (1, 2)
    opts = difficulty_preset(difficulty)
    for _ in range(50):
        sample = _try_render(rng, size, num_hands, ss, opts)
        if sample is not None:
            return sample
    raise RuntimeError('could not place a visible hand in 50 tries')


def _try_render(rng, size, num_hands, ss, opts):
    """One attempt of :func:`render_sample` with the preset ``opts``; None if no keypoint
    ended up in the image."""
    types = ['right', 'left'] if num_hands == 2 else [('right', 'left')[int(rng.integers(2))]]
    hands = _place_hands(rng, [_posed_hand(rng, t == 'left', opts) for t in types])
    cam = _frame_camera(rng, hands, size, num_hands, opts)
    zb = rasterise_hands(rng, hands, cam, size, ss)
    hand_rgb, light = shade_hands(rng, zb, cam, ss)
    image = composite(rng, hand_rgb, zb.label > 0, light, size)
    kps, projected, jdepth, boxes = [], [], [], []
    for slot, hd in enumerate(hands):
        uv = np.round(cam.project(hd['joints']), 2)
        kp = _visibility(uv, zb.label, slot, ss, size)
        projected.append(uv)
        kps.append(kp)
        jdepth.append(hd['joints'][:, 2])
        boxes.append(_hand_box(zb.label, slot, kp, ss, size, size))
    keypoints = np.concatenate(kps)
    if not (keypoints[:, 2] > 0).any():
        return None
    seen = [b for b in boxes if b is not None]
    x0, y0 = min(b[0] for b in seen), min(b[1] for b in seen)
    x1, y1 = max(b[0] + b[2] for b in seen), max(b[1] + b[3] for b in seen)
    bbox = [round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)]
    if bbox[2] <= 0 or bbox[3] <= 0:
        return None
    return dict(image=image, keypoints=keypoints, hand_types=types, hand_boxes=boxes, bbox=bbox,
                label_map=zb.label, depth_map=zb.z,
                hand_mask=(zb.label > 0).reshape(size, ss, size, ss).any(axis=(1, 3)),
                joint_depth=np.concatenate(jdepth), projected=np.concatenate(projected), ss=ss,
                jpeg_quality=int(rng.integers(80, 96)))


def _place_hands(rng, hands):
    """Put the hands (camera-aligned, centred at the origin) in front of the camera; a second
    hand goes next to (and maybe over) the first. Returns ``hands``."""
    if len(hands) == 2:
        ang, dist = rng.uniform(0, 2 * math.pi), rng.uniform(0.3, 0.85) * 18.0
        _translate(hands[1], np.array([dist * math.cos(ang), dist * math.sin(ang),
                                       rng.normal(0, 3.0)]))
        mid = np.concatenate([hd['joints'] for hd in hands]).mean(0)
        for hd in hands:
            _translate(hd, -mid)
    depth = rng.uniform(35.0, 70.0)  # cm
    for hd in hands:
        _translate(hd, np.array([0.0, 0.0, depth]))
    zmin = min(min(p0[2], p1[2]) - max(r0, r1) for hd in hands
               for p0, p1, r0, r1, *_ in hd['capsules'])
    if zmin < 5.0:  # keep every primitive in front of the camera
        for hd in hands:
            _translate(hd, np.array([0.0, 0.0, 5.0 - zmin]))
    return hands


class _Camera:
    """Pinhole camera: focal length ``f`` (px), principal point ``pp`` (2,) px."""

    def __init__(self, f, pp):
        self.f, self.pp = f, pp

    def project(self, p):
        """Camera points (..., 3) cm -> image points (..., 2) px."""
        return self.f * p[..., :2] / p[..., 2:3] + self.pp


def _frame_camera(rng, hands, size, num_hands, opts=DIFFICULTIES['hard']):
    """Choose the focal length so that the hands' box spans a random share of the image
    (``opts['frame']`` for one hand), and the principal point so that the box lands at a random
    place, sometimes (``opts['truncation']``) across a border."""
    joints = np.concatenate([hd['joints'] for hd in hands])
    n = joints[:, :2] / joints[:, 2:3]
    pad = 1.0 / joints[:, 2:3]  # ~1 cm of flesh around the joints
    lo, hi = (n - pad).min(0), (n + pad).max(0)
    frac = rng.uniform(*opts['frame']) if num_hands == 1 else rng.uniform(0.5, 0.95)
    f = frac * size / max(hi - lo)
    box = (hi - lo) * f
    pp = np.zeros(2)
    for k in range(2):
        if rng.random() < opts['truncation']:  # truncated: push 5-40% of the box past one border
            out = rng.uniform(0.05, 0.4) * box[k]
            centre = box[k] / 2 - out if rng.random() < 0.5 else size - box[k] / 2 + out
        elif box[k] < size:
            centre = rng.uniform(box[k] / 2, size - box[k] / 2)
        else:
            centre = size / 2 + rng.normal(0, 0.05 * size)
        pp[k] = centre - f * (lo[k] + hi[k]) / 2
    return _Camera(f, pp)



def composite(rng, hand_rgb, mask, light, size):
    """Average the supersampled hands down, lay them with a soft drop shadow over a random
    background, then apply camera effects (exposure, colour cast, gamma, blur or motion
    blur, sensor noise). Returns (size, size, 3) uint8 BGR."""
    prem = cv2.resize(hand_rgb, (size, size), interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(mask.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    bg = random_background(rng, size, size)
    shadow = cv2.GaussianBlur(alpha, (0, 0), max(1.0, 0.03 * size))
    off = (-light[:2] / max(abs(light[2]), 0.3) * 0.04 * size).astype(np.float32)
    shadow = cv2.warpAffine(shadow, np.float32([[1, 0, off[0]], [0, 1, off[1]]]), (size, size))
    bg *= (1.0 - rng.uniform(0.2, 0.5) * shadow)[..., None]
    img = bg * (1 - alpha[..., None]) + prem
    img = img * (rng.uniform(0.7, 1.25) * (1 + rng.normal(0, 0.05, 3))).astype(np.float32)
    img = np.clip(img, 0, 1) ** np.float32(rng.uniform(0.8, 1.25))
    r = rng.random()
    if r < 0.4:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.1))
    elif r < 0.5:  # motion blur along a random direction
        klen = int(rng.integers(3, max(4, size // 25)))
        kern = np.zeros((klen, klen), np.float32)
        kern[klen // 2] = 1.0 / klen
        rot = cv2.getRotationMatrix2D((klen / 2 - 0.5, klen / 2 - 0.5), rng.uniform(0, 180), 1)
        kern = cv2.warpAffine(kern, rot, (klen, klen))
        img = cv2.filter2D(img, -1, kern / max(kern.sum(), 1e-6))
    img = img + rng.normal(0, rng.uniform(0.0, 0.03), img.shape).astype(np.float32)
    return cv2.cvtColor((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR)


def _visibility(uv, label, slot, ss, size):
    """Keypoints (21, 3) ``[x, y, v]`` of hand ``slot`` from its projected joints ``uv``
    (21, 2) px and the label map (see the module docstring for the rules)."""
    kp = np.zeros((NUM_KEYPOINTS, 3))
    for j, (x, y) in enumerate(uv):
        if not (0 <= x < size and 0 <= y < size):
            continue  # truncated: v = 0 at 0, 0
        lab = label[int(math.floor(y * ss)), int(math.floor(x * ss))]
        kp[j] = (x, y, 2 if (lab == 0 or lab in joint_labels(slot, j)) else 1)
    return kp


def _hand_box(label, slot, kp, ss, w, h):
    """Tight ``[x, y, w, h]`` (px) of a hand's visible pixels (forearm excluded) and its
    labeled keypoints, clipped to the image; None if nothing of it is seen."""
    lo, hi = part_label(slot, PART_PALM), part_label(slot, NUM_PARTS - 1)
    m = (label >= lo) & (label <= hi)
    xs, ys = [], []
    cols, rows = np.flatnonzero(m.any(0)), np.flatnonzero(m.any(1))
    if cols.size:
        xs += [cols[0] / ss, (cols[-1] + 1) / ss]
        ys += [rows[0] / ss, (rows[-1] + 1) / ss]
    lab = kp[kp[:, 2] > 0]
    xs += list(lab[:, 0])
    ys += list(lab[:, 1])
    if not xs:
        return None
    # round outwards to the 0.01-px grid, then clip
    x0, x1 = math.floor(min(xs) * 100) / 100, math.ceil(max(xs) * 100) / 100
    y0, y1 = math.floor(min(ys) * 100) / 100, math.ceil(max(ys) * 100) / 100
    x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
    if x1 <= x0 or y1 <= y0:
        return None
    return [x0, y0, round(x1 - x0, 2), round(y1 - y0, 2)]

