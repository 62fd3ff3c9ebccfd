"""COCO-format hand keypoint datasets (AssemblyHands after conversion, synthetic hands, any
other hand data written as COCO keypoints json), with checks of every record and image."""
import copy
import logging
import os.path as osp
from collections import Counter
from typing import List, Tuple

from mmengine.fileio import exists, load
from mmengine.logging import MessageHub, print_log
from mmpose.datasets.datasets.base import BaseCocoStyleDataset

from clamp_hand.datasets.annotation_checks import (BROKEN, annotation_problem, box_overrun,
                                                   box_overrun_warning,
                                                   empty_annotations_problem,
                                                   image_file_problem)
from clamp_hand.datasets.keypoint_order import restore_keypoint_order
from clamp_hand.registry import DATASETS

MAX_WARNINGS = 20  # individual warnings per annotation file; the summary counts them all


@DATASETS.register_module()
class HandKeypointDataset(BaseCocoStyleDataset):
    """A COCO keypoints json of hands; ``metainfo`` (keypoint names, flip pairs, sigmas) comes
    from the config, e.g. ``configs/_base_/datasets/hand21_wrist_first.py``.

    Bad records (see ``annotation_checks``) and bad image files:

    - training (``test_mode=False``): the annotation or image is skipped with one warning naming
      the annotation file, the image and the annotation id; the log then says how many were
      skipped and why (``skipped 3 of 120 annotations``).
    - evaluation (``test_mode=True``): ground truth is never dropped. A broken record (missing
      field, zero/negative box, wrong keypoint count) or an image that cannot be read is an
      error naming the file and the annotation id; hands without visible keypoints (ignored by
      COCO AP, masked out of PCK/EPE) and visible keypoints outside the image are kept, the
      latter with a warning.
    - ``strict=True``: any problem is an error, in training too.

    Args:
        eval_from_ann_file: in test mode mmpose publishes ``ann_file`` (keyed by the dataset
            name) for CocoMetric to read the ground truth from. Set False when several test
            datasets share one layout (``ConcatDataset``): the metric then builds the ground
            truth from the samples themselves instead of from whichever file came last.
        strict: fail at the first bad record or image instead of skipping it.
    """

    METAINFO: dict = dict()

    def __init__(self, *args, metainfo: dict = None, eval_from_ann_file: bool = True,
                 strict: bool = False, **kwargs):
        if not metainfo:
            raise ValueError('HandKeypointDataset needs metainfo=dict(...) with the keypoint '
                             'layout: set it from a configs/_base_/datasets/*.py file')
        self.strict = strict
        self.eval_from_ann_file = eval_from_ann_file
        self.skipped_images = 0
        self._bad_images = set()
        # a config copied by mmengine lists keypoint_info in text order (see keypoint_order.py)
        metainfo = restore_keypoint_order(copy.deepcopy(dict(metainfo)))
        super().__init__(*args, metainfo=metainfo, **kwargs)
        if self.test_mode and not eval_from_ann_file:
            MessageHub.get_current_instance().update_info_dict(
                {f"{self.metainfo['dataset_name']}_ann_file": None})

    # ---- annotations ------------------------------------------------------------------------
    def _load_annotations(self) -> Tuple[List[dict], List[dict]]:
        """Read the COCO json, check every record and parse the usable ones (mmpose's
        ``parse_data_info``), in file order."""
        if not exists(self.ann_file):
            raise FileNotFoundError(f'annotation file {self.ann_file} does not exist')
        data = load(self.ann_file)
        empty = empty_annotations_problem(self.ann_file, data)
        if empty:
            raise ValueError(empty)
        if 'categories' in data:
            self._metainfo['CLASSES'] = data['categories']
        images = {img['id']: img for img in data.get('images', []) if 'id' in img}
        by_image = {}
        for ann in data.get('annotations', []):
            by_image.setdefault(ann.get('image_id'), []).append(ann)
        # annotations of unknown images are reported under their (unknown) image id
        order = list(images) + [i for i in by_image if i not in images]

        num_keypoints = self.metainfo['num_keypoints']
        instances, image_list, flagged, overruns = [], [], Counter(), []
        for img_id in order:
            if isinstance(img_id, int) and img_id % self.sample_interval != 0:
                continue
            img = images.get(img_id)
            if img is not None and 'file_name' in img:
                img = dict(img, img_id=img_id,
                           img_path=osp.join(self.data_prefix['img'], img['file_name']))
                image_list.append(img)
            for ann in by_image.get(img_id, []):
                problem = annotation_problem(ann, img, num_keypoints)
                if problem is None and self.test_mode and self.eval_from_ann_file \
                        and 'area' not in ann:  # xtcocotools' COCOeval reads it from the file
                    problem = (BROKEN, 'missing field area, which COCO AP reads from the '
                               'annotation file (set it to the box w*h, as the converters in '
                               'tools/dataset_converters do; or eval_from_ann_file=False)')
                if problem is not None and self._reject(ann, img, *problem, flagged):
                    continue
                if problem is None or problem[0] != BROKEN:
                    overruns.append(box_overrun(ann['bbox'], img))
                instances.append(self.parse_data_info(dict(raw_ann_info=ann, raw_img_info=img)))
        total = len(data.get('annotations', []))
        self._record_sizes = {img['img_id']: (img['width'], img['height'])
                              for img in image_list if 'width' in img and 'height' in img}
        overrun = box_overrun_warning(self.ann_file, overruns, len(overruns))
        if overrun:
            print_log(overrun, logger='current', level=logging.WARNING)
        if flagged:
            reasons = ', '.join(f'{n} {r}' for r, n in flagged.most_common())
            verb = 'kept' if self.test_mode else 'skipped'
            print_log(f'{self.ann_file}: {verb} {sum(flagged.values())} of {total} '
                      f'annotations with problems ({reasons})'
                      + ('' if self.test_mode else '; set strict=True in the dataset config to '
                         'stop at the first bad record instead'), logger='current',
                      level=logging.WARNING)
        if total and not instances:
            raise ValueError(f'{self.ann_file}: none of its {total} annotations is usable '
                             '(see the warnings above)')
        return instances, image_list

    def _reject(self, ann: dict, img, kind: str, reason: str, counts: Counter) -> bool:
        """Decide on a record with a problem: True to drop it (training), False to keep it
        (evaluation, doubtful records); raises in strict mode and for broken evaluation
        records. ``counts``: reason label -> number of records (skipped or kept)."""
        where = (f'{self.ann_file}: annotation id {ann.get("id", "?")} '
                 f'(image {(img or {}).get("file_name", ann.get("image_id", "?"))})')
        if self.strict:
            raise ValueError(f'{where}: {reason} (strict=True: fix the record, or set '
                             'strict=False to skip such records in training)')
        return triage_record(self.ann_file, self.test_mode, where, kind, reason, counts)

    def _get_topdown_data_infos(self, instance_list: List[dict]) -> List[dict]:
        """Training: mmpose's filter (crowd regions, empty boxes). Evaluation: every checked
        record is kept except crowd regions, which COCO evaluation ignores anyway."""
        if not self.test_mode:
            return super()._get_topdown_data_infos(instance_list)
        return [d for d in instance_list if not d.get('iscrowd')]

    # ---- images -----------------------------------------------------------------------------
    def prepare_data(self, idx):
        """mmpose's ``prepare_data`` with the image checks of :func:`prepare_checked`."""
        return prepare_checked(self, idx, super().prepare_data, strict=self.strict)


