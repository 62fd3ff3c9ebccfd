"""Halpe hands: the left and right hands of Halpe's 136 whole-body keypoints as one-hand
instances (21 keypoints, wrist first), as mmpose's ``CocoWholeBodyHandDataset`` does for
COCO-WholeBody.

mmpose 1.3 has no such dataset (its Hand5 config names a ``HalpeHandDataset`` that 1.3 does not
define). Halpe (https://github.com/Fang-Haoshu/Halpe-FullBody) annotates whole bodies in COCO
format, ``keypoints`` of 136 x (x, y, v): 94-114 the left hand, 115-135 the right hand
(``hand_layouts.HALPE_HANDS``), each hand_root (wrist), thumb1..4, .. pinky_finger4; it has no
hand boxes, so a hand's box is the tight box of its labelled keypoints (v > 0). Unlabelled
keypoints are (0, 0, 0); a hand with fewer than ``min_keypoints`` labelled keypoints is not an
instance. Each instance carries its own COCO ground truth (flat 21-keypoint ``raw_ann_info``),
which ``CocoMetric`` uses instead of the 136-keypoint file.
"""
import os.path as osp
from typing import List, Tuple

import numpy as np
from mmengine.fileio import exists, load
from mmengine.logging import MessageHub
from mmpose.datasets.datasets.base import BaseCocoStyleDataset

from clamp_hand.datasets.hand_layouts import HALPE_HANDS
from clamp_hand.registry import DATASETS

NUM_HALPE_KEYPOINTS = 136


@DATASETS.register_module()
class HalpeHandDataset(BaseCocoStyleDataset):
    """One instance per labelled hand of a Halpe whole-body annotation file (module doc).

    Args:
        metainfo: the 21-keypoint layout, ``configs/_base_/datasets/halpe_hand_onehand.py``.
        min_keypoints: labelled keypoints a hand needs to be an instance (default 1).
        **kwargs: ``BaseCocoStyleDataset`` arguments (ann_file, data_root, data_prefix, ...).

    Raises:
        ValueError: metainfo missing or not 21 keypoints; an annotation whose ``keypoints`` is
            not 136 x 3 numbers (naming the file and the annotation id).
        FileNotFoundError: ``ann_file`` does not exist.
    """

    METAINFO: dict = dict()

    def __init__(self, *args, metainfo: dict = None, min_keypoints: int = 1, **kwargs):
        if not metainfo or len(metainfo.get('keypoint_info', {})) != 21:
            raise ValueError('HalpeHandDataset needs metainfo with the 21 hand keypoints: set '
                             'it from configs/_base_/datasets/halpe_hand_onehand.py')
        self.min_keypoints = min_keypoints
        super().__init__(*args, metainfo=metainfo, **kwargs)
        if self.test_mode:  # CocoMetric: ground truth from the samples, not the 136-kpt file
            MessageHub.get_current_instance().update_info_dict(
                {f"{self.metainfo['dataset_name']}_ann_file": None})

    def _load_annotations(self) -> Tuple[List[dict], List[dict]]:
        if not exists(self.ann_file):
            raise FileNotFoundError(f'annotation file {self.ann_file} does not exist')
        data = load(self.ann_file)
        names = [self.metainfo['keypoint_id2name'][i] for i in range(21)]
        self._metainfo['CLASSES'] = [dict(id=1, name='hand', supercategory='hand',
                                          keypoints=names)]
        images = {}
        for img in data.get('images', []):
            images[img['id']] = dict(img, img_id=img['id'],
                                     img_path=osp.join(self.data_prefix['img'], img['file_name']))
        instances = []
        for ann in data.get('annotations', []):
            if ann.get('iscrowd', 0):
                continue
            kpts = np.asarray(ann.get('keypoints', []), dtype=np.float32)
            if kpts.size != NUM_HALPE_KEYPOINTS * 3:
                raise ValueError(f'{self.ann_file}: annotation id {ann.get("id", "?")} has '
                                 f'{kpts.size} keypoint numbers, Halpe has 136 x 3 = 408')
            kpts = kpts.reshape(NUM_HALPE_KEYPOINTS, 3)
            img = images.get(ann['image_id'])
            for k, (side, (start, stop)) in enumerate(sorted(HALPE_HANDS.items())):
                hand = kpts[start:stop]
                labelled = hand[:, 2] > 0
                if labelled.sum() < self.min_keypoints or img is None:
                    continue
                x1, y1 = hand[labelled, :2].min(0)
                x2, y2 = hand[labelled, :2].max(0)
                hand_id = int(ann['id']) * 2 + k  # unique per hand
                raw = dict(id=hand_id, image_id=ann['image_id'], category_id=1, iscrowd=0,
                           bbox=[float(x1), float(y1), float(x2 - x1), float(y2 - y1)],
                           area=float((x2 - x1) * (y2 - y1)),
                           keypoints=hand.reshape(-1).tolist(),
                           num_keypoints=int(labelled.sum()))
                instances.append(dict(
                    img_id=ann['image_id'], img_path=img['img_path'],
                    bbox=np.array([[x1, y1, x2, y2]], dtype=np.float32),
                    bbox_score=np.ones(1, dtype=np.float32),
                    num_keypoints=int(labelled.sum()),
                    keypoints=hand[None, :, :2].copy(),
                    keypoints_visible=np.minimum(1, hand[None, :, 2]),
                    iscrowd=0, segmentation=None, id=hand_id, hand_side=side,
                    raw_ann_info=raw))
        return instances, list(images.values())
