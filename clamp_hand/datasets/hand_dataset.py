"""COCO-format hand keypoint datasets (AssemblyHands after conversion, synthetic hands, any
other hand data written as COCO keypoints json)."""
from mmengine.logging import MessageHub
from mmpose.datasets.datasets.base import BaseCocoStyleDataset

from clamp_hand.registry import DATASETS


@DATASETS.register_module()
class HandKeypointDataset(BaseCocoStyleDataset):
    """A COCO keypoints json of hands; ``metainfo`` (keypoint names, flip pairs, sigmas) comes
    from the config, e.g. ``configs/_base_/datasets/hand21_wrist_first.py``.

    Args:
        eval_from_ann_file: in test mode mmpose publishes ``ann_file`` (keyed by the dataset
            name) for CocoMetric to read the ground truth from. Set False when several test
            datasets share one layout (``ConcatDataset``): the metric then builds the ground
            truth from the samples themselves instead of from whichever file came last.
    """

    METAINFO: dict = dict()

    def __init__(self, *args, metainfo: dict = None, eval_from_ann_file: bool = True, **kwargs):
        if not metainfo:
            raise ValueError('HandKeypointDataset needs metainfo=dict(...) with the keypoint '
                             'layout: set it from a configs/_base_/datasets/*.py file')
        super().__init__(*args, metainfo=metainfo, **kwargs)
        if self.test_mode and not eval_from_ann_file:
            MessageHub.get_current_instance().update_info_dict(
                {f"{self.metainfo['dataset_name']}_ann_file": None})
