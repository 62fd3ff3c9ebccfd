"""Synthetic hand images with exact 2D keypoints, for smoke tests and tutorials.

Each image shows one hand (right or left) or a right and a left hand together. A hand is an
articulated 3D skeleton (wrist, palm, thumb CMC/MCP/IP, finger MCP/PIP/DIP joints with
anatomical bone-length ratios and joint limits) dressed in tapered capsules (one per bone, a few
for the palm and the forearm) and thin triangles (palm fill, thumb web). Hands get a random
global 3D rotation and are seen through a pinhole camera. Every surface pixel goes through a
z-buffer, so self-occlusion and occlusion between the two hands are exact, and the buffer's
part labels give each keypoint its visibility:

* ``v=2``: the joint's pixel shows one of the joint's own bones (e.g. the PIP pixel shows the
  proximal or the middle phalanx of that finger);
* ``v=1``: the joint lies in the image but its pixel shows some other, nearer part (another
  bone of the same hand, the palm, the forearm, or the other hand);
* ``v=0``: the joint projects outside the image (truncated); stored as ``x = y = 0``.

Conventions
-----------
* Hand frame (right hand, cm): wrist at the origin, +y from the wrist to the fingers, +x towards
  the thumb, +z out of the palm (fingers flex towards +z). A left hand is the mirror image
  (x -> -x).
* Camera frame (OpenCV): x right, y down, z forward, depths in cm.
* Image coordinates: continuous pixels, COCO style: pixel ``(col, row)`` covers
  ``[col, col + 1) x [row, row + 1)``, so its centre is at ``(col + 0.5, row + 0.5)``; a keypoint
  at ``(x, y)`` falls in pixel ``(floor(x), floor(y))``. Keypoints are rounded to 0.01 px
  before the visibility test, so the saved values reproduce it exactly.
* Rendering happens at ``ss`` times the image resolution (supersampling, default 3) and is
  averaged down. The label and depth maps stay at that resolution: their pixel ``(c, r)``
  covers image coordinates ``[c / ss, (c + 1) / ss) x [r / ss, (r + 1) / ss)``; a keypoint's
  sample is ``(floor(x * ss), floor(y * ss))``.
* Labels: 0 = background, else ``1 + slot * NUM_PARTS + part`` where ``slot`` is the hand's
  index in the annotation (0 for the single hand; 0 = right, 1 = left for two hands) and
  ``part`` indexes ``PART_NAMES``.

Keypoints (21 per hand, wrist first, OneHand10K order): ``KEYPOINT_NAMES``. Two-hand images
have 42: the right hand's 21, then the left hand's 21.

Output of :func:`generate_dataset`::

    DIR/images/{train,val}/000000.jpg ...
    DIR/annotations/{train,val}.json      (COCO keypoints)

One annotation per image: ``bbox`` ``[x, y, w, h]`` is the tight box of the hands' visible
pixels (forearms excluded) and labeled keypoints, clipped to the image; ``area = w * h``;
one-hand images carry ``hand_type`` (``"right"``/``"left"``), two-hand images ``hand_boxes``
(``{"right": box or None, "left": box or None}``). The category's skeleton is 1-based (COCO).

Every image comes from its own ``numpy.random.Generator`` seeded with ``(seed, crc32(split),
index)``, so a dataset is byte-identical for a given seed whatever the number of workers.
"""
import json
import math
import multiprocessing as mp
import os
import zlib

import cv2
import numpy as np

# ----------------------------------------------------------------------------------------------
# Layout
# ----------------------------------------------------------------------------------------------
FINGERS = ('thumb', 'forefinger', 'middle_finger', 'ring_finger', 'pinky_finger')
KEYPOINT_NAMES = ('wrist',) + tuple(f'{f}{i}' for f in FINGERS for i in range(1, 5))
NUM_KEYPOINTS = len(KEYPOINT_NAMES)  # 21
# 0-based links, parent -> child
SKELETON = tuple((0 if i == 0 else 1 + 4 * f + i - 1, 1 + 4 * f + i)
                 for f in range(5) for i in range(4))

_BONES = ('metacarpal', 'proximal', 'distal')  # thumb
_FINGER_BONES = ('proximal', 'middle', 'distal')
PART_NAMES = ('forearm', 'palm') + tuple(
    f'{f}_{b}' for fi, f in enumerate(FINGERS) for b in (_BONES if fi == 0 else _FINGER_BONES))
NUM_PARTS = len(PART_NAMES)  # 17
PART_FOREARM, PART_PALM = 0, 1


def _bone_part(finger, bone):
    """Part index of bone 0..2 of finger 0..4 (thumb = 0)."""
    return 2 + 3 * finger + bone


