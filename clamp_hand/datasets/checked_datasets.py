"""The annotation checks of ``HandKeypointDataset`` for every other COCO-style dataset type.

mmpose's hand datasets (``OneHand10KDataset``, ``FreiHandDataset``, ``Rhd2DDataset``,
``PanopticHand2DDataset``, ``CocoWholeBodyHandDataset``, ``InterHand2DDoubleDataset``) drop
records they cannot use without a word, in evaluation too (a zero-size box disappears from
the samples while the ground-truth file that COCO AP reads still counts it). Rather than one
hand-written subclass per dataset, :func:`install_annotation_checks` derives a checked class
from every ``BaseCocoStyleDataset`` subclass registered (mmpose's and this project's, also
those imported later through ``custom_imports``) and registers it under the same name in the
``clamp_hand`` scope, which configs are built in. The checked class:

- checks each record as it is parsed (``parse_data_info``) with
  :func:`~clamp_hand.datasets.annotation_checks.annotation_problem` on the record as the
  format writes it (flat or RHD-style nested keypoints; the keypoints, visibility and count
  are those the dataset parsed, so formats whose keypoints are computed, e.g. InterHand2.6M,
  are checked too); a record its parser cannot read is broken, naming the parser's error;
- checks parsed hands that no ``parse_data_info`` call produced (COCO-WholeBody's left/right
  hands) on their parsed box and keypoints;
- then does what ``HandKeypointDataset`` does (README, "Bad data"): in training a bad record
  is skipped with one warning naming the file, the annotation id and the image, and a summary
  count; in evaluation a broken record is an error and doubtful ground truth is kept; the
  other whole-file checks (no annotation at all, boxes running past the image, ``area``
  needed by COCO AP in evaluation) and the image checks (unreadable file, decoded size not
  that of the image record) are the same.

Datasets in bottom-up mode or reading detection boxes (``bbox_file``) are not checked.
"""
import inspect
import logging
import os.path as osp
from collections import Counter
from typing import Optional, Tuple

import numpy as np
from mmengine.logging import print_log
from mmpose.datasets.datasets.base import BaseCocoStyleDataset

from clamp_hand.datasets.annotation_checks import (BROKEN, DOUBTFUL, annotation_problem,
                                                   box_overrun, box_overrun_warning,
                                                   decoded_size_problem,
                                                   empty_annotations_problem, flat_keypoints,
                                                   visible_outside_image)
from clamp_hand.datasets.hand_dataset import (HandKeypointDataset, prepare_checked,
                                              triage_record)
from clamp_hand.registry import DATASETS


class RecordTriage:
    """What to do with records that have a problem, the same way as ``HandKeypointDataset``:
    ``reject`` raises (evaluation, broken record), warns and returns True (training: drop) or
    warns and returns False (evaluation, doubtful record: keep). Counts per reason."""

    def __init__(self, ann_file: str, test_mode: bool):
        self.ann_file, self.test_mode = ann_file, test_mode
        self.counts = Counter()

    def reject(self, ann_id, image, kind: str, reason: str) -> bool:
        where = f'{self.ann_file}: annotation id {ann_id} (image {image})'
        return triage_record(self.ann_file, self.test_mode, where, kind, reason, self.counts)

    def summary(self, total: int) -> None:
        if self.counts:
            reasons = ', '.join(f'{n} {r}' for r, n in self.counts.most_common())
            verb = 'kept' if self.test_mode else 'skipped'
            print_log(f'{self.ann_file}: {verb} {sum(self.counts.values())} of {total} '
                      f'annotations with problems ({reasons})', logger='current',
                      level=logging.WARNING)


def parsed_hand_problem(info: dict, img: Optional[dict],
                        num_keypoints: int) -> Optional[Tuple[str, str]]:
    """``(BROKEN or DOUBTFUL, reason)`` for a parsed hand (mmpose data info: ``bbox (1,4)``
    x1,y1,x2,y2, ``keypoints (1,K,2)``, ``keypoints_visible (1,K)``), or None. ``img``: its image
    record (width/height), when known."""
    box = np.asarray(info.get('bbox', np.zeros((1, 4))), dtype=np.float64).reshape(-1)[:4]
    if not np.isfinite(box).all():
        return BROKEN, f'bbox {box.tolist()} is not 4 finite numbers'
    x1, y1, x2, y2 = box
    if x2 - x1 <= 0 or y2 - y1 <= 0:
        xywh = [round(float(v), 2) for v in (x1, y1, x2 - x1, y2 - y1)]
        return BROKEN, f'bbox {xywh} (x, y, w, h) has zero or negative size'
    kpts = np.asarray(info.get('keypoints'), dtype=np.float64)
    if kpts.ndim != 3 or kpts.shape[1] != num_keypoints:
        n = kpts.shape[1] if kpts.ndim == 3 else kpts.size
        return BROKEN, (f'keypoints has {n} keypoints; the layout has {num_keypoints}')
    vis = np.asarray(info.get('keypoints_visible', np.ones(kpts.shape[:2])))[0] > 0
    if not np.isfinite(kpts[0][vis]).all():
        return BROKEN, 'keypoints hold non-numeric or non-finite values'
    if not vis.any():
        return DOUBTFUL, 'no visible keypoint'
    if img is not None and 'width' in img and 'height' in img:
        return visible_outside_image(kpts[0], vis, img)
    return None


