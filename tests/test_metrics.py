"""Metrics are right: ground truth scores perfectly, and AP of a perturbed prediction equals
an independent pycocotools COCOeval with the same hand sigmas."""
import copy
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from clamp_hand.datasets.coco_wholebody_hands import convert_file
from clamp_hand.registry import DATASETS, METRICS
from conftest import ROOT, require_hand_samples

HAND21 = osp.join(ROOT, 'configs/_base_/datasets/hand21_wrist_first.py')


@pytest.fixture(scope='module')
def wholebody_hands(tmp_path_factory):
    samples = require_hand_samples()
    out = str(tmp_path_factory.mktemp('cwb') / 'hands.json')
    counts = convert_file(osp.join(samples, 'coco_wholebody/test_coco_wholebody.json'), out)
    assert counts['kept'] == 10  # the README of the samples: 10 valid hands
    meta = Config.fromfile(HAND21).dataset_info.to_dict()
    dataset = DATASETS.build(dict(type='HandKeypointDataset', ann_file=out, metainfo=meta,
                                  data_prefix=dict(img=osp.join(samples, 'coco_wholebody/')),
                                  test_mode=True, pipeline=[]))
    return out, dataset


def as_data_samples(dataset, keypoints_fn, scores_fn):
    """What the model returns for each sample, with keypoints/scores chosen by the test."""
    with open(dataset.ann_file) as f:
        sizes = {im['id']: (im['height'], im['width']) for im in json.load(f)['images']}
    samples = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        gt_kpts = info['keypoints'].astype(np.float64)
        samples.append(dict(
            id=info['id'], img_id=info['img_id'], category_id=info['category_id'],
            ori_shape=sizes[info['img_id']], raw_ann_info=info['raw_ann_info'],
            gt_instances=dict(keypoints=gt_kpts, keypoints_visible=info['keypoints_visible'],
                              bboxes=info['bbox'], bbox_scales=None),
            pred_instances=dict(keypoints=keypoints_fn(i, gt_kpts, info['bbox']),
                                keypoint_scores=scores_fn(i, gt_kpts.shape[1]))))
        samples[-1]['gt_instances'].pop('bbox_scales')
    return samples


def evaluate(metric_cfgs, dataset, samples):
    out = {}
    for cfg in metric_cfgs:
        metric = METRICS.build(cfg)
        metric.dataset_meta = dataset.metainfo
        metric.process([], copy.deepcopy(samples))
        out.update(metric.evaluate(len(samples)))
    return out


ALL = [dict(type='CocoMetric', nms_mode='none'), dict(type='PCKAccuracy', thr=0.2),
       dict(type='AUC', norm_factor=30), dict(type='EPE')]


def test_ground_truth_as_prediction_scores_perfectly(wholebody_hands):
    _, dataset = wholebody_hands
    samples = as_data_samples(dataset, lambda i, gt, box: gt.copy(),
                              lambda i, k: np.ones((1, k)))
    m = evaluate(ALL, dataset, samples)
    assert m['coco/AP'] == pytest.approx(1.0)
    assert m['coco/AR'] == pytest.approx(1.0)
    assert m['PCK'] == pytest.approx(1.0)
    assert m['EPE'] == pytest.approx(0.0, abs=1e-9)
    assert m['AUC'] == pytest.approx(0.95, abs=0.01)  # thresholds start at 0 px: ~0.95 max


def test_perturbed_prediction_ap_matches_an_independent_cocoeval(wholebody_hands, tmp_path):
    gt_file, dataset = wholebody_hands
    rng = np.random.default_rng(0)
    noise = {}

    def perturbed(i, gt, box):
        side = max(box[0, 2] - box[0, 0], box[0, 3] - box[0, 1])
        noise[i] = rng.normal(0, 0.03 * side, size=gt.shape)
        return gt + noise[i]

    scores = {i: rng.uniform(0.5, 1.0, size=(1, 21)) for i in range(len(dataset))}
    samples = as_data_samples(dataset, perturbed, lambda i, k: scores[i])
    ours = evaluate([ALL[0]], dataset, samples)

    # independent: pycocotools (not mmpose's xtcocotools) on the same predictions
    meta = dataset.metainfo
    results = []
    for s in samples:
        kpts = s['pred_instances']['keypoints'][0]
        sc = s['pred_instances']['keypoint_scores'][0]
        flat = np.concatenate([kpts, sc[:, None]], axis=1).reshape(-1).tolist()
        # mmpose's default score_mode 'bbox_keypoint': bbox score x mean of scores > 0.2
        results.append(dict(image_id=int(s['img_id']), category_id=1, keypoints=flat,
                            score=float(sc[sc > 0.2].mean())))
    coco_gt = COCO(gt_file)
    coco_dt = coco_gt.loadRes(results)
    ev = COCOeval(coco_gt, coco_dt, 'keypoints')
    ev.params.kpt_oks_sigmas = np.asarray(meta['sigmas'])
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    assert 0.05 < ev.stats[0] < 0.95, 'noise should make AP informative'
    assert ours['coco/AP'] == pytest.approx(ev.stats[0], abs=1e-6)
    assert ours['coco/AP .5'] == pytest.approx(ev.stats[1], abs=1e-6)
    assert ours['coco/AR'] == pytest.approx(ev.stats[5], abs=1e-6)


def test_metainfo_sigmas_are_the_hand_sigmas_in_each_layout():
    hand = [0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024, 0.035, 0.018, 0.024,
            0.022, 0.026, 0.017, 0.021, 0.021, 0.032, 0.02, 0.019, 0.022, 0.031]
    base = osp.join(ROOT, 'configs/_base_/datasets')
    wf = parse_pose_metainfo(dict(from_file=osp.join(base, 'hand21_wrist_first.py')))
    np.testing.assert_allclose(wf['sigmas'], hand)
    ah = Config.fromfile(osp.join(base, 'assemblyhands_onehand.py'))
    # native AssemblyHands order: thumb tip (= wrist-first thumb4, index 4) first, wrist last
    names = [ah.dataset_info.keypoint_info[i]['name'] for i in range(21)]
    assert names[0] == 'thumb_tip' and names[20] == 'wrist'
    assert ah.dataset_info.sigmas[0] == hand[4] and ah.dataset_info.sigmas[20] == hand[0]
    assert sorted(ah.dataset_info.sigmas) == sorted(hand)
    two = Config.fromfile(osp.join(base, 'assemblyhands_twohands.py'))
    assert two.dataset_info.sigmas == ah.dataset_info.sigmas * 2
    assert len(two.keypoint_prompts) == 42 and two.keypoint_prompts[0] == 'right thumb tip'
    assert two.keypoint_prompts[41] == 'left wrist'
    json.dumps(two.keypoint_prompts)  # plain strings