def _joint_parts():
    """For each of the 21 keypoints, the parts (bones) that meet at it."""
    parts = [(PART_FOREARM, PART_PALM)]
    for f in range(5):
        parts.append((PART_PALM, _bone_part(f, 0)))                   # CMC (thumb) / MCP
        parts.append((_bone_part(f, 0), _bone_part(f, 1)))            # MCP (thumb) / PIP
        parts.append((_bone_part(f, 1), _bone_part(f, 2)))            # IP (thumb) / DIP
        parts.append((_bone_part(f, 2),))                             # tip
    return tuple(parts)


JOINT_PARTS = _joint_parts()


def part_label(slot, part):
    """Label-map value of ``part`` of the hand in annotation slot ``slot``."""
    return 1 + slot * NUM_PARTS + part


def decode_label(label):
    """Label-map value -> ``(slot, part)``; ``None`` for background (0)."""
    if label <= 0:
        return None
    return (int(label) - 1) // NUM_PARTS, (int(label) - 1) % NUM_PARTS


def joint_labels(slot, joint):
    """Label values that count as 'own part' of keypoint ``joint`` (0..20) of hand ``slot``."""
    return tuple(part_label(slot, p) for p in JOINT_PARTS[joint])


def keypoint_names(num_hands):
    """21 names for one hand; 42 (``right_*`` then ``left_*``) for two."""
    if num_hands == 1:
        return list(KEYPOINT_NAMES)
    return [f'{side}_{n}' for side in ('right', 'left') for n in KEYPOINT_NAMES]


def coco_categories(num_hands):
    """COCO ``categories`` entry; the skeleton is 1-based as in COCO."""
    links = [[a + 1, b + 1] for a, b in SKELETON]
    if num_hands == 2:
        links = links + [[a + NUM_KEYPOINTS, b + NUM_KEYPOINTS] for a, b in links]
    return [dict(id=1, name='hand', supercategory='hand',
                 keypoints=keypoint_names(num_hands), skeleton=links)]


# ----------------------------------------------------------------------------------------------
# Hand model (right hand, cm)
# ----------------------------------------------------------------------------------------------
# Non-thumb fingers (fore, middle, ring, pinky): MCP joint centres, metacarpal bases on the
# carpus, phalanx lengths (proximal, middle, distal incl. the pad), radii at MCP/PIP/DIP/tip,
# rest yaw (deg, + towards the thumb) and how much of the spread each finger takes.
_MCP = np.array([[2.35, 8.6, 0.25], [0.45, 8.95, 0.0], [-1.35, 8.5, 0.15], [-3.0, 7.6, 0.45]])
_CARPAL = np.array([[1.35, 2.4, 0.15], [0.35, 2.5, 0.0], [-0.75, 2.4, 0.15], [-1.7, 2.2, 0.3]])
_PHALANX = np.array([[4.0, 2.45, 2.1], [4.5, 2.85, 2.3], [4.2, 2.75, 2.2], [3.4, 2.1, 2.0]])
_RADII = np.array([[1.0, 0.86, 0.78, 0.72], [1.02, 0.9, 0.8, 0.74],
                   [0.97, 0.85, 0.76, 0.7], [0.88, 0.76, 0.68, 0.63]])
_METACARPAL_R = np.array([1.05, 0.85, 0.85, 1.0])  # at the carpus
_PALM_HALF_THICKNESS = 0.95
_ARM_LENGTH = 60.0
_REST_YAW = np.array([6.0, 0.5, -5.0, -12.0])
_SPREAD = np.array([1.0, 0.2, -0.7, -1.3])
# Thumb: CMC position, bone lengths (metacarpal, proximal, distal incl. pad), radii at
# CMC/MCP/IP/tip, rest pointing direction and flexion direction (across the palm).
_THUMB_CMC = np.array([2.1, 2.3, 0.9])
_THUMB_LEN = np.array([4.3, 3.1, 2.6])
_THUMB_RADII = np.array([1.35, 1.05, 0.95, 0.82])
_THUMB_DIR = np.array([0.62, 0.72, 0.32])
_THUMB_FLEX = np.array([-0.75, 0.05, 0.66])

_SKIN_TONES = np.array([  # RGB, light to dark
    [0.97, 0.82, 0.72], [0.92, 0.71, 0.58], [0.82, 0.58, 0.43],
    [0.64, 0.43, 0.30], [0.45, 0.29, 0.19], [0.30, 0.19, 0.13]])


def _rot_x(deg):
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _rot_y(deg):
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rot_z(deg):
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _unit(v):
    return v / np.linalg.norm(v)


