"""Fixtures in each public hand dataset's native annotation format, built around the real
images and annotations of ../shared/data/hand_samples (OneHand10K + FreiHAND, COCO keypoints,
wrist first), and a tiny-model test config for any experiment config.

Each ``write_<format>(root)`` writes the annotation files under the names the experiment config
expects (one split serves every role) and copies the images; the keypoints are put into the
dataset's own order with mmpose's own metainfo names of that dataset (not this project's table).
"""
import json
import os
import os.path as osp
import shutil

import numpy as np
from mmengine.config import Config

from conftest import ROOT, require_hand_samples

TINY_MODEL = osp.join(ROOT, 'configs', '_base_', 'models', 'clamp_vit-tiny_128x128.py')


def mmpose_names(dataset):
    """Keypoint names of mmpose's own metainfo file (mmpose/.mim/configs/_base_/datasets)."""
    import mmpose
    path = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', '_base_', 'datasets',
                    f'{dataset}.py')
    info = Config.fromfile(path).dataset_info['keypoint_info']
    return [info[i]['name'] for i in sorted(info)]


def real_hands(per_source=3):
    """[(image path, (21, 3) keypoints x, y, v wrist first, width, height, id)] of the real
    OneHand10K and FreiHAND samples (``per_source`` of each: enough for a step, fast)."""
    out = []
    for name in ('onehand10k', 'freihand'):
        root = osp.join(require_hand_samples(), name)
        coco = json.load(open(osp.join(root, f'test_{name}.json')))
        images = {im['id']: im for im in coco['images']}
        for ann in coco['annotations'][:per_source]:
            im = images[ann['image_id']]
            kpts = np.asarray(ann['keypoints'], float).reshape(21, 3)
            out.append((osp.join(root, im['file_name']), kpts, im['width'], im['height'],
                        len(out) + 1))
    return out


def _box(k):
    vis = k[:, 2] > 0
    x1, y1 = k[vis, :2].min(0) - 4
    x2, y2 = k[vis, :2].max(0) + 4
    return [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]


def _coco(root, ann_names, img_dir, hands, reorder=None, nested=False, extra=None):
    """Write a COCO hand json (one annotation per real hand) to each of ``ann_names``."""
    images, anns = [], []
    for path, k, w, h, i in hands:
        rel = f'{img_dir}{i:05d}.jpg'
        os.makedirs(osp.dirname(osp.join(root, rel)), exist_ok=True)
        shutil.copy(path, osp.join(root, rel))
        kk = k[reorder] if reorder is not None else k
        box = _box(k)
        ann = dict(id=i, image_id=i, category_id=1, iscrowd=0, bbox=box,
                   area=box[2] * box[3], num_keypoints=int((k[:, 2] > 0).sum()),
                   segmentation=[], keypoints=kk.tolist() if nested else kk.reshape(-1).tolist())
        ann.update(extra(k) if extra else {})
        images.append(dict(id=i, file_name=rel, width=w, height=h))
        anns.append(ann)
    cats = [dict(id=1, name='hand', supercategory='hand', keypoints=[], skeleton=[])]
    for name in ann_names:
        os.makedirs(osp.dirname(osp.join(root, name)), exist_ok=True)
        with open(osp.join(root, name), 'w') as f:
            json.dump(dict(images=images, annotations=anns, categories=cats), f)


def _order(dataset):
    """Index into the wrist-first sample keypoints for each keypoint of ``dataset``'s order."""
    wrist_first = mmpose_names('onehand10k')
    return [wrist_first.index(n) for n in mmpose_names(dataset)]


def write_onehand10k(root, hands):
    _coco(root, ['annotations/onehand10k_train.json', 'annotations/onehand10k_test.json'],
          'Train/source/', hands)


def write_coco_wholebody_hand(root, hands):
    """COCO-WholeBody-Hand as tools/dataset_converters/coco_wholebody2hands.py writes it (one
    COCO hand record per hand, flat, wrist first), images under train2017/ and val2017/."""
    _coco(root, [f'annotations/coco_wholebody_{s}_v1.0_hands.json' for s in ('train', 'val')],
          '', hands)
    for d in ('train2017', 'val2017'):
        os.makedirs(osp.join(root, d), exist_ok=True)
        for _, _, _, _, i in hands:
            shutil.copy(osp.join(root, f'{i:05d}.jpg'), osp.join(root, d))


def write_freihand(root, hands):
    _coco(root, [f'annotations/freihand_{s}.json' for s in ('train', 'val', 'test')],
          'training/rgb/', hands)


