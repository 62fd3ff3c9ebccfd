"""mmpose ``dataset_info`` of a hand layout, built from its keypoint names alone.

A layout file under ``configs/_base_/datasets/`` only says which names stand in which order
(its dataset's own order, often read from mmpose's metainfo of that dataset); everything else
follows from what the names mean (``keypoint_names.JOINT_NAMES``):

- colour per finger (mmpose's hand colours), ``type='upper'``;
- ``swap``: the same joint of the other hand where the layout has both hands (mirroring an
  image turns a right hand into a left one), else '';
- skeleton: wrist -> level 1 -> .. -> tip per finger, thumb to little finger, per hand;
- OKS sigmas: COCO-WholeBody's hand sigmas (``HAND_SIGMAS``, per joint, from mmpose's
  ``configs/_base_/datasets/coco_wholebody_hand.py``), so COCO AP works on every layout;
- ``joint_weights`` 1.0.
"""
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence

from clamp_hand.datasets.keypoint_names import (ANATOMICAL, FINGERS, WRIST, Joint, layout_names,
                                                name_mapping, parse_name)

FINGER_COLORS = {'': [255, 255, 255], 'thumb': [255, 128, 0], 'forefinger': [255, 153, 255],
                 'middle_finger': [102, 178, 255], 'ring_finger': [255, 51, 51],
                 'pinky_finger': [0, 255, 0]}
# COCO-WholeBody hand OKS sigmas, wrist then each finger level 1..4 (mmpose's
# coco_wholebody_hand.py lists them in this wrist-first order)
HAND_SIGMAS = [0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024, 0.035, 0.018, 0.024,
               0.022, 0.026, 0.017, 0.021, 0.021, 0.032, 0.02, 0.019, 0.022, 0.031]


def _sigma(finger: str, level: int) -> float:
    return HAND_SIGMAS[0 if level == WRIST else 1 + 4 * FINGERS.index(finger) + level - 1]


def hand_layout(dataset_name: str, names: Sequence[str],
                paper_info: Optional[dict] = None) -> dict:
    """mmpose ``dataset_info`` for the keypoints ``names`` (in the dataset's order).

    Raises:
        KeyError: a name not in ``keypoint_names.JOINT_NAMES`` (the message names both).
        ValueError: two names mean the same joint.
    """
    joints = [parse_name(n) for n in names]
    by_joint = {}
    for name, joint in zip(names, joints):
        if joint in by_joint:
            raise ValueError(f'layout {dataset_name}: {by_joint[joint]!r} and {name!r} name '
                             'the same joint')
        by_joint[joint] = name
    keypoint_info = {}
    for i, (name, joint) in enumerate(zip(names, joints)):
        other = {'right': 'left', 'left': 'right'}.get(joint.side)
        mirror = by_joint.get(joint._replace(side=other)) if other else None
        keypoint_info[i] = dict(name=name, id=i, color=FINGER_COLORS[joint.finger],
                                type='upper', swap=mirror or '')
    skeleton_info = {}
    for side in dict.fromkeys(j.side for j in joints):  # sides in order of appearance
        for finger in FINGERS:
            chain = [by_joint.get(Joint(side, finger if level else '', level))
                     for level in range(5)]
            for a, b in zip(chain, chain[1:]):
                if a is not None and b is not None:
                    n = len(skeleton_info)
                    skeleton_info[n] = dict(link=(a, b), id=n, color=FINGER_COLORS[finger])
    return dict(dataset_name=dataset_name, paper_info=paper_info or {},
                keypoint_info=keypoint_info, skeleton_info=skeleton_info,
                joint_weights=[1.0] * len(names),
                sigmas=[_sigma(j.finger, j.level) for j in joints])


def mmpose_layout_names(dataset: str) -> List[str]:
    """Keypoint names, in order, of mmpose's own metainfo file for a dataset
    (``mmpose/.mim/configs/_base_/datasets/<dataset>.py``, e.g. 'rhd2d', 'freihand2d'); read
    by absolute path, so that a file of the same name under ./configs is never taken instead."""
    import mmpose
    from mmengine.config import Config
    path = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', '_base_', 'datasets',
                    f'{dataset}.py')
    if not osp.isfile(path):
        raise FileNotFoundError(f'mmpose has no metainfo file {path} for dataset {dataset!r}')
    return layout_names(Config.fromfile(path).dataset_info)