def _thumb_frame():
    """Rest frame of the thumb: columns x (lateral), y (pointing), z (flexion side)."""
    y = _unit(_THUMB_DIR)
    z = _unit(_THUMB_FLEX - y * (_THUMB_FLEX @ y))
    return np.stack([np.cross(y, z), y, z], axis=1)


_THUMB_FRAME = _thumb_frame()

# Sampling presets (``difficulty`` of :func:`render_sample` and the generator tool).
#   ``pose_modes``: probabilities of the pose families of :func:`sample_pose` (open, relaxed,
#   fist, gesture, random); ``view``: ``None`` for a uniform random 3D rotation, else
#   ``(max_tilt, max_roll)`` in degrees: the palm or the back of the hand faces the camera,
#   tilted up to ``max_tilt`` about both image axes, fingers within ``max_roll`` of pointing up;
#   ``frame``: share of the image the hand's box spans; ``truncation``: chance per image axis
#   that the box is pushed 5-40 % past a border.
DIFFICULTIES = {
    # everything the generator can do: any view, fists, small and truncated hands
    'hard': dict(pose_modes=(0.22, 0.28, 0.15, 0.2, 0.15), view=None, frame=(0.35, 0.9),
                 truncation=0.12),
    # a learnable-in-minutes subset for CPU tutorials: near-frontal, near-upright views, no
    # fists, hands that fill most of the image and never leave it (the quickstart's data; with
    # view=(30, 60) its model reached AP 0.29 after 6 epochs instead of 0.48 after 7)
    'easy': dict(pose_modes=(0.4, 0.35, 0.0, 0.25, 0.0), view=(20.0, 30.0), frame=(0.55, 0.9),
                 truncation=0.0),
}


def _difficulty(name):
    if name not in DIFFICULTIES:
        raise ValueError(f'unknown synthetic-hand difficulty {name!r}; choose one of '
                         f'{sorted(DIFFICULTIES)}')
    return DIFFICULTIES[name]


def sample_pose(rng, mode_probs=DIFFICULTIES['hard']['pose_modes']):
    """Random joint angles in degrees within anatomical limits; ``mode_probs`` weighs the
    pose families (open, relaxed, fist, gesture, random).

    Returns dict: ``fingers`` (4, 4) rows fore..pinky, columns (MCP abduction, MCP flexion,
    PIP flexion, DIP flexion); ``thumb`` (4,) (CMC abduction, CMC flexion, MCP flexion,
    IP flexion); ``wrist`` (2,) (flexion, ulnar deviation) of the hand against the forearm.
    Flexion > 0 curls towards the palm.
    """
    mode = rng.choice(5, p=list(mode_probs))
    if mode == 0:
        curl, spread = np.full(4, rng.uniform(0.0, 0.15)), rng.uniform(0.3, 1.0)
    elif mode == 1:
        curl, spread = np.full(4, rng.uniform(0.15, 0.55)), rng.uniform(0.0, 0.6)
    elif mode == 2:
        curl, spread = np.full(4, rng.uniform(0.75, 1.0)), rng.uniform(0.0, 0.2)
    elif mode == 3:  # each finger straight or curled: pointing, victory, ...
        ext = rng.random(4) < 0.5
        curl = np.where(ext, rng.uniform(0, 0.15, 4), rng.uniform(0.7, 1.0, 4))
        spread = rng.uniform(0.0, 0.8)
    else:
        curl, spread = rng.uniform(0, 1, 4), rng.uniform(0.0, 1.0)
    curl = np.clip(curl + rng.normal(0, 0.07, 4), 0, 1)
    fingers = np.zeros((4, 4))
    fingers[:, 0] = spread * 11 * _SPREAD * (1 - 0.7 * curl) + rng.normal(0, 2.5, 4)
    fingers[:, 1] = np.clip(-15 + 100 * curl + rng.normal(0, 6, 4), -25, 95)
    fingers[:, 2] = np.clip(5 + 100 * curl + rng.normal(0, 8, 4), 0, 110)
    fingers[:, 3] = np.clip(0.65 * fingers[:, 2] + rng.normal(0, 6, 4), -5, 85)
    t = rng.uniform(0.5, 1.0) if mode == 2 else rng.uniform(0.0, 1.0)
    thumb = np.array([rng.uniform(-20, 25),
                      np.clip(-10 + 50 * t + rng.normal(0, 6), -15, 50),
                      np.clip(50 * t + rng.normal(0, 8), -10, 60),
                      np.clip(70 * t + rng.normal(0, 10), -15, 85)])
    wrist = np.array([rng.uniform(-45, 45), rng.uniform(-15, 25)])
    return dict(fingers=fingers, thumb=thumb, wrist=wrist)


