"""The synthetic hand's skeleton and kinematics: keypoint and part layout, bone geometry,
random anatomical poses and the posed 3D hand (capsules and triangles).

Conventions
-----------
* Hand frame (right hand, cm): wrist at the origin, +y from the wrist to the fingers, +x towards
  the thumb, +z out of the palm (fingers flex towards +z). A left hand is the mirror image
  (x -> -x).
* Keypoints (21 per hand, wrist first, OneHand10K order): ``KEYPOINT_NAMES``. Two-hand images
  have 42: the right hand's 21, then the left hand's 21.
* Parts: ``PART_NAMES`` (forearm, palm, three bones per finger). Label-map values: 0 =
  background, else ``1 + slot * NUM_PARTS + part`` where ``slot`` is the hand's index in the
  annotation (0 for the single hand; 0 = right, 1 = left for two hands) and ``part`` indexes
  ``PART_NAMES``. ``JOINT_PARTS`` lists the bones that meet at each keypoint (its "own" parts
  for the visibility rule of :mod:`clamp_hand.datasets.synthetic_scene`).

Bone lengths, radii and joint limits are hand-picked from typical adult proportions; see the
constants below. The rest of the generator: :mod:`~clamp_hand.datasets.synthetic_render` (z-buffer
and shading), :mod:`~clamp_hand.datasets.synthetic_scene` (views, camera, backgrounds, one
image), :mod:`~clamp_hand.datasets.synthetic_hands` (dataset writing).
"""
import math

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
ARM_LENGTH = 60.0
_REST_YAW = np.array([6.0, 0.5, -5.0, -12.0])
_SPREAD = np.array([1.0, 0.2, -0.7, -1.3])
# Thumb: CMC position, bone lengths (metacarpal, proximal, distal incl. pad), radii at
# CMC/MCP/IP/tip, rest pointing direction and flexion direction (across the palm).
_THUMB_CMC = np.array([2.1, 2.3, 0.9])
_THUMB_LEN = np.array([4.3, 3.1, 2.6])
_THUMB_RADII = np.array([1.35, 1.05, 0.95, 0.82])
_THUMB_DIR = np.array([0.62, 0.72, 0.32])
_THUMB_FLEX = np.array([-0.75, 0.05, 0.66])


def rot_x(deg):
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def rot_y(deg):
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def rot_z(deg):
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def unit(v):
    return v / np.linalg.norm(v)


def _thumb_frame():
    """Rest frame of the thumb: columns x (lateral), y (pointing), z (flexion side)."""
    y = unit(_THUMB_DIR)
    z = unit(_THUMB_FLEX - y * (_THUMB_FLEX @ y))
    return np.stack([np.cross(y, z), y, z], axis=1)


_THUMB_FRAME = _thumb_frame()


# Weights of the pose families of :func:`sample_pose` (open, relaxed, fist, gesture, random)
# when all of them are drawn (the 'hard' preset of the scene module).
ALL_POSE_MODES = (0.22, 0.28, 0.15, 0.2, 0.15)


def sample_pose(rng, mode_probs=ALL_POSE_MODES):
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
                rot = rot @ rot_z(-angles[0]) @ rot_x(angles[1])
            else:
                rot = rot @ rot_x(angles[b + 1])
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
        frame = rot_z(-_REST_YAW[f])
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
    arm = rot_x(pose['wrist'][0]) @ rot_z(pose['wrist'][1]) @ np.array([0.0, -1.0, 0.0])
    start = np.array([0.0, 0.6, 0.2])
    caps.append((start, start + ARM_LENGTH * arm, 2.0, 3.6, PART_FOREARM, None, False))
    joints *= scale
    caps = [(p0 * scale, p1 * scale, r0 * scale, r1 * scale, part, d, tip)
            for p0, p1, r0, r1, part, d, tip in caps]
    tris = [(v * scale, part, pillow) for v, part, pillow in tris]
    return dict(joints=joints, capsules=caps, triangles=tris, palm_normal=palm_n,
                palm_centre=centre * scale, palm_radius=4.0 * scale)