REASON_LABELS = (('missing field', 'missing field'), ('bbox', 'bad box'),
                 ('keypoints has', 'wrong keypoint count'), ('non-numeric', 'bad keypoints'),
                 ('no visible keypoint', 'no visible keypoint'),
                 ('outside the', 'keypoint outside the image'),
                 ('not in the images list', 'unknown image'), ('image record', 'bad image record'))


def _short(reason: str) -> str:
    """Group reasons for the summary (drop the record-specific numbers)."""
    return next((label for key, label in REASON_LABELS if key in reason), reason)


def prepare_checked(dataset, idx: int, prepare, strict: bool = False):
    """``prepare(idx)`` (mmpose's ``BaseDataset.prepare_data`` of ``dataset``) with the image
    checks every checked dataset type shares: in training, a sample whose image cannot be read
    returns None (``BaseDataset.__getitem__`` then draws another sample), with one warning per
    file; in evaluation (or with ``strict``) it raises RuntimeError naming the image, the
    annotation id and the file. A decoded image whose size differs from its record goes through
    ``ImageSizeCheck`` (e.g. EXIF-rotated JPEGs)."""
    bad = dataset.__dict__.setdefault('_bad_images', set())
    if idx in bad and not dataset.test_mode:
        return None
    try:
        packed = prepare(idx)
    except Exception as err:
        info = dataset.get_data_info(idx)
        path = info.get('img_path')
        reason = image_file_problem(path) if isinstance(path, str) else None
        if reason is None:
            raise  # not an image problem: a real error of the pipeline
        where = f'image {path} (annotation id {info.get("id", "?")}, {dataset.ann_file})'
        if dataset.test_mode or strict:
            raise RuntimeError(f'{where}: {reason}. '
                               + ('Evaluation needs every image: restore the file or '
                                  'remove its annotations.' if dataset.test_mode else
                                  'strict=True: fix the image or set strict=False to skip '
                                  'it in training.')) from err
        bad.add(idx)
        skipped = dataset.__dict__.get('skipped_images', 0) + 1
        dataset.__dict__['skipped_images'] = skipped
        print_log(f'{where}: {reason}; skipped for training ({skipped} unusable sample(s) so '
                  'far in this dataset)', logger='current', level=logging.WARNING)
        return None
    from clamp_hand.datasets.checked_datasets import ImageSizeCheck
    return ImageSizeCheck.check(dataset, idx, packed)


def triage_record(ann_file: str, test_mode: bool, where: str, kind: str, reason: str,
                  counts: Counter) -> bool:
    """The shared decision on a record with a problem (``kind``: BROKEN or DOUBTFUL, see
    ``annotation_checks``): raises ValueError for a broken record in evaluation; otherwise
    counts it under its reason in ``counts``, warns (the first MAX_WARNINGS per file) and
    returns True to drop it (training) or False to keep it as ground truth (evaluation)."""
    if test_mode and kind == BROKEN:
        raise ValueError(f'{where}: {reason}. Evaluation does not drop ground truth: '
                         'fix or remove this record from the annotation file')
    counts[_short(reason)] += 1
    n = sum(counts.values())
    action = 'kept as ground truth for evaluation' if test_mode else 'skipped for training'
    if n <= MAX_WARNINGS:
        print_log(f'{where}: {reason}; {action}', logger='current', level=logging.WARNING)
    elif n == MAX_WARNINGS + 1:
        print_log(f'{ann_file}: more such annotations; only the count follows',
                  logger='current', level=logging.WARNING)
    return not test_mode