def build_hand(pose, scale=1.0, rng=None):
    """Right-hand geometry for ``pose`` (see :func:`sample_pose`), in the hand frame (cm).

    Returns dict: ``joints`` (21, 3) keypoints in ``KEYPOINT_NAMES`` order; ``capsules``: list
    of ``(p0 (3,), p1 (3,), r0, r1, part, dorsal (3,) or None, is_distal)``; ``triangles``:
    list of ``((3, 3) vertices, part, pillow)`` (pillow: shade as part of the rounded palm);
    ``palm_normal`` (3,) unit +z; ``palm_centre`` (3,) and ``palm_radius`` (cm) for the
    pillow shading. ``rng`` jitters bone lengths by a few percent when given.
    """
    jit = (lambda n: 1 + rng.normal(0, 0.04, n)) if rng is not None else (lambda n: np.ones(n))
    joints = np.zeros((NUM_KEYPOINTS, 3))
    caps, tris = [], []
    palm_n = np.array([0.0, 0.0, 1.0])

    def chain(finger, base, frame, lengths, radii, angles):
        """Joints of one finger from its base joint; appends its three bone capsules."""
        rot, pts = frame, [base]
        for b in range(3):
            if b == 0:
                rot = rot @ _rot_z(-angles[0]) @ _rot_x(angles[1])
            else:
                rot = rot @ _rot_x(angles[b + 1])
            pts.append(pts[-1] + rot @ np.array([0.0, lengths[b], 0.0]))
            p0, p1 = pts[-2], pts[-1]
            if b == 2:  # the fingertip keypoint sits inside the rounded end, not past it
                p1 = p1 - rot[:, 1] * 0.5 * radii[3]
            caps.append((p0, p1, radii[b], radii[b + 1], _bone_part(finger, b), -rot[:, 2], b == 2))
        return pts

    t_len = _THUMB_LEN * jit(3)
    th = pose['thumb']
    pts = chain(0, _THUMB_CMC.copy(), _THUMB_FRAME, t_len, _THUMB_RADII, th)
    joints[1:5] = pts[:4]
    mcps = _MCP * np.stack([np.ones(4), jit(4), np.ones(4)], axis=1)  # metacarpal lengths
    for f in range(4):
        lengths = _PHALANX[f] * jit(3)
        frame = _rot_z(-_REST_YAW[f])
        pts = chain(f + 1, mcps[f], frame, lengths, _RADII[f], pose['fingers'][f])
        joints[5 + 4 * f:9 + 4 * f] = pts[:4]
        # metacarpal: a capsule from the carpus to the knuckle, part of the palm; the inner
        # ones hide inside the palm plates except for the knuckle bumps
        caps.append((_CARPAL[f], mcps[f], _METACARPAL_R[f], _RADII[f, 0] * 1.05, PART_PALM,
                     -palm_n, False))
    # palm body: wrist block and ulnar (little finger) edge, then a front and a back plate
    # spanning the palm outline; the capsules round off the plates' edges
    caps.append((np.array([-1.9, 0.9, 0.1]), np.array([1.7, 0.9, 0.2]), 1.45, 1.45, PART_PALM,
                 -palm_n, False))
    caps.append((np.array([-2.1, 1.8, 0.35]), np.array([-2.8, 6.4, 0.45]), 1.15, 1.0,
                 PART_PALM, -palm_n, False))
    outline = [np.array([1.7, 0.9, 0.2]), _THUMB_CMC, mcps[0], mcps[1], mcps[2], mcps[3],
               np.array([-2.8, 6.4, 0.45]), np.array([-2.1, 1.8, 0.35]),
               np.array([-1.9, 0.9, 0.1])]
    centre = np.mean(outline, axis=0)
    for side in (1.0, -1.0):
        off = side * _PALM_HALF_THICKNESS * palm_n
        for a, b in zip(outline, outline[1:] + outline[:1]):
            tris.append((np.stack([centre, a, b]) + off, PART_PALM, True))
    # thumb web: from the CMC along the thumb metacarpal to most of the index metacarpal
    th_mcp = joints[2]
    web = np.stack([_THUMB_CMC, _THUMB_CMC + 0.8 * (th_mcp - _THUMB_CMC),
                    _CARPAL[0] + 0.75 * (mcps[0] - _CARPAL[0])])
    tris.append((web, PART_PALM, True))
    # forearm (long enough to leave the image), bent at the wrist
    arm = _rot_x(pose['wrist'][0]) @ _rot_z(pose['wrist'][1]) @ np.array([0.0, -1.0, 0.0])
    start = np.array([0.0, 0.6, 0.2])
    caps.append((start, start + _ARM_LENGTH * arm, 2.0, 3.6, PART_FOREARM, None, False))
    joints *= scale
    caps = [(p0 * scale, p1 * scale, r0 * scale, r1 * scale, part, d, tip)
            for p0, p1, r0, r1, part, d, tip in caps]
    tris = [(v * scale, part, pillow) for v, part, pillow in tris]
    return dict(joints=joints, capsules=caps, triangles=tris, palm_normal=palm_n,
                palm_centre=centre * scale, palm_radius=4.0 * scale)


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
    side = _rot_y(180.0) if rng.random() < 0.5 else np.eye(3)  # palm (+z) away: back seen
    tilt = _rot_x(rng.uniform(-max_tilt, max_tilt)) @ _rot_y(rng.uniform(-max_tilt, max_tilt))
    return _rot_z(180.0 + rng.uniform(-max_roll, max_roll)) @ tilt @ side


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