def two_hands(one_hand: Sequence[str]) -> List[str]:
    """The names of a two-hand layout: the right hand's, then the left hand's."""
    return [f'{side}_{n}' for side in ('right', 'left') for n in one_hand]


WRIST_FIRST = ['wrist'] + [f'{f}{level}' for f in FINGERS for level in range(1, 5)]


def _tip_first_anatomical() -> List[str]:
    """InterHand2.6M/AssemblyHands: per finger tip -> palm in anatomical names, wrist last."""
    return [f'{f}_{joint}' for f in FINGERS for joint in reversed(ANATOMICAL[f])] + ['wrist']


# Halpe's 136 whole-body keypoints: 0-25 body and feet, 26-93 face, 94-114 left hand,
# 115-135 right hand (mmpose halpe.py; HalpeDataset's docstring)
HALPE_HANDS = {'left': (94, 115), 'right': (115, 136)}


def _halpe_hand() -> List[str]:
    """One hand of Halpe's whole-body layout, side prefix dropped (hand_root, thumb1, ..)."""
    names = mmpose_layout_names('halpe')
    start, stop = HALPE_HANDS['left']
    assert all(n.startswith('left_') for n in names[start:stop]), names[start:stop]
    return [n[len('left_'):] for n in names[start:stop]]


# dataset name -> its keypoint names in the dataset's own order
DATASET_NAMES: Dict[str, Callable[[], List[str]]] = {
    'hand21_wrist_first': lambda: WRIST_FIRST,
    'hand42_wrist_first': lambda: two_hands(WRIST_FIRST),
    'onehand10k': lambda: mmpose_layout_names('onehand10k'),
    'coco_wholebody_hand': lambda: mmpose_layout_names('coco_wholebody_hand'),
    'freihand': lambda: mmpose_layout_names('freihand2d'),
    'rhd2d': lambda: mmpose_layout_names('rhd2d'),
    'panoptic_hand2d': lambda: mmpose_layout_names('panoptic_hand2d'),
    'halpe_hand': _halpe_hand,
    'assemblyhands_onehand': _tip_first_anatomical,
    'assemblyhands_twohands': lambda: two_hands(_tip_first_anatomical()),
    'interhand2d_twohands': lambda: two_hands(_tip_first_anatomical()),
}


def dataset_layout(dataset_name: str) -> dict:
    """mmpose ``dataset_info`` of a known dataset's hand layout (:data:`DATASET_NAMES`)."""
    if dataset_name not in DATASET_NAMES:
        raise KeyError(f'no hand layout named {dataset_name!r} in {__name__}.DATASET_NAMES '
                       f'(known: {", ".join(DATASET_NAMES)}); add its keypoint names there, '
                       'or call hand_layout(name, keypoint_names)')
    return hand_layout(dataset_name, DATASET_NAMES[dataset_name]())


def mix_part(layout, target_info: dict, **dataset) -> dict:
    """A dataset config for a mix (mmpose ``CombinedDataset``): the dataset in its own layout
    (``layout``: a name of :data:`DATASET_NAMES`, or a ``dataset_info`` dict such as
    ``hand_layout('mydata', [...names...])``), with a ``KeypointConverter`` into
    ``target_info``'s layout whose mapping is computed from the keypoint names
    (``keypoint_names.name_mapping``). Keypoints the source lacks come out invisible; keypoints
    the target lacks are dropped. Raises what ``name_mapping`` raises (unknown name, no match).
    The mixes (``mixes.benchmark_part``) call it with a benchmark's files from
    ``benchmarks.BENCHMARKS``; a dataset of your own passes its ``type``, ``data_root``,
    ``ann_file`` and ``data_prefix`` here.
    """
    info = dataset_layout(layout) if isinstance(layout, str) else dict(layout)
    target = layout_names(target_info)
    mapping = name_mapping(layout_names(info), target)
    return dict(**dataset, metainfo=info, pipeline=[
        dict(type='KeypointConverter', num_keypoints=len(target), mapping=mapping)])


__all__ = ['DATASET_NAMES', 'HALPE_HANDS', 'HAND_SIGMAS', 'WRIST_FIRST', 'dataset_layout',
           'hand_layout', 'layout_names', 'mix_part', 'mmpose_layout_names', 'two_hands']
