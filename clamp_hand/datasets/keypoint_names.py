"""The one table from hand keypoint names to what they mean, and the text prompts built from it.

Every hand dataset names its keypoints (mmpose metainfo ``keypoint_info[i]['name']``), but in
its own words and order: mmpose's OneHand10K/FreiHAND/Panoptic/COCO-WholeBody-Hand layouts say
``wrist, thumb1..thumb4`` (1 = base, 4 = tip) with the wrist first, RHD uses the same names
tip -> base (``wrist, thumb4, thumb3, ..``), InterHand2.6M/AssemblyHands say ``thumb_tip,
thumb_ip, thumb_mcp, thumb_cmc`` with the wrist last, Halpe says ``left_hand_root,
left_thumb1, ..``. Every name resolves here to a :class:`Joint` (side, finger, level), so

- prompts are derived from the names (:func:`keypoint_prompts`), never copied by hand, and
- two layouts are matched by what their keypoints mean (:func:`name_mapping`), not by index.

A name the table does not know is an error naming the name and the table
(:data:`JOINT_NAMES` in this module): add the name there, with its meaning.
"""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

FINGERS = ('thumb', 'forefinger', 'middle_finger', 'ring_finger', 'pinky_finger')
# level 0 = wrist; 1 = the joint at the palm (thumb CMC, finger MCP) ... 4 = the tip
WRIST, TIP = 0, 4

# words used in the prompts (CLIP reads plain English): finger and joint per level
FINGER_WORDS = {'thumb': 'thumb', 'forefinger': 'index finger', 'middle_finger': 'middle finger',
                'ring_finger': 'ring finger', 'pinky_finger': 'little finger'}
THUMB_LEVEL_WORDS = {1: 'base', 2: 'knuckle', 3: 'middle joint', 4: 'tip'}  # CMC, MCP, IP, tip
FINGER_LEVEL_WORDS = {1: 'knuckle', 2: 'middle joint', 3: 'upper joint', 4: 'tip'}  # MCP,PIP,DIP


# InterHand2.6M / AssemblyHands anatomical joint names per finger, level 1 .. 4
ANATOMICAL = {f: ('cmc', 'mcp', 'ip', 'tip') if f == 'thumb' else ('mcp', 'pip', 'dip', 'tip')
              for f in FINGERS}


class Joint(NamedTuple):
    """What a keypoint name means. ``side``: 'right', 'left' or '' (a one-hand layout);
    ``finger``: one of :data:`FINGERS` or '' for the wrist; ``level``: 0 wrist, 1..4 palm to
    tip."""
    side: str
    finger: str
    level: int


def _side_free_names() -> Dict[str, Tuple[str, int]]:
    """The side-free names -> (finger, level) of every naming convention this project reads."""
    table = {'wrist': ('', WRIST), 'hand_root': ('', WRIST)}  # hand_root: Halpe's wrist
    for finger in FINGERS:
        for level in range(1, 5):  # mmpose: thumb1 (base) .. thumb4 (tip)
            table[f'{finger}{level}'] = (finger, level)
        for level, joint in enumerate(ANATOMICAL[finger], start=1):
            table[f'{finger}_{joint}'] = (finger, level)
    return table


# THE table: keypoint name (without a right_/left_ prefix) -> (finger, level)
JOINT_NAMES: Dict[str, Tuple[str, int]] = _side_free_names()
TABLE_NAME = f'{__name__}.JOINT_NAMES'


def parse_name(name: str) -> Joint:
    """The meaning of one keypoint name ('thumb4', 'right_forefinger_dip', 'left_hand_root').

    Raises:
        KeyError: the name (or its part after ``right_``/``left_``) is not in
            :data:`JOINT_NAMES`; the message names both and says how to add it.
    """
    side, rest = '', name
    for prefix in ('right_', 'left_'):
        if name.startswith(prefix):
            side, rest = prefix[:-1], name[len(prefix):]
    if rest not in JOINT_NAMES:
        raise KeyError(f'keypoint name {name!r} is not in the name table {TABLE_NAME} '
                       f'({len(JOINT_NAMES)} names, e.g. wrist, thumb1..thumb4, thumb_tip, '
                       'forefinger_dip, each optionally prefixed right_/left_): add it there '
                       'with its finger and level, or rename the keypoint in the layout')
    finger, level = JOINT_NAMES[rest]
    return Joint(side, finger, level)


def prompt(joint: Joint) -> str:
    """Plain-English text for one joint: 'wrist', 'thumb tip', 'right index finger knuckle'."""
    if joint.level == WRIST:
        words = 'wrist'
    else:
        table = THUMB_LEVEL_WORDS if joint.finger == 'thumb' else FINGER_LEVEL_WORDS
        words = f'{FINGER_WORDS[joint.finger]} {table[joint.level]}'
    return f'{joint.side} {words}' if joint.side else words


def layout_names(dataset_info: dict) -> List[str]:
    """Keypoint names of an mmpose ``dataset_info`` dict in id order (0..K-1)."""
    info = dataset_info['keypoint_info']
    return [info[i]['name'] for i in sorted(info, key=int)]


def keypoint_prompts(dataset_info: dict) -> List[str]:
    """One prompt per keypoint of ``dataset_info``, in its order (what configs pass to
    ``model.text_encoder.prompts``). Raises KeyError for a name not in the table."""
    return [prompt(parse_name(n)) for n in layout_names(dataset_info)]


def name_mapping(source: Sequence[str], target: Sequence[str],
                 side: Optional[str] = None) -> List[Tuple[int, int]]:
    """``[(source index, target index), ...]`` pairing the keypoints that mean the same joint:
    the ``mapping`` of mmpose's ``KeypointConverter``, computed from the names.

    Args:
        source, target: keypoint names in each layout's order.
        side: match a one-hand source ('thumb4') to the keypoints of this side of a two-hand
            target ('right_thumb_tip'); None compares sides as they are.

    Raises:
        KeyError: a name not in the table. ValueError: a target joint is named twice, or no
            keypoint matches.
    """
    where = {}
    for j, name in enumerate(target):
        joint = parse_name(name)
        if joint in where:
            raise ValueError(f'target layout names {joint} twice ({target[where[joint]]!r}, '
                             f'{name!r})')
        where[joint] = j
    pairs = []
    for i, name in enumerate(source):
        joint = parse_name(name)
        if side is not None:
            joint = joint._replace(side=side)
        if joint in where:
            pairs.append((i, where[joint]))
    if not pairs:
        raise ValueError(f'no keypoint of {list(source)[:3]}... matches one of '
                         f'{list(target)[:3]}... by name')
    return pairs


__all__ = ['FINGERS', 'JOINT_NAMES', 'Joint', 'keypoint_prompts', 'layout_names',
           'name_mapping', 'parse_name', 'prompt']