# ----------------------------------------------------------------------------------------------
# Rasteriser: z-buffer with deferred shading, at supersampled resolution
# ----------------------------------------------------------------------------------------------
class _ZBuffer:
    """Depth (cm), label, normal and albedo buffers of shape (h, w[, 3]) in supersampled
    pixels; primitives are given in supersampled pixel coordinates plus camera depths."""

    def __init__(self, h, w):
        self.h, self.w = h, w
        self.z = np.full((h, w), np.inf, np.float32)
        self.label = np.zeros((h, w), np.int16)
        self.normal = np.zeros((h, w, 3), np.float32)
        self.albedo = np.zeros((h, w, 3), np.float32)
        self.xs = np.arange(w, dtype=np.float32) + 0.5  # pixel centres
        self.ys = np.arange(h, dtype=np.float32) + 0.5

    def _window(self, lo, hi):
        x0, y0 = max(0, int(math.floor(lo[0]))), max(0, int(math.floor(lo[1])))
        x1, y1 = min(self.w, int(math.ceil(hi[0])) + 1), min(self.h, int(math.ceil(hi[1])) + 1)
        return x0, y0, x1, y1

    def capsule(self, a, b, ra, rb, za, zb, rza, rzb, label, albedo, palmar, nail):
        """Tapered capsule between image points ``a``, ``b`` (2,) with image radii ``ra``,
        ``rb`` (px), axis depths ``za``, ``zb`` and true radii ``rza``, ``rzb`` (cm).
        ``palmar`` (3,) camera-space direction that gets lighter skin, or None; ``nail``:
        ``(dorsal (3,), colour (3,))`` to paint a nail near the ``b`` end, or None."""
        x0, y0, x1, y1 = self._window(np.minimum(a - ra, b - rb), np.maximum(a + ra, b + rb))
        if x0 >= x1 or y0 >= y1:
            return
        X, Y = self.xs[None, x0:x1], self.ys[y0:y1, None]
        d = b - a
        if d @ d < 1e-6:  # seen end-on: only the nearer end shows
            t = np.full((1, 1), 0.0 if za <= zb else 1.0, np.float32)
        else:
            t = np.clip(((X - a[0]) * d[0] + (Y - a[1]) * d[1]) / (d @ d), 0.0, 1.0)
        ex, ey = X - a[0] - t * d[0], Y - a[1] - t * d[1]
        r = ra + t * (rb - ra)
        q2 = 1.0 - (ex * ex + ey * ey) / (r * r)
        inside = q2 > 0
        if not inside.any():
            return
        q = np.sqrt(np.maximum(q2, 0.0))
        z = za + t * (zb - za) - (rza + t * (rzb - rza)) * q
        zs = self.z[y0:y1, x0:x1]
        win = inside & (z < zs)
        if not win.any():
            return
        n = np.stack([ex / r, ey / r, -q], axis=-1)[win]
        col = np.broadcast_to(np.asarray(albedo, np.float32), n.shape).copy()
        if palmar is not None:
            col = np.minimum(col * (1.0 + np.clip(n @ palmar, 0, 1)[:, None]
                                    * palmar_boost(albedo)), 0.95)
        if nail is not None:
            dorsal, nail_col = nail
            tw = np.broadcast_to(t, win.shape)[win]
            on_nail = (tw > 0.4) & (tw < 0.97) & (n @ dorsal > 0.5)
            col[on_nail] = nail_col
        zs[win] = z[win]
        self.label[y0:y1, x0:x1][win] = label
        self.normal[y0:y1, x0:x1][win] = n
        self.albedo[y0:y1, x0:x1][win] = col

    def triangle(self, uv, pts, label, albedo, palmar, focal, pp, pillow=None):
        """Flat triangle with image vertices ``uv`` (3, 2) px and camera points ``pts``
        (3, 3) cm; ``focal`` (px) and ``pp`` (2,) px are the camera at this resolution.
        ``pillow``: ``(centre (2,) px, radius px, normal (3,))`` shades the triangle with
        ``normal`` bent outwards from ``centre``, so that a fan of triangles looks like one
        rounded surface."""
        x0, y0, x1, y1 = self._window(uv.min(0), uv.max(0))
        if x0 >= x1 or y0 >= y1:
            return
        X, Y = self.xs[None, x0:x1], self.ys[y0:y1, None]
        area = (uv[1, 0] - uv[0, 0]) * (uv[2, 1] - uv[0, 1]) - \
            (uv[1, 1] - uv[0, 1]) * (uv[2, 0] - uv[0, 0])
        if abs(area) < 1e-3:
            return
        inside = np.ones((y1 - y0, x1 - x0), bool)
        for i in range(3):
            p, q = uv[i], uv[(i + 1) % 3]
            e = (q[0] - p[0]) * (Y - p[1]) - (q[1] - p[1]) * (X - p[0])
            inside &= e * area >= 0
        if not inside.any():
            return
        nrm = np.cross(pts[1] - pts[0], pts[2] - pts[0])
        nrm = nrm / (np.linalg.norm(nrm) + 1e-12)
        if nrm[2] > 0:
            nrm = -nrm
        # depth where the ray through each pixel centre meets the triangle's plane
        denom = nrm[0] * (X - pp[0]) / focal + nrm[1] * (Y - pp[1]) / focal + nrm[2]
        with np.errstate(divide='ignore', invalid='ignore'):
            z = (pts[0] @ nrm) / denom
        zs = self.z[y0:y1, x0:x1]
        win = inside & (z > 0) & (z < zs)
        if not win.any():
            return
        col = np.asarray(albedo, np.float32)
        if palmar is not None:
            col = np.minimum(col * (1.0 + max(0.0, float(nrm @ palmar)) * palmar_boost(albedo)),
                             0.95)
        zs[win] = z[win]
        self.label[y0:y1, x0:x1][win] = label
        if pillow is None:
            self.normal[y0:y1, x0:x1][win] = nrm
        else:
            (cx, cy), rad, base = pillow
            base = base if base[2] <= 0 else -base
            out = np.stack(np.broadcast_arrays((X - cx) / rad, (Y - cy) / rad, 0 * X), -1)[win]
            out -= (out @ base)[:, None] * base  # bend within the surface
            n = base + 0.8 * out
            self.normal[y0:y1, x0:x1][win] = n / np.linalg.norm(n, axis=1, keepdims=True)
        self.albedo[y0:y1, x0:x1][win] = col


