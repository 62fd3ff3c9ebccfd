"""The seed's config paths and metric: the alias configs under
configs/animal/2d_kpt_sview_rgb_img/topdown_heatmap/ap10k/ read a data tree laid out as the
Hand-CLAMP seed's (``data/hands/annotations/assemblyhands_*_ego_data_v1-1_*.json``, images
under ``data/hands/data/``) and train, and the seed's AP (AP-10K sigmas) is reported next to
the hand-sigma AP. The fixture is the FreiHAND samples of ../shared/data/hand_samples written
as raw AssemblyHands records (right hand = the sample, left hand = its mirror image on the even
images) and converted by the project's AssemblyHands converter."""
import copy
import json
import os.path as osp
import shutil

import numpy as np
import pytest
from mmengine.config import Config
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from clamp_hand.datasets.assemblyhands_converter import convert_file
from clamp_hand.evaluation.ap10k_sigma_metric import AP10K_SIGMAS, seed_sigmas
from clamp_hand.registry import DATASETS, METRICS
from conftest import PIPELINES_128, ROOT, require_hand_samples

ALIAS_DIR = osp.join(ROOT, 'configs', 'animal', '2d_kpt_sview_rgb_img', 'topdown_heatmap', 'ap10k')
ALIASES = {'onehand': 'CLAMP_ViTB_ap10k_256x256_onehand.py',
           'twohands': 'CLAMP_ViTB_ap10k_256x256_twohands.py'}
# Hand-CLAMP's configs/_base_/datasets/interhand_onehand.py, sigmas=[...] as published
SEED_ONEHAND_SIGMAS = [0.025, 0.025, 0.026, 0.035, 0.035, 0.079, 0.072, 0.062, 0.079, 0.072,
                       0.062, 0.107, 0.087, 0.089, 0.107, 0.087, 0.089, 0.089, 0.107, 0.087,
                       0.089]


def _freihand():
    root = osp.join(require_hand_samples(), 'freihand')
    coco = json.load(open(osp.join(root, 'test_freihand.json')))
    images = {im['id']: im for im in coco['images']}
    for ann in coco['annotations']:
        im = images[ann['image_id']]
        kpts = np.asarray(ann['keypoints'], float).reshape(21, 3)[:, :2]
        yield osp.join(root, im['file_name']), kpts, im['width'], im['height']


@pytest.fixture(scope='module')
def seed_tree(tmp_path_factory):
    """``<root>/data/hands/`` as the seed had it; returns root."""
    root = tmp_path_factory.mktemp('seed')
    hands = root / 'data' / 'hands'
    images, anns = [], []
    native = [4 * f + j for f in range(5) for j in (4, 3, 2, 1)] + [0]  # wrist-first -> native
    for i, (path, kpts, w, h) in enumerate(_freihand(), start=1):
        rel = f'nusar-2021_action_both_9081-c11b/HMC_84346135_mono10bit/{i:06d}.jpg'
        (hands / 'data' / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, hands / 'data' / rel)
        right = kpts[native]
        left = right.copy()
        left[:, 0] = w - 1 - left[:, 0]
        both = np.concatenate([right, left])
        left_too = i % 2 == 0
        box = lambda k: [float(k[:, 0].min() - 5), float(k[:, 1].min() - 5),  # noqa: E731
                         float(k[:, 0].max() + 5), float(k[:, 1].max() + 5)]
        images.append(dict(id=i, file_name=rel, width=w, height=h))
        anns.append(dict(id=i, image_id=i,
                         keypoints=np.concatenate([both, np.ones((42, 1))], 1).ravel().tolist(),
                         joint_valid=[1] * 21 + [int(left_too)] * 21,
                         bbox=dict(right=box(right), left=box(left) if left_too else None)))
    raw = root / 'raw' / 'assemblyhands_train_ego_data_v1-1.json'
    raw.parent.mkdir()
    raw.write_text(json.dumps(dict(images=images, annotations=anns)))
    convert_file(str(raw), str(hands / 'annotations'))
    for split in ('val', 'test'):
        for layout in ALIASES:
            ann = hands / 'annotations'
            shutil.copy(ann / f'assemblyhands_train_ego_data_v1-1_{layout}.json',
                        ann / f'assemblyhands_{split}_ego_data_v1-1_{layout}.json')
    return root