class ImageSizeCheck:
    """Per-sample check that the decoded image has the size of its ``images`` record
    (EXIF-rotated JPEGs, records of another resolution). Training: the sample is skipped
    (returns None, one warning per file); evaluation: ``ValueError``. Used by
    ``HandKeypointDataset`` and the checked datasets."""

    @staticmethod
    def check(dataset, idx: int, packed):
        if packed is None:
            return packed
        sizes = getattr(dataset, '_record_sizes', None) or {}
        info = dataset.get_data_info(idx)
        record = sizes.get(info.get('img_id'))
        sample = packed.get('data_samples') if isinstance(packed, dict) else None
        ori = sample.metainfo.get('ori_shape') if sample is not None else None
        if record is None or ori is None:
            return packed
        path = info.get('img_path')
        problem = decoded_size_problem(path, ori, record)
        if problem is None:
            return packed
        where = f'image {path} (annotation id {info.get("id", "?")}, {dataset.ann_file})'
        if dataset.test_mode or getattr(dataset, 'strict', False):
            raise ValueError(f'{where}: {problem}. Evaluation would compare keypoints in '
                             'another frame than the pixels the model sees')
        bad = dataset.__dict__.setdefault('_bad_images', set())
        bad.add(idx)
        warned = dataset.__dict__.setdefault('_size_warned', set())
        if path not in warned:
            warned.add(path)
            print_log(f'{where}: {problem}; skipped for training', logger='current',
                      level=logging.WARNING)
        return None