def palmar_boost(skin):
    """How much lighter palms are than the back of the hand (darker skins: more)."""
    return 0.02 + 0.4 * (1.0 - float(np.mean(skin)))


# ----------------------------------------------------------------------------------------------
# Backgrounds and post-processing (float RGB in [0, 1])
# ----------------------------------------------------------------------------------------------
def _noise_field(rng, h, w, cells):
    """Smooth random field in [0, 1] of shape (h, w) with about ``cells`` blobs per side."""
    g = rng.random((cells + 3, cells + 3)).astype(np.float32)
    big = cv2.resize(g, (w * (cells + 3) // (cells + 1), h * (cells + 3) // (cells + 1)),
                     interpolation=cv2.INTER_CUBIC)
    oy, ox = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
    return np.clip(big[oy:oy + h, ox:ox + w], 0, 1)


def random_background(rng, h, w):
    """Cluttered background (h, w, 3) float32 RGB: gradient, smooth and fine textures,
    random shapes and sometimes skin-coloured distractors."""
    c1, c2 = rng.random((2, 3)).astype(np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    g = (xx * math.cos(ang) + yy * math.sin(ang)) / max(h, w)
    g = (g - g.min()) / (np.ptp(g) + 1e-6)
    img = c1 * (1 - g[..., None]) + c2 * g[..., None]
    img *= (0.7 + 0.6 * _noise_field(rng, h, w, int(rng.integers(2, 8))))[..., None]
    if rng.random() < 0.35:  # stripes / fabric
        fx, fy = rng.normal(0, 0.5, 2)
        s = 0.5 + 0.5 * np.sin(xx * fx + yy * fy + rng.uniform(0, 6.3))
        img = img * (1 - 0.25 * s[..., None]) + 0.25 * s[..., None] * rng.random(3)
    canvas = np.ascontiguousarray((np.clip(img, 0, 1) * 255).astype(np.uint8))
    for _ in range(int(rng.integers(3, 14))):
        layer = canvas.copy()
        col = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.12:  # skin-coloured distractor
            tone = _SKIN_TONES[rng.integers(len(_SKIN_TONES))]
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
    img *= (0.85 + 0.3 * _noise_field(rng, h, w, int(rng.integers(8, 20))))[..., None]
    img += rng.normal(0, rng.uniform(0.0, 0.05), (h, w, 1)).astype(np.float32)  # grain
    if rng.random() < 0.5:  # out-of-focus background
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 2.0))
    return np.clip(img, 0, 1)