# ---- the alias configs --------------------------------------------------------------------
def test_default_alias_is_the_one_hand_config():
    default = Config.fromfile(osp.join(ALIAS_DIR, 'CLAMP_ViTB_ap10k_256x256.py'))
    onehand = Config.fromfile(osp.join(ALIAS_DIR, ALIASES['onehand']))
    assert default.model.to_dict() == onehand.model.to_dict()
    assert default.test_dataloader.to_dict() == onehand.test_dataloader.to_dict()
    assert onehand.test_dataloader.dataset.data_root == 'data/hands/'
    assert onehand.test_dataloader.dataset.data_prefix == dict(img='data/')


def _tiny_alias_config(tmp_path, alias):
    """The alias config with the model shrunk in place (its prompts, contexts, name length,
    normalisation and data settings kept) and 128 px pipelines; one iteration of 4 crops."""
    path = tmp_path / 'tiny_alias.py'
    path.write_text(f"""
_base_ = [{osp.join(ALIAS_DIR, alias)!r}]
codec = dict(type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(64, 64), sigma=2,
             unbiased=False)
model = dict(
    pretrained=None, codec=codec, score_concat_index=-1,
    backbone=dict(image_size=(128, 128), patch_size=8, width=96, layers=4, heads=3,
                  output_dim=64, out_indices=(1, 3), drop_path_rate=0.0),
    text_encoder=dict(width=64, layers=2, heads=2, embed_dim=64),
    prompt_encoder=dict(width=64, layers=1, heads=2),
    context_decoder=dict(visual_dim=64, width=64, heads=2, layers=1, dropout=0.0),
    head=dict(deconv_out_channels=(64, 64)))
{PIPELINES_128}loader = dict(batch_size=4, num_workers=0, persistent_workers=False, pin_memory=False)
train_dataloader = dict(**loader, dataset=dict(pipeline=train_pipeline, indices=4))
val_dataloader = dict(**loader, dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = []
# no checkpoint: this test reads none
default_hooks = dict(logger=dict(interval=1), checkpoint=None)
""")
    return str(path)


@pytest.mark.parametrize('layout', ['onehand', 'twohands'])
def test_alias_config_trains_on_the_seed_data_tree(seed_tree, tmp_path, monkeypatch, layout):
    """Training with the alias from a directory holding the seed's data/hands/ tree (what
    ``tools/train.py`` runs, in-process): one training step, then validation reporting both
    APs."""
    from clamp_hand.apis.runner import train
    cfg = _tiny_alias_config(tmp_path, ALIASES[layout])
    work = tmp_path / 'work'
    monkeypatch.chdir(seed_tree)  # the alias's data_root is the seed's relative 'data/hands/'
    train(cfg, work_dir=str(work))
    scalars = [json.loads(line) for p in sorted(work.glob('*/vis_data/scalars.json'))
               for line in open(p)]
    losses = [s['loss'] for s in scalars if 'loss' in s]
    assert len(losses) == 1 and np.isfinite(losses[0]), scalars  # one step of 4 crops
    val = [s for s in scalars if 'coco/AP' in s][-1]
    for key in ('coco/AP', 'coco-ap10k-sigmas/AP', 'PCK'):
        assert 0.0 <= val[key] <= 1.0, val


# ---- the seed's metric --------------------------------------------------------------------
def test_seed_sigmas_are_the_seeds():
    assert seed_sigmas(21) == pytest.approx(SEED_ONEHAND_SIGMAS)
    assert seed_sigmas(42) == pytest.approx(SEED_ONEHAND_SIGMAS * 2)
    assert list(AP10K_SIGMAS) == SEED_ONEHAND_SIGMAS[:17]
    with pytest.raises(ValueError, match='21 or 42 keypoints'):
        seed_sigmas(17)


def _dataset(seed_tree, layout):
    cfg = Config.fromfile(osp.join(ALIAS_DIR, ALIASES[layout]))
    ds_cfg = dict(cfg.test_dataloader.dataset, pipeline=[],
                  data_root=str(seed_tree / 'data' / 'hands') + '/')
    return DATASETS.build(ds_cfg), cfg.test_evaluator


