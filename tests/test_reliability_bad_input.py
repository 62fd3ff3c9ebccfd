"""Bad input that real users hit (issue 14) and dataset types that bypassed the checks
(issue 13): each case gets a clear message naming the file/field/option, before anything is
built where it can be told then. Fixtures are small files over the real images of
../shared/data/hand_samples."""
import copy
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.logging import MMLogger

from _helpers_bad_input import (TINY_CFG, VAL_PIPELINE, build_dataset, copy_images,
                                load_sample, native_fixture, write_json)
from conftest import HAND_SAMPLES, ROOT, require_hand_samples, run_tool

FORMATS = ('onehand10k', 'freihand', 'rhd', 'panoptic', 'coco_wholebody')


@pytest.fixture()
def log(tmp_path):
    """The text the 'current' mmengine logger writes during the test."""
    require_hand_samples()
    path = tmp_path / 'log.txt'
    MMLogger.get_instance(f'bad_input_{tmp_path.name}', log_file=str(path))
    return path


def onehand(tmp_path, change=None):
    """A copy of the OneHand10K sample (4 hands) with ``change(data)`` applied."""
    data = copy.deepcopy(load_sample('onehand10k'))
    if change:
        change(data)
    img = copy_images('onehand10k', tmp_path / 'img')
    return write_json(data, tmp_path / 'hands.json'), img + '/'


# ---- 1. fields the metrics need, empty files ---------------------------------------------
@pytest.mark.parametrize('type_', ['HandKeypointDataset', 'OneHand10KDataset'])
def test_missing_area_is_an_evaluation_error_naming_file_and_annotation(tmp_path, log, type_):
    ann_file, img = onehand(tmp_path, lambda d: d['annotations'][2].pop('area'))
    ann_id = load_sample('onehand10k')['annotations'][2]['id']
    with pytest.raises(ValueError, match=rf'hands.json: annotation id {ann_id} .*missing field '
                       r'area.*w\*h'):
        build_dataset(type_, ann_file, img, test_mode=True)
    assert len(build_dataset(type_, ann_file, img, test_mode=False)) == 4  # training: not needed


@pytest.mark.parametrize('type_', ['HandKeypointDataset', 'OneHand10KDataset'])
@pytest.mark.parametrize('test_mode', [False, True])
def test_a_file_without_annotations_says_so(tmp_path, type_, test_mode):
    require_hand_samples()
    ann_file, img = onehand(tmp_path, lambda d: d.update(annotations=[]))
    with pytest.raises(ValueError, match=r'hands.json has 4 images and no annotation'):
        build_dataset(type_, ann_file, img, test_mode=test_mode)


def _tiny_cfg(tmp_path, val_dataset=None, evaluator=None, extra=''):
    """The 4-iteration tiny config, with a validation set when given."""
    text = f'_base_ = [{TINY_CFG!r}]\n'
    if val_dataset is not None:
        text += (f'val_dataloader = dict(_delete_=True, batch_size=4, num_workers=0, '
                 'persistent_workers=False, drop_last=False, sampler=dict('
                 'type="DefaultSampler", shuffle=False, round_up=False), '
                 f'dataset={val_dataset!r})\n'
                 'val_cfg = dict(_delete_=True, type="ValLoop")\n'
                 f'val_evaluator = {evaluator or [dict(type="CocoMetric", nms_mode="none")]!r}\n')
    path = tmp_path / 'cfg.py'
    path.write_text(text + extra)
    return str(path)


def test_validation_set_without_area_stops_training_before_the_runner(tmp_path):
    from clamp_hand.apis import train
    require_hand_samples()
    ann_file, img = onehand(tmp_path, lambda d: d['annotations'][0].pop('area'))
    cfg = _tiny_cfg(tmp_path, dict(type='OneHand10KDataset', ann_file=ann_file,
                                   data_prefix=dict(img=img), pipeline=VAL_PIPELINE,
                                   test_mode=True))
    work = tmp_path / 'work'
    with pytest.raises(ValueError, match='hands.json: annotation id 9 .*missing field area'):
        train(cfg, work_dir=str(work))
    assert not work.exists()  # no runner was built, nothing written


# ---- 2. what is decoded agrees with its record ------------------------------------------
def exif_rotated_set(tmp_path):
    """OneHand10K's 9.jpg (238x358) re-saved with EXIF Orientation=6; the json keeps the
    stored pixels' size and keypoints. Returns (ann_file, img folder)."""
    from PIL import Image
    ann_file, img = onehand(tmp_path)
    with Image.open(osp.join(img, '9.jpg')) as im:
        exif = Image.Exif()
        exif[0x0112] = 6
        im.save(osp.join(img, '9.jpg'), exif=exif.tobytes(), quality=95)
    return ann_file, img


