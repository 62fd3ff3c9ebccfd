"""Real-format fixtures of AssemblyHands and InterHand2.6M, built around the FreiHAND images of
../shared/data/hand_samples: converted (AssemblyHands) or read natively (InterHand), then trained
for one step and evaluated through tools/train.py with the project's configs for those datasets
(only the model is swapped for the tiny one and the data root for the fixture)."""
import contextlib
import io
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest

from conftest import PIPELINES_128, ROOT, load_tool, require_hand_samples

TINY_MODEL = osp.join(ROOT, 'configs', '_base_', 'models', 'clamp_vit-tiny_128x128.py')
AH_CFG = osp.join(ROOT, 'configs', 'assemblyhands',
                  'clamp_vit-b16_4xb16-210e_assemblyhands-{}-256x256.py')
IH_CFG = osp.join(ROOT, 'configs', 'interhand2d',
                  'clamp_vit-b16_4xb16-210e_interhand2d-2hands-256x256.py')


def _freihand():
    """[(image path, (21, 2) keypoints wrist first, width, height)] of the FreiHAND samples."""
    root = osp.join(require_hand_samples(), 'freihand')
    coco = json.load(open(osp.join(root, 'test_freihand.json')))
    images = {im['id']: im for im in coco['images']}
    out = []
    for ann in coco['annotations']:
        im = images[ann['image_id']]
        kpts = np.asarray(ann['keypoints'], float).reshape(21, 3)[:, :2]
        out.append((osp.join(root, im['file_name']), kpts, im['width'], im['height']))
    return out


def _native_order(wrist_first):
    """(21, 2) wrist-first (wrist, thumb base -> tip, ...) -> AssemblyHands/InterHand order
    (per finger tip -> base, wrist last)."""
    order = [4 * f + j for f in range(5) for j in (4, 3, 2, 1)] + [0]
    return wrist_first[order]


def _two_hands(kpts, width):
    """Right hand = the sample, left hand = its mirror image: (42, 2)."""
    right = _native_order(kpts)
    left = right.copy()
    left[:, 0] = width - 1 - left[:, 0]
    return np.concatenate([right, left])


def _xyxy(k):
    return [float(k[:, 0].min() - 5), float(k[:, 1].min() - 5),
            float(k[:, 0].max() + 5), float(k[:, 1].max() + 5)]


def _test_config(tmp_path, base_cfg, data_root, extra=''):
    """A config that inherits ``base_cfg`` and swaps in the tiny model, one short epoch."""
    from mmengine.config import Config
    tiny = Config.fromfile(TINY_MODEL).model.to_dict()
    tiny.update(_delete_=True, codec=None)
    tiny['text_encoder']['prompts'] = None
    path = tmp_path / 'cfg.py'
    path.write_text(f"""
_base_ = [{base_cfg!r}]
codec = dict(type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(64, 64), sigma=2)
model = {tiny!r}
model.update(codec=codec)
model['text_encoder']['prompts'] = {{{{_base_.keypoint_prompts}}}}
data_root = {data_root!r}
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = []
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        pin_memory=False, dataset=dict(data_root=data_root))
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                      pin_memory=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
{extra}
""")
    return str(path)


def _pipelines_at_128():
    """The dataset configs' pipelines resize to 256 px; the tiny model takes 128 px."""
    return PIPELINES_128 + """
train_dataloader['dataset']['pipeline'] = train_pipeline
val_dataloader['dataset']['pipeline'] = val_pipeline
"""


def _train(cfg, work_dir):
    """``tools/train.py CFG --work-dir WORK_DIR`` (its ``main``, in this process)."""
    load_tool('tools/train.py').main([cfg, '--work-dir', str(work_dir)])
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth')), sorted(os.listdir(work_dir))
    scalars = [json.loads(line) for line in open(_scalars(work_dir))]
    losses = [s['loss'] for s in scalars if 'loss' in s]
    val = [s for s in scalars if 'coco/AP' in s]
    assert losses and all(np.isfinite(losses)), scalars
    assert val and 0.0 <= val[-1]['coco/AP'] <= 1.0 and 'PCK' in val[-1], scalars