def _samples(dataset, noise, seed=0):
    """Model outputs for every instance: the ground truth plus Gaussian noise of ``noise`` x
    the box side (visible joints only matter to OKS)."""
    rng = np.random.default_rng(seed)
    with open(dataset.ann_file) as f:
        sizes = {im['id']: (im['height'], im['width']) for im in json.load(f)['images']}
    out = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        gt = info['keypoints'].astype(np.float64)
        x1, y1, x2, y2 = info['bbox'][0]
        pred = gt + rng.normal(0, noise * np.sqrt((x2 - x1) * (y2 - y1)), gt.shape)
        out.append(dict(
            id=info['id'], img_id=info['img_id'], category_id=info['category_id'],
            ori_shape=sizes[info['img_id']],
            raw_ann_info=info['raw_ann_info'],
            gt_instances=dict(keypoints=gt, keypoints_visible=info['keypoints_visible'],
                              bboxes=info['bbox']),
            pred_instances=dict(keypoints=pred, keypoint_scores=np.ones(gt.shape[:2]))))
    return out


def _evaluate(metric_cfgs, dataset, samples):
    out = {}
    for cfg in metric_cfgs:
        if cfg['type'] not in ('CocoMetric', 'HandCocoMetric', 'AP10KSigmaCocoMetric'):
            continue
        metric = METRICS.build(dict(cfg))
        metric.dataset_meta = dataset.metainfo
        metric.process([], copy.deepcopy(samples))
        out.update(metric.evaluate(len(samples)))
    return out


def _cocoeval_ap(ann_file, samples, sigmas):
    """Independent pycocotools AP of the samples' predictions with the given sigmas."""
    gt = COCO(ann_file)
    results = [dict(image_id=int(s['img_id']), category_id=1, score=1.0,
                    keypoints=np.concatenate([s['pred_instances']['keypoints'][0],
                                              np.ones((len(sigmas), 1))], 1).ravel().tolist())
               for s in samples]
    ev = COCOeval(gt, gt.loadRes(results), 'keypoints')
    ev.params.kpt_oks_sigmas = np.asarray(sigmas)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return ev.stats[0]


@pytest.mark.parametrize('layout', ['onehand', 'twohands'])
def test_both_aps_on_the_same_predictions(seed_tree, layout):
    dataset, evaluator = _dataset(seed_tree, layout)
    k = 21 if layout == 'onehand' else 42
    perfect = _evaluate(evaluator, dataset, _samples(dataset, 0.0))
    assert perfect['coco/AP'] == pytest.approx(1.0)
    assert perfect['coco-ap10k-sigmas/AP'] == pytest.approx(1.0)

    noisy = _samples(dataset, 0.04)
    m = _evaluate(evaluator, dataset, noisy)
    hand, seed = m['coco/AP'], m['coco-ap10k-sigmas/AP']
    assert 0.0 <= hand < seed <= 1.0, m  # the seed's sigmas are 1-4x the hand sigmas
    assert hand == pytest.approx(_cocoeval_ap(dataset.ann_file, noisy,
                                              dataset.metainfo['sigmas']), abs=1e-6)
    # the seed's metric also OKS-NMSes at 0.9 (as the seed did): without it, it is plain COCO
    # AP with the seed's sigmas
    no_nms = _evaluate([dict(type='AP10KSigmaCocoMetric', nms_mode='none')], dataset, noisy)
    assert no_nms['coco-ap10k-sigmas/AP'] == pytest.approx(
        _cocoeval_ap(dataset.ann_file, noisy, seed_sigmas(k)), abs=1e-6)


def test_tools_test_option_adds_the_seed_metric():
    import importlib.util
    from clamp_hand.apis.runner import METRIC_COLUMNS, format_metrics
    spec = importlib.util.spec_from_file_location('test_tool', osp.join(ROOT, 'tools', 'test.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.parse_args(['c.py', 'x.pth', '--ap10k-sigmas']).ap10k_sigmas
    assert not tool.parse_args(['c.py', 'x.pth']).ap10k_sigmas
    table = format_metrics({'coco/AP': 0.1, 'coco-ap10k-sigmas/AP': 0.4})
    assert 'AP-ap10k' in table and '0.4000' in table
    assert ('AP-ap10k', 'coco-ap10k-sigmas/AP') in METRIC_COLUMNS