def _skin_colour(rng):
    """Random skin albedo (3,) RGB in [0, 1]."""
    t = rng.uniform(0, len(_SKIN_TONES) - 1)
    i = min(int(t), len(_SKIN_TONES) - 2)
    c = _SKIN_TONES[i] * (1 - (t - i)) + _SKIN_TONES[i + 1] * (t - i)
    return np.clip(c * rng.uniform(0.92, 1.06) + rng.normal(0, 0.015, 3), 0, 1)


# ----------------------------------------------------------------------------------------------
# One image
# ----------------------------------------------------------------------------------------------
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
    opts = _difficulty(difficulty)
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
    zb = _rasterise(rng, hands, cam, size, ss)
    hand_rgb, light = _shade(rng, zb, cam, ss)
    image = _composite(rng, hand_rgb, zb.label > 0, light, size)
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


def _rasterise(rng, hands, cam, size, ss):
    """Draw every hand's capsules and triangles into a z-buffer of (size * ss)^2 pixels."""
    zb = _ZBuffer(size * ss, size * ss)
    fs, pps = cam.f * ss, cam.pp * ss

    def proj(p):  # camera points -> supersampled pixels
        return cam.project(p) * ss

    sleeve_col = rng.random(3) * rng.uniform(0.3, 1.0)
    sleeve = rng.uniform(6, 20) / _ARM_LENGTH if rng.random() < 0.5 else None  # its start
    same_person = rng.random() < 0.85
    skin = _skin_colour(rng)
    for slot, hd in enumerate(hands):
        if slot > 0 and not same_person:
            skin = _skin_colour(rng)
        nail_col = np.clip(skin * 0.8 + np.array([0.22, 0.15, 0.15]), 0, 1)
        palmar = hd['palm_normal']
        for p0, p1, r0, r1, part, dorsal, tip in hd['capsules']:
            ra, rb = fs * r0 / p0[2], fs * r1 / p1[2]
            label = part_label(slot, part)
            pal = None if part == PART_FOREARM else (palmar if dorsal is None else -dorsal)
            zb.capsule(proj(p0), proj(p1), ra, rb, p0[2], p1[2], r0, r1, label, skin, pal,
                       (dorsal, nail_col) if tip else None)
            if part == PART_FOREARM and sleeve is not None:  # over the far part of the arm
                s0, rs = p0 + (p1 - p0) * sleeve, 1.15 * (r0 + (r1 - r0) * sleeve)
                zb.capsule(proj(s0), proj(p1), fs * rs / s0[2], rb * 1.15, s0[2], p1[2],
                           rs, r1 * 1.15, label, sleeve_col, None, None)
        pillow = (proj(hd['palm_centre']), fs * hd['palm_radius'] / hd['palm_centre'][2],
                  palmar)
        for verts, part, pl in hd['triangles']:
            zb.triangle(proj(verts), verts, part_label(slot, part), skin, palmar, fs, pps,
                        pillow if pl else None)
    return zb