def _scalars(work_dir):
    import glob
    found = sorted(glob.glob(osp.join(str(work_dir), '*', 'vis_data', 'scalars.json')))
    assert found, f'no scalars.json under {work_dir}'
    return found[-1]


@pytest.fixture(scope='module')
def assemblyhands_root(tmp_path_factory):
    """Raw AssemblyHands json around the FreiHAND images, converted by the real tool."""
    root = tmp_path_factory.mktemp('assemblyhands')
    samples = _freihand()
    images, anns = [], []
    for i, (path, kpts, w, h) in enumerate(samples, start=1):
        rel = f'nusar/C10118_rgb/HMC_21110305_mono10bit/{i:06d}.jpg'
        dst = root / 'images' / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dst)
        both = _two_hands(kpts, w)
        left_too = i % 2 == 0  # odd images: right hand only
        valid = [1] * 21 + [int(left_too)] * 21
        joints = np.concatenate([both, np.full((42, 1), 0.9)], 1)
        images.append(dict(id=i, file_name=rel, width=w, height=h))
        anns.append(dict(id=i, image_id=i, keypoints=joints.reshape(-1).tolist(),
                         joint_valid=valid,
                         bbox=dict(right=_xyxy(both[:21]),
                                   left=_xyxy(both[21:]) if left_too else None)))
    raw = root / 'raw' / 'assemblyhands_train_ego_data_v1-1.json'
    raw.parent.mkdir()
    raw.write_text(json.dumps(dict(images=images, annotations=anns)))
    summary = io.StringIO()
    with contextlib.redirect_stdout(summary):  # the converter's summary, for failure messages
        load_tool('tools/dataset_converters/assemblyhands2coco.py').main(
            [str(raw), '--out-dir', str(root / 'annotations')])
    for split in ('val', 'test'):  # the fixture's one split serves every role
        for layout in ('onehand', 'twohands'):
            shutil.copy(root / 'annotations' / f'assemblyhands_train_ego_data_v1-1_{layout}.json',
                        root / 'annotations' /
                        f'assemblyhands_{split}_ego_data_v1-1_{layout}.json')
    return root, summary.getvalue(), len(samples)


@pytest.mark.parametrize('layout', ['1hand', '2hands'])
def test_converted_assemblyhands_trains(assemblyhands_root, tmp_path, layout):
    root, log, n = assemblyhands_root
    name = 'onehand' if layout == '1hand' else 'twohands'
    coco = json.load(open(root / 'annotations' /
                          f'assemblyhands_train_ego_data_v1-1_{name}.json'))
    want = n + n // 2 if layout == '1hand' else n  # every right hand + the even images' left
    assert len(coco['annotations']) == want, log
    assert {len(a['keypoints']) for a in coco['annotations']} == {63 if layout == '1hand'
                                                                  else 126}
    cfg = _test_config(tmp_path, AH_CFG.format(layout), str(root) + '/', _pipelines_at_128())
    _train(cfg, tmp_path / 'work')