@pytest.mark.parametrize('type_', ['HandKeypointDataset', 'OneHand10KDataset'])
def test_exif_rotated_image_is_skipped_in_training_and_an_error_in_evaluation(tmp_path, log,
                                                                              type_):
    ann_file, img = exif_rotated_set(tmp_path)
    ds = build_dataset(type_, ann_file, img, test_mode=False)
    idx = next(i for i in range(len(ds)) if ds.get_data_info(i)['img_path'].endswith('/9.jpg'))
    for _ in range(2):
        assert ds[idx]['data_samples'].img_path != ds.get_data_info(idx)['img_path']  # replaced
    lines = [ln for ln in log.read_text().splitlines() if '9.jpg' in ln and 'EXIF' in ln]
    assert len(lines) == 1, lines  # one warning per file
    assert ('decodes to 358x238 pixels but its image record says 238x358' in lines[0]
            and 'EXIF Orientation=6' in lines[0] and 'skipped for training' in lines[0])
    ds = build_dataset(type_, ann_file, img, test_mode=True)
    with pytest.raises(ValueError, match=r'9.jpg .*EXIF Orientation=6.*color_ignore_orientation'):
        ds[idx]
    # the documented way to read such files: the stored pixels, as the record says
    pipeline = [dict(VAL_PIPELINE[0], color_type='color_ignore_orientation')] + VAL_PIPELINE[1:]
    ds = build_dataset(type_, ann_file, img, test_mode=True, pipeline=pipeline)
    assert tuple(ds[idx]['data_samples'].ori_shape) == (358, 238)


def padded_onehand(tmp_path):
    """The OneHand10K sample with each image padded by half its size on the left and top (the
    hands then lie mid-picture, as in most photos); returns the json data and image folder."""
    import cv2
    data = copy.deepcopy(load_sample('onehand10k'))
    img_dir = copy_images('onehand10k', tmp_path / 'img')
    pads = {}
    for im in data['images']:
        px, py = im['width'] // 2, im['height'] // 2
        path = osp.join(img_dir, im['file_name'])
        cv2.imwrite(path, cv2.copyMakeBorder(cv2.imread(path), py, 0, px, 0,
                                             cv2.BORDER_REPLICATE))
        im['width'], im['height'] = im['width'] + px, im['height'] + py
        pads[im['id']] = (px, py)
    for a in data['annotations']:
        px, py = pads[a['image_id']]
        a['bbox'][0] += px
        a['bbox'][1] += py
        k = a['keypoints']
        for i in range(0, len(k), 3):
            if k[i + 2] > 0:
                k[i] += px
                k[i + 1] += py
        a.pop('segmentation', None)
    return data, img_dir + '/'


def test_boxes_written_as_corners_get_a_warning_with_the_count(tmp_path, log):
    data, img = padded_onehand(tmp_path)
    good = write_json(data, tmp_path / 'good.json')
    sizes = {im['id']: (im['width'], im['height']) for im in data['images']}
    expected = 0
    for a in data['annotations']:  # x, y, w, h -> x1, y1, x2, y2 read as x, y, w, h
        x, y, w, h = a['bbox']
        width, height = sizes[a['image_id']]
        expected += max((2 * x + w - width) / width, (2 * y + h - height) / height) > 0.1
        a['bbox'] = [x, y, x + w, y + h]
    assert expected >= 2
    for type_ in ('HandKeypointDataset', 'OneHand10KDataset'):
        ann_file = write_json(data, tmp_path / f'{type_}.json')
        build_dataset(type_, ann_file, img, test_mode=True)
        lines = [ln for ln in log.read_text().splitlines() if 'past the image border' in ln]
        assert len(lines) == 1, lines
        assert f'{type_}.json: {expected} of 4 boxes run more than 10%' in lines[0]
        assert 'x1,y1,x2,y2' in lines[0]
        log.write_text('')
    for type_ in ('HandKeypointDataset', 'OneHand10KDataset'):  # the right boxes: no warning
        build_dataset(type_, good, img, test_mode=True)
    assert 'past the image border' not in log.read_text()


# ---- issue 13: every dataset type goes through the same checks --------------------------
@pytest.mark.parametrize('fmt', FORMATS)
def test_zero_size_box_in_each_format_is_an_evaluation_error(tmp_path, log, fmt):
    type_, ann_file, img = native_fixture(fmt, str(tmp_path), zero_box_index=1)
    with pytest.raises(ValueError, match=rf'{fmt}.json: annotation id \S+ \(image \S+\.jpg\): '
                       r'bbox .* has zero or negative size. Evaluation does not drop'):
        build_dataset(type_, ann_file, img, test_mode=True)
    good = build_dataset(type_, *native_fixture(fmt, str(tmp_path / 'good'))[1:], test_mode=True)
    ds = build_dataset(type_, ann_file, img, test_mode=False)
    assert len(ds) == len(good) - 1  # training: skipped, with a warning and a count
    text = log.read_text()
    assert 'has zero or negative size; skipped for training' in text
    assert f'skipped 1 of {len(good)} annotations with problems (1 bad box)' in text