def write_rhd(root, hands):
    """RHD: keypoints nested [[x, y, v], ..], tip -> palm per finger (mmpose's rhd2d order)."""
    _coco(root, ['annotations/rhd_train.json', 'annotations/rhd_test.json'], 'training/color/',
          hands, reorder=_order('rhd2d'), nested=True)


def write_panoptic(root, hands):
    """CMU Panoptic hands: flat keypoints plus ``head_size`` (px) per hand."""
    _coco(root, ['annotations/panoptic_train.json', 'annotations/panoptic_test.json'],
          'hand_labels/manual_test/', hands,
          extra=lambda k: dict(head_size=float(2 * max(_box(k)[2:]))))


def write_halpe(root, hands):
    """Halpe whole-body: one person per image, 136 x (x, y, v); the hand goes into the left-hand
    block (94-114) on odd ids and the right-hand block (115-135) on even ids; the body's wrist
    keypoints are set too (they must not be taken for the hand's)."""
    names = mmpose_names('halpe')
    images, anns = [], []
    for path, k, w, h, i in hands:
        rel = f'{i:05d}.jpg'
        for d in ('hico_20160224_det/images/train2015/', 'val2017/'):
            os.makedirs(osp.join(root, d), exist_ok=True)
            shutil.copy(path, osp.join(root, d, rel))
        side = 'left' if i % 2 else 'right'
        body = np.zeros((136, 3))
        start = names.index(f'{side}_hand_root')
        body[start:start + 21] = k
        body[names.index(f'{side}_wrist')] = [k[0, 0] + 3, k[0, 1] + 3, 2]
        images.append(dict(id=i, file_name=rel, width=w, height=h))
        anns.append(dict(id=i, image_id=i, category_id=1, iscrowd=0, bbox=[0, 0, w, h],
                         area=float(w * h), num_keypoints=22,
                         keypoints=body.reshape(-1).tolist()))
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    for s in ('train', 'val'):
        with open(osp.join(root, 'annotations', f'halpe_{s}_v1.json'), 'w') as f:
            json.dump(dict(images=images, annotations=anns,
                           categories=[dict(id=1, name='person')]), f)


WRITERS = {'coco_wholebody_hand': write_coco_wholebody_hand, 'onehand10k': write_onehand10k,
           'freihand': write_freihand, 'rhd': write_rhd, 'panoptic': write_panoptic,
           'halpe': write_halpe}


def tiny_64_config(tmp_path, base_cfg, data_root=None, roots=None):
    """A config that inherits ``base_cfg`` with the tiny model at 64x64 input (32x32 heatmaps),
    one epoch with validation; returns its path. Data: ``data_root`` for a one-dataset config,
    or ``roots`` {dataset type: data_root} for the datasets of a CombinedDataset."""
    tiny = Config.fromfile(TINY_MODEL).model.to_dict()
    tiny.update(_delete_=True, codec=None)
    tiny['backbone'].update(image_size=(64, 64), layers=2, out_indices=(0, 1))
    tiny['text_encoder'].update(layers=1, prompts=None)
    path = tmp_path / 'cfg.py'
    path.write_text(f"""
_base_ = [{base_cfg!r}]
codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(32, 32), sigma=2,
             unbiased=True)
model = {tiny!r}
model.update(codec=codec)
model['text_encoder']['prompts'] = _base_.keypoint_prompts


def _at_64(pipeline):
    out = []
    for step in pipeline:
        step = dict(step)
        if step['type'] == 'TopdownAffine':
            step['input_size'] = codec['input_size']
        if step['type'] == 'GenerateTarget':
            step['encoder'] = codec
        out.append(step)
    return out


train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = []
# no checkpoint (each save renders the config with yapf, seconds per test)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1000, save_best=None, save_last=False))
loader = dict(batch_size=3, num_workers=0, persistent_workers=False, pin_memory=False)


def _data(dataset):
    out = dict(pipeline=_at_64(dataset.pipeline))
    if {data_root!r} is not None:
        out.update(data_root={data_root!r})
    if {roots!r} is not None:
        out.update(datasets=[dict(d, data_root={roots!r}[d['type']]) for d in dataset.datasets])
    return out


train_dataloader = dict(**loader, dataset=_data(_base_.train_dataloader.dataset))
val_dataloader = dict(**loader, dataset=_data(_base_.val_dataloader.dataset))
test_dataloader = val_dataloader
""")
    return str(path)

