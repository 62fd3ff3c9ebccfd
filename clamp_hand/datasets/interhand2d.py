"""InterHand2.6M (ECCV 2020) as a 42-keypoint two-hand dataset for COCO-style evaluation.

mmpose's ``InterHand2DDoubleDataset`` reads the native release (a COCO json of images and
annotations, plus ``*_camera.json`` and ``*_joint_3d.json``) and projects the 3D joints to
pixels, but its samples keep the raw annotation without 2D keypoints, so mmpose's CocoMetric
cannot build ground truth from them, and the json it publishes for the metric has no
``keypoints`` either. This subclass fills the raw annotation with the projected keypoints
(flat ``x, y, v``), ``num_keypoints`` and ``area`` and tells CocoMetric to use the samples.
The keypoint order is InterHand's: right hand then left, each thumb tip -> base, index,
middle, ring, little, wrist last (the same as AssemblyHands' two-hand order).
"""
import numpy as np
from mmengine.logging import MessageHub
from mmpose.datasets.datasets.hand import InterHand2DDoubleDataset

from clamp_hand.registry import DATASETS


@DATASETS.register_module()
class InterHand2DTwoHandsDataset(InterHand2DDoubleDataset):
    """``InterHand2DDoubleDataset`` whose samples carry COCO ground truth (see module doc).

    ``metainfo`` is required: the 42-keypoint layout with prompts comes from
    ``configs/_base_/datasets/interhand2d_twohands.py``.
    """

    def __init__(self, *args, metainfo: dict = None, **kwargs):
        if not metainfo or len(metainfo.get('keypoint_info', {})) != 42:
            raise ValueError('InterHand2DTwoHandsDataset needs metainfo with the 42 InterHand '
                             'keypoints: set it from configs/_base_/datasets/'
                             'interhand2d_twohands.py')
        super().__init__(*args, metainfo=metainfo, **kwargs)
        if self.test_mode:  # CocoMetric: ground truth from the samples, not from ann_file
            MessageHub.get_current_instance().update_info_dict(
                {f"{self.metainfo['dataset_name']}_ann_file": None})

    def _load_annotations(self):
        instances, images = super()._load_annotations()
        # the release has no ``categories``; CocoMetric needs one to write its ground truth
        names = [self._metainfo['keypoint_id2name'][i] for i in range(42)]
        self._metainfo.setdefault('CLASSES', [dict(id=1, name='hand', supercategory='hand',
                                                   keypoints=names)])
        return instances, images

    def parse_data_info(self, raw_data_info: dict):
        info = super().parse_data_info(raw_data_info)
        if not info:
            return info
        kpts = info['keypoints'][0]  # (42, 2) image pixels
        vis = info['keypoints_visible'][0]  # (42,) 0/1
        x1, y1, x2, y2 = info['bbox'][0]
        ann = info['raw_ann_info']
        ann['keypoints'] = np.concatenate([kpts, 2 * vis[:, None]], 1).reshape(-1).tolist()
        ann['num_keypoints'] = int((vis > 0).sum())
        ann.setdefault('area', float((x2 - x1) * (y2 - y1)))
        ann.setdefault('category_id', 1)
        ann.setdefault('iscrowd', 0)
        info['num_keypoints'] = ann['num_keypoints']
        return info