@pytest.mark.parametrize('fmt', FORMATS)
def test_evaluation_keeps_every_hand_of_each_format(tmp_path, fmt):
    """mmpose's filter would drop a hand without visible keypoints from the samples while
    the ground-truth file still counts it; the checked datasets keep it (README)."""
    require_hand_samples()
    type_, ann_file, img = native_fixture(fmt, str(tmp_path))
    data = json.load(open(ann_file))
    if fmt == 'coco_wholebody':
        return  # mmpose itself defines a hand without keypoints as no hand (hand_valid)
    a = data['annotations'][0]
    a['keypoints'] = ([[x, y, 0] for x, y, _ in a['keypoints']] if fmt == 'rhd' else
                      [v if i % 3 != 2 else 0 for i, v in enumerate(a['keypoints'])])
    write_json(data, ann_file)
    n = len(data['annotations'])
    assert len(build_dataset(type_, ann_file, img, test_mode=True)) == n
    assert len(build_dataset(type_, ann_file, img, test_mode=False)) == n - 1


def test_every_coco_style_type_is_checked_when_built_from_a_config():
    from mmpose.datasets.datasets.base import BaseCocoStyleDataset

    from clamp_hand.datasets.checked_datasets import AnnotationChecksMixin
    from clamp_hand.datasets.hand_dataset import HandKeypointDataset
    from clamp_hand.registry import DATASETS
    names = ['OneHand10KDataset', 'FreiHandDataset', 'Rhd2DDataset', 'PanopticHand2DDataset',
             'CocoWholeBodyHandDataset', 'InterHand2DDoubleDataset', 'InterHand2DTwoHandsDataset']
    for name in names:
        assert issubclass(DATASETS.get(name), AnnotationChecksMixin), name
    assert DATASETS.get('HandKeypointDataset') is HandKeypointDataset  # checks of its own

    # a dataset type registered later (e.g. through custom_imports) is checked once the run
    # starts (preflight calls install_annotation_checks again)
    from clamp_hand.datasets import install_annotation_checks

    @DATASETS.register_module(name='MyLateHandDataset', force=True)
    class MyLateHandDataset(BaseCocoStyleDataset):
        pass

    try:
        assert install_annotation_checks() == ['MyLateHandDataset']
        assert issubclass(DATASETS.get('MyLateHandDataset'), AnnotationChecksMixin)
        assert install_annotation_checks() == []  # idempotent
    finally:
        DATASETS.module_dict.pop('MyLateHandDataset', None)


# ---- 3. the Python API takes what it documents -------------------------------------------
@pytest.fixture(scope='module')
def tiny_model():
    from clamp_hand.apis.inference import init_model
    return init_model(TINY_CFG, None)


@pytest.mark.parametrize('dtype,hint', [(np.float32, r'\* 255'), (np.uint16, '>> 8')])
def test_inference_refuses_non_uint8_arrays(tiny_model, dtype, hint):
    from clamp_hand.apis.inference import inference
    from clamp_hand.deployment.onnx_runner import OnnxHandPoseRunner
    img = np.zeros((64, 48, 3), dtype)
    img[..., 0] = 0.5 if dtype == np.float32 else 40000
    msg = rf'dtype {np.dtype(dtype).name} .*BGR uint8 array \(H, W, 3\) with values 0..255.*{hint}'
    with pytest.raises(TypeError, match=msg):
        inference(tiny_model, img)
    # the ONNX runner shares the input path (checked before anything runs)
    with pytest.raises(TypeError, match=msg):
        OnnxHandPoseRunner.__new__(OnnxHandPoseRunner)(img)
    hands = inference(tiny_model, np.zeros((64, 48, 3), np.uint8))  # uint8 still works
    assert hands[0]['keypoints'].shape == (tiny_model.num_keypoints, 2)


# ---- 4. settings that would make training do nothing -------------------------------------
def test_batch_larger_than_the_dataset_with_drop_last_stops_before_the_runner(tmp_path):
    from clamp_hand.apis import train
    require_hand_samples()
    work = tmp_path / 'work'
    with pytest.raises(ValueError, match=r'training set has 12 samples, fewer than one batch '
                       r'\(train_dataloader.batch_size=32\) and train_dataloader.drop_last=True'):
        train(TINY_CFG, work_dir=str(work), cfg_options={'train_dataloader.batch_size': 32,
                                                         'train_dataloader.drop_last': True})
    assert not work.exists()


