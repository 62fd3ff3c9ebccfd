"""Fixtures in each hand dataset's native format, built from the real images of
../shared/data/hand_samples (tests/test_reliability_bad_input.py, test_preflight.py)."""
import copy
import json
import os.path as osp
import shutil

from conftest import HAND_SAMPLES, ROOT

LAYOUT = osp.join(ROOT, 'configs', '_base_', 'datasets', 'hand21_wrist_first.py')
TINY_CFG = osp.join(ROOT, 'configs', 'hand_samples',
                    'clamp_vit-tiny_2xb4-4iter_dist-check-64x64.py')


def load_sample(name):
    return json.load(open(osp.join(HAND_SAMPLES, name, f'test_{name}.json')))


def copy_images(name, dst):
    shutil.copytree(osp.join(HAND_SAMPLES, name), dst, ignore=shutil.ignore_patterns('*.json'),
                    dirs_exist_ok=True)
    return str(dst)


def write_json(data, path):
    with open(path, 'w') as f:
        json.dump(data, f)
    return str(path)


def native_fixture(fmt, root, zero_box_index=None):
    """``(dataset type, ann_file, img folder)`` of a small file in format ``fmt`` over real
    images: 'onehand10k', 'freihand', 'rhd' (nested ``[[x, y, v], ...]`` keypoints),
    'panoptic' (``head_size``), 'coco_wholebody' (left/right hand fields of whole-body
    records). ``zero_box_index``: the annotation (hand) whose box gets zero width."""
    src = {'rhd': 'onehand10k', 'panoptic': 'onehand10k'}.get(fmt, fmt)
    data = copy.deepcopy(load_sample(src))
    img_dir = copy_images(src, osp.join(root, f'{fmt}_img'))
    anns = data['annotations']
    if fmt == 'coco_wholebody':
        hands = [(a, side) for a in anns for side in ('left', 'right') if a[f'{side}hand_valid']
                 and max(a[f'{side}hand_kpts']) > 0]
        if zero_box_index is not None:
            ann, side = hands[zero_box_index]
            ann[f'{side}hand_box'][2] = 0
    else:
        for a in anns:
            if fmt == 'rhd':
                k = a['keypoints']
                a['keypoints'] = [k[i:i + 3] for i in range(0, len(k), 3)]
            if fmt == 'panoptic':
                a['head_size'] = 0.7 * max(a['bbox'][2:])
        if zero_box_index is not None:
            anns[zero_box_index]['bbox'][2] = 0
    types = dict(onehand10k='OneHand10KDataset', freihand='FreiHandDataset', rhd='Rhd2DDataset',
                 panoptic='PanopticHand2DDataset', coco_wholebody='CocoWholeBodyHandDataset')
    return types[fmt], write_json(data, osp.join(root, f'{fmt}.json')), img_dir + '/'


VAL_PIPELINE = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale', padding=1.25),
                dict(type='TopdownAffine', input_size=(64, 64)), dict(type='PackPoseInputs')]


def build_dataset(type_, ann_file, img_dir, test_mode, pipeline=None, **kwargs):
    """Build a dataset through the ``clamp_hand`` registry, as configs are built."""
    from mmengine.config import Config

    from clamp_hand.registry import DATASETS
    if type_ == 'HandKeypointDataset':
        kwargs.setdefault('metainfo', Config.fromfile(LAYOUT).dataset_info)
    return DATASETS.build(dict(type=type_, ann_file=ann_file, data_prefix=dict(img=img_dir),
                               pipeline=pipeline or VAL_PIPELINE, test_mode=test_mode,
                               **kwargs))