def _shade(rng, zb, cam, ss):
    """Light the z-buffer (ambient + Lambert + a little specular, contact shadows, skin
    blotches). Returns the hand colour (H, W, 3) float32 RGB, 0 off the hands, and the
    light direction (3,) (camera frame, pointing at the light)."""
    mask = zb.label > 0
    light = _unit(np.array([rng.normal(0, 0.7), rng.normal(-0.4, 0.7), -rng.uniform(0.4, 1.3)]))
    amb, dif = rng.uniform(0.25, 0.5), rng.uniform(0.5, 0.85)
    light_col = np.array([1.0, 1.0, 1.0]) + rng.normal(0, 0.06, 3)
    ndl = np.clip(zb.normal @ light.astype(np.float32), 0, 1)
    half = _unit(light + np.array([0.0, 0.0, -1.0])).astype(np.float32)
    spec = rng.uniform(0.0, 0.15) * np.clip(zb.normal @ half, 0, 1) ** 12
    shade = amb * np.array([1.0, 0.9, 0.88]) + dif * ndl[..., None] * light_col
    col = zb.albedo * shade.astype(np.float32) + spec[..., None]
    # contact shadows: darken surfaces that lie well (cm) behind a nearby nearer surface
    zfill = np.where(mask, zb.z, np.float32(1e4))
    depth = float(np.median(zb.z[mask])) if mask.any() else 50.0
    k = max(3, int(round(cam.f * ss * 1.2 / depth)) | 1)  # ~1.2 cm in pixels, odd
    zmin_near = cv2.erode(zfill, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    ao = np.clip((zfill - zmin_near) / 2.5, 0, 1)
    col *= (1.0 - 0.45 * cv2.GaussianBlur(ao, (0, 0), k / 4))[..., None]
    col *= (0.93 + 0.14 * _noise_field(rng, *mask.shape, 12))[..., None]  # skin blotches
    col[~mask] = 0
    return col, light


def _composite(rng, hand_rgb, mask, light, size):
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


# ----------------------------------------------------------------------------------------------
# Datasets
# ----------------------------------------------------------------------------------------------
def _render_one(args):
    """Worker: render image ``index`` and write it; returns its COCO image and annotation."""
    out_dir, split, index, size, num_hands, seed, difficulty = args
    s = render_sample(image_rng(seed, split, index), size=size, num_hands=num_hands,
                      difficulty=difficulty)
    file_name = f'{split}/{index:06d}.jpg'
    ok, buf = cv2.imencode('.jpg', s['image'], [cv2.IMWRITE_JPEG_QUALITY, s['jpeg_quality']])
    assert ok
    with open(os.path.join(out_dir, 'images', file_name), 'wb') as fh:
        fh.write(buf.tobytes())
    image = dict(id=index + 1, file_name=file_name, width=size, height=size)
    kp = s['keypoints']
    ann = dict(id=index + 1, image_id=index + 1, category_id=1, bbox=s['bbox'],
               area=round(s['bbox'][2] * s['bbox'][3], 2), iscrowd=0,
               num_keypoints=int((kp[:, 2] > 0).sum()),
               keypoints=[round(float(v), 2) if i % 3 != 2 else int(v)
                          for i, v in enumerate(kp.reshape(-1))])
    if num_hands == 1:
        ann['hand_type'] = s['hand_types'][0]
    else:  # the 42-keypoint layout fixes the sides; give each hand's own box as well
        ann['hand_boxes'] = dict(zip(s['hand_types'], s['hand_boxes']))
    return image, ann


def _worker_init():
    cv2.setNumThreads(1)


def generate_split(out_dir, split, num_images, size=128, num_hands=1, seed=0, workers=1,
                   progress=True, difficulty='hard'):
    """Render ``num_images`` images into ``out_dir/images/<split>/`` and write
    ``out_dir/annotations/<split>.json``; returns the COCO dict."""
    from tqdm import tqdm
    _difficulty(difficulty)
    os.makedirs(os.path.join(out_dir, 'images', split), exist_ok=True)
    os.makedirs(os.path.join(out_dir, 'annotations'), exist_ok=True)
    jobs = [(out_dir, split, i, size, num_hands, seed, difficulty) for i in range(num_images)]
    bar = dict(total=num_images, desc=f'synthhands {split}', disable=not progress, unit='img')
    if workers > 1 and num_images > 1:
        # not 'fork': a parent that already ran OpenCV's thread pool can deadlock its children
        ctx = mp.get_context('forkserver')
        ctx.set_forkserver_preload([__name__])
        with ctx.Pool(workers, initializer=_worker_init) as pool:
            results = list(tqdm(pool.imap(_render_one, jobs, chunksize=8), **bar))
    else:
        results = [_render_one(j) for j in tqdm(jobs, **bar)]
    coco = dict(
        info=dict(description='CLAMP-Hand synthetic hands', split=split, seed=seed, size=size,
                  num_hands=num_hands, difficulty=difficulty,
                  keypoint_order='wrist first (OneHand10K)' + (', right hand then left hand' if num_hands == 2 else ''),
                  coordinates='pixels; pixel (c, r) covers [c, c+1) x [r, r+1)'),
        images=[r[0] for r in results], annotations=[r[1] for r in results],
        categories=coco_categories(num_hands))
    with open(os.path.join(out_dir, 'annotations', f'{split}.json'), 'w') as fh:
        json.dump(coco, fh, separators=(',', ':'))
    return coco


def generate_dataset(out_dir, num_train, num_val, size=128, num_hands=1, seed=0, workers=None,
                     progress=True, difficulty='hard'):
    """Write the train and val splits (see the module docstring); returns
    ``{'train': coco_dict, 'val': coco_dict}``. ``workers`` defaults to min(2, cpu count);
    ``difficulty`` names a preset of ``DIFFICULTIES``."""
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    return {split: generate_split(out_dir, split, n, size, num_hands, seed, workers, progress,
                                  difficulty)
            for split, n in (('train', num_train), ('val', num_val))}