# ---- 5. results keyed right ----------------------------------------------------------------
def test_infer_takes_image_ids_from_the_boxes_file(tiny_model, tmp_path, capsys):
    import importlib.util

    import torch
    require_hand_samples()
    ckpt = str(tmp_path / 'random.pth')
    torch.save(dict(state_dict=tiny_model.state_dict()), ckpt)
    folder = copy_images('onehand10k', tmp_path / 'imgs')  # 1402, 33, 784, 9 (.jpg)
    boxes = dict(images=[dict(id=2, file_name='33.jpg'), dict(id=0, file_name='784.jpg'),
                         dict(id=1, file_name='9.jpg')],
                 annotations=[dict(id=1, image_id=2, bbox=[10, 10, 50, 60]),
                              dict(id=2, image_id=0, bbox=[5, 5, 40, 40]),
                              dict(id=3, image_id=0, bbox=[20, 20, 30, 30])])
    box_file = write_json(boxes, tmp_path / 'boxes.json')
    spec = importlib.util.spec_from_file_location('infer_tool', osp.join(ROOT, 'tools/infer.py'))
    infer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(infer)
    out = tmp_path / 'out'
    infer.main([ckpt, folder, '--out-dir', str(out), '--bboxes', box_file,
                '--config', TINY_CFG])
    preds = json.loads((out / 'predictions.json').read_text())
    by_id = {}
    for p in preds:
        by_id.setdefault(p['image_id'], set()).add(p['file_name'])
    assert all(len(names) == 1 for names in by_id.values()), by_id  # ids never collide
    assert by_id == {2: {'33.jpg'}, 0: {'784.jpg'}, 3: {'1402.jpg'}}  # 9.jpg: listed, no box
    counts = {i: sum(p['image_id'] == i for p in preds) for i in by_id}
    assert counts == {2: 1, 0: 2, 3: 1}
    assert osp.isfile(out / '9.png')  # still drawn, without a hand
    err = capsys.readouterr().err
    assert '1 image(s) not in --bboxes' in err and '1402.jpg' in err

    bad = write_json(dict(boxes, images=boxes['images'] + [dict(id=2, file_name='1402.jpg')]),
                     tmp_path / 'dup.json')
    with pytest.raises(ValueError, match='image_id 2 is given to both 33.jpg and 1402.jpg'):
        infer.read_bboxes(bad)


# ---- 6. a missing dataset is named once, before anything is built ---------------------------
SEED_CFG = 'configs/animal/2d_kpt_sview_rgb_img/topdown_heatmap/ap10k/CLAMP_ViTB_ap10k_256x256.py'


def test_missing_data_named_with_key_and_source_before_anything_is_built(tmp_path):
    from clamp_hand.apis import train
    from clamp_hand.apis.preflight import MissingDataError
    if osp.exists(osp.join(ROOT, 'data', 'hands')):
        pytest.skip('data/hands exists on this machine')
    work = tmp_path / 'work'
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with pytest.raises(MissingDataError) as err:
            train(osp.join(ROOT, SEED_CFG), work_dir=str(work))
    finally:
        os.chdir(cwd)
    msg = str(err.value)
    for key, path in (
            ('train_dataloader.dataset.ann_file',
             'data/hands/annotations/assemblyhands_train_ego_data_v1-1_onehand.json'),
            ('val_dataloader.dataset.ann_file',
             'data/hands/annotations/assemblyhands_val_ego_data_v1-1_onehand.json'),
            ('train_dataloader.dataset.data_prefix.img', 'data/hands/data/')):
        line = next((ln for ln in msg.splitlines() if path in ln), '')
        assert f'({key})' in line, (path, msg)
    assert msg.count('how to get it:') == msg.count(' - ')
    assert 'assemblyhands2coco.py' in msg and 'data/README.md' in msg
    assert not work.exists()


def test_missing_data_under_a_launcher_is_said_once(tmp_path):
    if osp.exists(osp.join(ROOT, 'data', 'hands')):
        pytest.skip('data/hands exists on this machine')
    out = run_tool(['bash', 'tools/dist_train.sh', SEED_CFG, '2', '--work-dir',
                    str(tmp_path / 'work')], env=dict(PORT='29637'), check=False)
    assert out.returncode != 0
    text = out.stdout
    assert text.count('data path(s) this run needs do not exist') == 1, text[-3000:]
    assert text.count('assemblyhands_train_ego_data_v1-1_onehand.json') == 1, text[-3000:]
    assert 'Config:' not in text and 'System environment' not in text  # nothing was built
