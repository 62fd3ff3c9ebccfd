"""Bad data: broken records and image files are skipped in training (one warning each naming
the annotation file, image and annotation id, and a count), are errors in strict mode, and
never silently disappear from evaluation. Built from real images of ../shared/data/hand_samples."""
import copy
import json
import os.path as osp
import shutil

import pytest
from mmengine.logging import MMLogger

from conftest import HAND_SAMPLES, ROOT, require_hand_samples

LAYOUT = osp.join(ROOT, 'configs', '_base_', 'datasets', 'hand21_wrist_first.py')

# annotation id -> what is wrong with it (ids 1 and 2 are good)
BAD_RECORDS = {
    10: 'missing field',       # no 'bbox'
    11: 'missing field',       # no 'keypoints'
    12: 'bad box',             # w = 0
    13: 'bad box',             # h < 0
    14: 'keypoint outside the image',
    15: 'no visible keypoint',
    16: 'wrong keypoint count',
}
BAD_IMAGES = {20: 'missing.jpg', 21: 'truncated.jpg', 22: 'not_an_image.jpg'}


def make_broken_set(root):
    """A COCO json over copies of the real FreiHAND samples with one broken record (or
    image) per case; returns the annotation file path."""
    src = json.load(open(osp.join(HAND_SAMPLES, 'freihand', 'test_freihand.json')))
    img_dir = osp.join(root, 'img')
    shutil.copytree(osp.join(HAND_SAMPLES, 'freihand'), img_dir,
                    ignore=shutil.ignore_patterns('*.json'))
    good_img, good_ann = src['images'][0], src['annotations'][0]
    raw = open(osp.join(img_dir, good_img['file_name']), 'rb').read()
    open(osp.join(img_dir, 'truncated.jpg'), 'wb').write(raw[:len(raw) // 2])
    open(osp.join(img_dir, 'not_an_image.jpg'), 'w').write('this is not a JPEG')

    images, anns = [], []

    def add(ann_id, file_name=None, **change):
        img = dict(good_img, id=ann_id, file_name=file_name or good_img['file_name'])
        ann = dict(copy.deepcopy(good_ann), id=ann_id, image_id=ann_id)
        for key, value in change.items():
            if value is None:
                ann.pop(key)
            else:
                ann[key] = value
        images.append(img)
        anns.append(ann)

    kpts = good_ann['keypoints']
    add(1)
    add(2, file_name=src['images'][1]['file_name'])
    add(10, bbox=None)
    add(11, keypoints=None)
    add(12, bbox=[62, 82, 0, 63])
    add(13, bbox=[62, 82, 104, -5])
    add(14, keypoints=[500.0, 10.0, 1] + kpts[3:])
    add(15, keypoints=[v if i % 3 != 2 else 0 for i, v in enumerate(kpts)])
    add(16, keypoints=kpts[:-3])
    for ann_id, name in BAD_IMAGES.items():
        add(ann_id, file_name=name)
    path = osp.join(root, 'broken.json')
    json.dump(dict(images=images, annotations=anns, categories=src['categories']),
              open(path, 'w'))
    return path


def build(ann_file, test_mode, **kwargs):
    from mmengine.config import Config

    from clamp_hand.registry import DATASETS
    pipeline = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale', padding=1.25),
                dict(type='TopdownAffine', input_size=(64, 64)),
                dict(type='PackPoseInputs')]
    return DATASETS.build(dict(
        type='HandKeypointDataset', ann_file=ann_file,
        metainfo=Config.fromfile(LAYOUT).dataset_info,
        data_prefix=dict(img=osp.join(osp.dirname(ann_file), 'img') + '/'),
        pipeline=pipeline, test_mode=test_mode, **kwargs))


def ann_ids(ds):
    return [ds.get_data_info(i)['id'] for i in range(len(ds))]


@pytest.fixture()
def broken(tmp_path):
    require_hand_samples()
    log_file = tmp_path / 'log.txt'
    MMLogger.get_instance(f'bad_data_{tmp_path.name}', log_file=str(log_file))
    return make_broken_set(str(tmp_path)), log_file


def test_training_skips_each_bad_record_with_one_warning_and_a_count(broken):
    ann_file, log_file = broken
    ds = build(ann_file, test_mode=False)
    # 2 good records + 3 records whose image is bad (found when the image is loaded)
    assert sorted(ann_ids(ds)) == [1, 2, 20, 21, 22]
    log = log_file.read_text()
    for ann_id, label in BAD_RECORDS.items():
        lines = [ln for ln in log.splitlines() if f'annotation id {ann_id} ' in ln]
        assert len(lines) == 1, (ann_id, lines)
        assert 'broken.json' in lines[0] and 'skipped for training' in lines[0], lines[0]
    assert f'skipped {len(BAD_RECORDS)} of {len(BAD_RECORDS) + 5} annotations' in log
    assert '2 missing field' in log and '2 bad box' in log and '1 no visible keypoint' in log


def test_training_skips_unreadable_images_once_per_file(broken):
    ann_file, log_file = broken
    ds = build(ann_file, test_mode=False)
    ids = [ds[i]['data_samples'].id for i in range(len(ds)) for _ in range(2)]
    assert set(ids) <= {1, 2}, ids  # bad images were replaced by good samples
    assert ds.skipped_images == 3
    log = log_file.read_text()
    for ann_id, name in BAD_IMAGES.items():
        lines = [ln for ln in log.splitlines() if name in ln and f'annotation id {ann_id}' in ln]
        assert len(lines) == 1, (name, lines)
    assert 'file not found' in log
    assert log.count('cannot be decoded') == 2  # truncated.jpg and not_an_image.jpg


def test_strict_mode_fails_at_the_first_bad_record(broken):
    ann_file, _ = broken
    with pytest.raises(ValueError, match=r'broken.json: annotation id 10 .*missing field.*bbox'):
        build(ann_file, test_mode=False, strict=True)


def test_strict_mode_fails_on_a_bad_image(broken, tmp_path):
    ann_file, _ = broken
    data = json.load(open(ann_file))
    keep = {1, 20}
    data['annotations'] = [a for a in data['annotations'] if a['id'] in keep]
    data['images'] = [i for i in data['images'] if i['id'] in keep]
    json.dump(data, open(ann_file, 'w'))
    ds = build(ann_file, test_mode=False, strict=True)
    with pytest.raises(RuntimeError, match=r'missing.jpg \(annotation id 20.*file not found'):
        [ds[i] for i in range(len(ds))]


def test_evaluation_rejects_broken_records_instead_of_dropping_them(broken):
    ann_file, _ = broken
    with pytest.raises(ValueError, match=r'annotation id 10 .*Evaluation does not drop'):
        build(ann_file, test_mode=True)


def test_evaluation_keeps_doubtful_ground_truth_and_names_a_missing_image(broken):
    ann_file, log_file = broken
    data = json.load(open(ann_file))
    keep = {1, 2, 14, 15, 20}  # good, good, keypoint outside, no visible keypoint, no image
    data['annotations'] = [a for a in data['annotations'] if a['id'] in keep]
    json.dump(data, open(ann_file, 'w'))
    ds = build(ann_file, test_mode=True)
    assert sorted(ann_ids(ds)) == sorted(keep)  # nothing dropped
    assert 'annotation id 14 ' in log_file.read_text()  # the outside keypoint is reported
    samples = {ds[i]['data_samples'].id for i in range(len(ds)) if ds.get_data_info(i)['id'] != 20}
    assert samples == keep - {20}
    idx = next(i for i in range(len(ds)) if ds.get_data_info(i)['id'] == 20)
    with pytest.raises(RuntimeError, match=r'missing.jpg \(annotation id 20.*file not found'):
        ds[idx]