def _interhand_fixture(root):
    """Native InterHand2.6M files: the 2D keypoints are lifted to 3D with a known camera so
    that the dataset's projection must give them back."""
    samples = _freihand()
    fx, fy, cx, cy = 500.0, 510.0, 111.0, 113.0
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # a 90 deg roll
    campos = np.array([10.0, -20.0, 30.0])
    images, anns, joints, expected = [], [], {'0': {}}, {}
    for i, (path, kpts, w, h) in enumerate(samples):
        rel = f'Capture0/ROM01/cam400262/image{i:05d}.jpg'
        dst = root / 'images' / 'train' / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dst)
        uv = _two_hands(kpts, w)
        z = 600.0 + 5.0 * np.arange(42)  # mm, a different depth per joint
        cam = np.stack([(uv[:, 0] - cx) * z / fx, (uv[:, 1] - cy) * z / fy, z], 1)
        world = cam @ rot + campos  # inverse of cam = rot @ (world - campos)
        joints['0'][str(i)] = dict(world_coord=world.tolist())
        valid = [[1]] * 21 + ([[1]] * 21 if i % 2 == 0 else [[0]] * 21)
        box = _xyxy(uv if i % 2 == 0 else uv[:21])
        images.append(dict(id=i, file_name=rel, width=w, height=h, capture=0,
                           camera='400262', frame_idx=i, subject=1, seq_name='ROM01'))
        anns.append(dict(id=100 + i, image_id=i, bbox=[box[0], box[1], box[2] - box[0],
                                                        box[3] - box[1]],
                         joint_valid=valid, hand_type='interacting' if i % 2 == 0 else 'right',
                         hand_type_valid=1))
        expected[100 + i] = (uv, np.array(valid).reshape(-1))
    cams = {'0': dict(campos={'400262': campos.tolist()}, camrot={'400262': rot.tolist()},
                      focal={'400262': [fx, fy]}, princpt={'400262': [cx, cy]})}
    ann_dir = root / 'annotations' / 'all'
    ann_dir.mkdir(parents=True)
    for split in ('train', 'val', 'test'):
        (ann_dir / f'InterHand2.6M_{split}_data.json').write_text(
            json.dumps(dict(images=images, annotations=anns)))  # no categories, as released
        (ann_dir / f'InterHand2.6M_{split}_camera.json').write_text(json.dumps(cams))
        (ann_dir / f'InterHand2.6M_{split}_joint_3d.json').write_text(json.dumps(joints))
    for split in ('val', 'test'):
        shutil.copytree(root / 'images' / 'train', root / 'images' / split)
    return expected


def test_interhand_reads_native_files_and_trains(tmp_path):
    from mmengine.config import Config

    from clamp_hand.registry import DATASETS
    root = tmp_path / 'interhand2.6m'
    expected = _interhand_fixture(root)
    cfg = Config.fromfile(IH_CFG)
    ds_cfg = dict(cfg.val_dataloader.dataset, data_root=str(root) + '/', pipeline=[])
    ds = DATASETS.build(ds_cfg)
    assert len(ds) == len(expected)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        uv, valid = expected[info['id']]
        np.testing.assert_allclose(info['keypoints'][0], uv, atol=1e-2)
        np.testing.assert_array_equal(info['keypoints_visible'][0], valid)
        flat = np.asarray(info['raw_ann_info']['keypoints']).reshape(42, 3)
        np.testing.assert_allclose(flat[:, :2], uv, atol=1e-2)
        np.testing.assert_array_equal(flat[:, 2], 2 * valid)
        assert info['raw_ann_info']['num_keypoints'] == valid.sum()
    train_cfg = _test_config(tmp_path, IH_CFG, str(root) + '/', _pipelines_at_128())
    _train(train_cfg, tmp_path / 'work')


def test_interhand_ground_truth_scores_one(tmp_path):
    """CocoMetric on the InterHand samples: ground truth given as predictions gives AP 1."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from clamp_hand.registry import DATASETS, METRICS
    init_default_scope('clamp_hand')
    root = tmp_path / 'interhand2.6m'
    _interhand_fixture(root)
    cfg = Config.fromfile(IH_CFG)
    ds = DATASETS.build(dict(cfg.val_dataloader.dataset, data_root=str(root) + '/',
                             pipeline=[]))
    metric = METRICS.build(dict(type='CocoMetric', nms_mode='none'))
    metric.dataset_meta = ds.metainfo
    samples = []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        samples.append(dict(
            id=info['id'], img_id=info['img_id'], img_path=info['img_path'],
            ori_shape=(224, 224), category_id=1, raw_ann_info=info['raw_ann_info'],
            gt_instances=dict(bboxes=info['bbox'], bbox_scales=np.ones((1, 2)) * 100),
            pred_instances=dict(keypoints=info['keypoints'],
                                keypoint_scores=np.ones((1, 42)),
                                bbox_scores=np.ones(1))))
    metric.process([], samples)
    assert metric.compute_metrics(metric.results)['AP'] == pytest.approx(1.0)
