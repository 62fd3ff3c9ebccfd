"""mmpose's ``CocoMetric`` that also reads hand annotation files with nested keypoints.

RHD's annotation files (as mmpose's converter writes them and ``Rhd2DDataset`` reads them)
store each hand's keypoints nested, ``[[x, y, v], ...]``, where COCO has them flat
(``[x1, y1, v1, x2, ...]``). mmpose's ``CocoMetric`` hands the file to xtcocotools as it is, and
the OKS computation fails at the end of the first validation (``operands could not be broadcast
together with shapes (21,) (7,3)``). :class:`HandCocoMetric` flattens nested keypoints when it
loads the ground truth; everything else is ``CocoMetric``'s (prefix ``coco``, same options).
"""
from mmpose.evaluation.metrics import CocoMetric

from clamp_hand.registry import METRICS


def flatten_nested_keypoints(coco) -> int:
    """Rewrite, in place, every annotation of an xtcocotools ``COCO`` whose ``keypoints`` is a
    list of ``[x, y, v]`` lists as the flat COCO list; returns how many were rewritten."""
    n = 0
    for ann in coco.anns.values():
        kpts = ann.get('keypoints')
        if kpts and isinstance(kpts[0], (list, tuple)):
            ann['keypoints'] = [float(v) for point in kpts for v in point]
            n += 1
    return n


@METRICS.register_module()
class HandCocoMetric(CocoMetric):
    """``CocoMetric`` (hand sigmas from the dataset metainfo) whose ground truth may come from
    a file with nested ``[[x, y, v], ...]`` keypoints (RHD); see the module docstring."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.coco is not None:
            flatten_nested_keypoints(self.coco)

    @CocoMetric.dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        CocoMetric.dataset_meta.fset(self, dataset_meta)  # may load the dataset's ann_file
        if self.coco is not None:
            flatten_nested_keypoints(self.coco)