class AnnotationChecksMixin:
    """Mixed in before a ``BaseCocoStyleDataset`` subclass by :func:`install_annotation_checks`
    (see the module doc)."""

    _annotation_checks = True

    def _checks_active(self) -> bool:
        return getattr(self, 'data_mode', 'topdown') == 'topdown' and not getattr(
            self, 'bbox_file', None)

    def _load_annotations(self):
        if not self._checks_active():
            return super()._load_annotations()
        self._triage = RecordTriage(self.ann_file, self.test_mode)
        self._parsed_ids, self._overruns, self._num_records = set(), [], 0
        instances, images = super()._load_annotations()
        data = getattr(getattr(self, 'coco', None), 'dataset', None)
        if isinstance(data, dict):
            problem = empty_annotations_problem(self.ann_file, data)
            if problem:
                raise ValueError(problem)
        self._record_sizes = {img['img_id']: (img['width'], img['height']) for img in images
                              if 'width' in img and 'height' in img}
        by_id = {img['img_id']: img for img in images}
        checked = []
        for info in instances:  # hands no parse_data_info call produced (COCO-WholeBody)
            if id(info) not in self._parsed_ids:
                self._num_records += 1
                img = by_id.get(info.get('img_id'))
                problem = parsed_hand_problem(info, img, self.metainfo['num_keypoints'])
                if problem is not None and self._triage.reject(
                        info.get('id', '?'), osp.basename(str(info.get('img_path', '?'))),
                        *problem):
                    continue
            checked.append(info)
        warning = box_overrun_warning(self.ann_file, self._overruns, len(self._overruns))
        if warning:
            print_log(warning, logger='current', level=logging.WARNING)
        self._triage.summary(self._num_records)
        if self._num_records and not checked:
            raise ValueError(f'{self.ann_file}: none of its {self._num_records} annotations is '
                             'usable (see the warnings above)')
        return checked, images

    def parse_data_info(self, raw_data_info: dict):
        if not self._checks_active() or not hasattr(self, '_triage'):
            return super().parse_data_info(raw_data_info)
        ann = raw_data_info.get('raw_ann_info') or {}
        img = raw_data_info.get('raw_img_info') or {}
        self._num_records += 1
        image = img.get('file_name', ann.get('image_id', '?'))
        try:
            info = super().parse_data_info(raw_data_info)
        except Exception as err:  # the format's own parser cannot read the record
            missing = f'missing field {err}' if isinstance(err, KeyError) else repr(err)
            if self._triage.reject(ann.get('id', '?'), image, BROKEN,
                                   f'{type(self).__name__} cannot parse it: {missing}'):
                return None
            raise
        if not info:
            absent = [f for f in ('bbox', 'keypoints') if f not in ann]
            if absent:
                self._triage.reject(ann.get('id', '?'), image, BROKEN,
                                    f'missing field(s) {", ".join(absent)}')
            return None  # otherwise the format's own filter (e.g. an invalid hand type)
        problem = self._record_problem(ann, img, info)
        if problem is not None and self._triage.reject(ann.get('id', '?'), image, *problem):
            return None
        self._parsed_ids.add(id(info))
        return info

    def _record_problem(self, ann: dict, img: dict, info: dict) -> Optional[Tuple[str, str]]:
        """The record as written (COCO fields, its own box), with the keypoints as parsed."""
        raw = info.get('raw_ann_info') if isinstance(info.get('raw_ann_info'), dict) else ann
        record = dict(raw)
        record.setdefault('category_id', 1)  # formats without categories (CocoMetric: 1)
        kpts = np.asarray(info['keypoints'], np.float64).reshape(-1, 2)
        vis = np.asarray(info.get('keypoints_visible', np.ones(len(kpts))),
                         np.float64).reshape(-1)
        if 'keypoints' in raw and len(flat_keypoints(raw['keypoints'])) % 3 == 0:
            record['keypoints'] = flat_keypoints(raw['keypoints'])
        else:  # keypoints computed by the dataset (InterHand2.6M: projected from 3D)
            record['keypoints'] = np.concatenate([kpts, 2 * vis[:, None]], 1).reshape(-1).tolist()
        if 'bbox' not in record:
            x1, y1, x2, y2 = np.asarray(info['bbox'], np.float64).reshape(-1)[:4]
            record['bbox'] = [x1, y1, x2 - x1, y2 - y1]
        problem = annotation_problem(record, img, self.metainfo['num_keypoints'])
        if problem is None and self.test_mode and 'area' not in raw:
            problem = (BROKEN, 'missing field area, which COCO AP reads from the annotation '
                       'file (set it to the box w*h, as the converters in '
                       'tools/dataset_converters do)')
        if problem is None or problem[0] != BROKEN:
            self._overruns.append(box_overrun(record['bbox'], img))
        return problem

    def _get_topdown_data_infos(self, instance_list):
        """Training: mmpose's filter. Evaluation: every checked record but crowd regions."""
        if not self.test_mode or not self._checks_active():
            return super()._get_topdown_data_infos(instance_list)
        return [d for d in instance_list if not d.get('iscrowd')]

    def prepare_data(self, idx):
        """mmpose's ``prepare_data`` plus the image checks of ``HandKeypointDataset``."""
        return prepare_checked(self, idx, super().prepare_data)


def needs_checks(cls) -> bool:
    """A COCO-style dataset class without checks of its own."""
    return (inspect.isclass(cls) and issubclass(cls, BaseCocoStyleDataset)
            and not issubclass(cls, (HandKeypointDataset, AnnotationChecksMixin)))


def checked_class(cls):
    """``cls`` with :class:`AnnotationChecksMixin` mixed in, under the same name (kept in this
    module's namespace so that its instances can be pickled)."""
    qualname = f'Checked{cls.__name__}'
    existing = globals().get(qualname)
    if existing is not None and existing.__bases__[1] is cls:
        return existing
    new = type(cls.__name__, (AnnotationChecksMixin, cls), dict(
        __module__=__name__, __qualname__=qualname,
        __doc__=f'{cls.__name__} with the annotation checks of {__name__}.'))
    globals()[qualname] = new
    return new


def install_annotation_checks() -> list:
    """Register a checked class for each registered COCO-style dataset class without checks
    (mmpose's and the ``clamp_hand`` scope's), under its own name in the ``clamp_hand``
    scope. Idempotent; call again after importing modules that register new datasets.
    Returns the names newly checked."""
    from mmpose.registry import DATASETS as MMPOSE_DATASETS
    done = []
    # this scope first: its own subclasses (e.g. PanopticHand2DDataset) win over mmpose's
    for registry in (DATASETS, MMPOSE_DATASETS):
        for name, cls in list(registry.module_dict.items()):
            current = DATASETS.module_dict.get(name)
            if current is not None and not needs_checks(current):
                continue  # already checked in this scope, or checks of its own
            if not needs_checks(cls):
                continue
            DATASETS.register_module(name=name, module=checked_class(cls), force=True)
            done.append(name)
    return done


__all__ = ['AnnotationChecksMixin', 'ImageSizeCheck', 'RecordTriage', 'checked_class',
           'install_annotation_checks', 'needs_checks', 'parsed_hand_problem']
