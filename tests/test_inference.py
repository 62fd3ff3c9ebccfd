"""Inference API, tools/infer.py (image, folder, video), prompt similarity maps and training
curves, on the tiny CLAMP trained on the real hand samples (the session's shared run)."""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from conftest import (REAL_HANDS_EPOCHS, REAL_HANDS_VAL_INTERVAL, TINY_HAND_SAMPLES_CFG,
                      load_tool, require_hand_samples, run_tool)


@pytest.fixture(scope='module')
def trained(trained_hand_samples):
    """The tiny CLAMP trained on the real hand samples (shared with test_train_real_hands.py:
    8 epochs, validation after epochs 2, 4, 6, 8)."""
    return trained_hand_samples


@pytest.fixture(scope='module')
def model(trained):
    from clamp_hand.apis.inference import init_model
    return init_model(None, trained[1])


def segment_distance(p, a, b):
    """Distance of points ``p (N,2)`` to segment ``a-b``."""
    ab = b - a
    t = np.clip(((p - a) @ ab) / max(float(ab @ ab), 1e-9), 0, 1)
    return np.linalg.norm(p - (a + t[:, None] * ab), axis=1)


def test_infer_cli_draws_skeleton_and_writes_coco_json(trained, model, tmp_path):
    from clamp_hand.apis.inference import inference
    from clamp_hand.visualization.skeleton import line_widths
    img_path = osp.join(require_hand_samples(), 'onehand10k', '9.jpg')
    out = tmp_path / 'out'
    load_tool('tools/infer.py').main([trained[1], img_path, '--out-dir', str(out), '--kpt-thr',
                                      '0', '--show-prompt-maps'])  # its main, in this process
    orig = cv2.imread(img_path)
    drawn = cv2.imread(str(out / '9.png'))
    assert drawn is not None and drawn.shape == orig.shape

    preds = json.loads((out / 'predictions.json').read_text())
    assert len(preds) == 1
    p = preds[0]
    assert p['category_id'] == 1 and p['file_name'] == '9.jpg' and isinstance(p['image_id'], int)
    assert len(p['keypoints']) == 21 * 3 and isinstance(p['score'], float)
    h, w = orig.shape[:2]
    np.testing.assert_allclose(p['bbox'], [0, 0, w, h])  # no boxes: the whole image
    kpts = np.array(p['keypoints']).reshape(21, 3)
    api = inference(model, img_path)[0]  # the CLI and the API agree
    np.testing.assert_allclose(kpts[:, :2], api['keypoints'], atol=2e-3)
    assert api['keypoint_names'][0] == 'wrist' and len(api['keypoint_names']) == 21

    # every changed pixel is near a keypoint, a skeleton link or the box border
    changed = np.argwhere(np.abs(drawn.astype(int) - orig.astype(int)).max(axis=2) > 0)[:, ::-1]
    assert len(changed) > 0
    xy = kpts[:, :2]
    radius, thickness = line_widths(orig.shape)
    near = np.full(len(changed), np.inf)
    for a, b in model.dataset_meta['skeleton_links']:
        near = np.minimum(near, segment_distance(changed.astype(float), xy[a], xy[b]))
    on_border = (changed[:, 0] <= 1) | (changed[:, 1] <= 1) | \
        (changed[:, 0] >= w - 2) | (changed[:, 1] >= h - 2)
    assert np.all((near <= radius + thickness + 1.5) | on_border)
    # ... and every keypoint inside the image is drawn, the last one in its finger colour
    inside = [k for k in range(21) if 2 <= xy[k, 0] < w - 2 and 2 <= xy[k, 1] < h - 2]
    assert inside, 'no predicted keypoint inside the image'
    diff = np.abs(drawn.astype(int) - orig.astype(int)).max(axis=2)
    for k in inside:
        x, y = np.round(xy[k]).astype(int)
        assert diff[y - 1:y + 2, x - 1:x + 2].max() > 0, f'keypoint {k} not drawn'
    if 20 in inside:  # pinky tip, drawn last: pinky colour RGB (0,255,0)
        x, y = np.round(xy[20]).astype(int)
        assert tuple(drawn[y, x]) == (0, 255, 0)

    maps = cv2.imread(str(out / '9_hand0_prompt_maps.png'))
    assert maps is not None and maps.shape[1] > maps.shape[0] > 200 and maps.std() > 10


def test_prompt_score_maps_from_the_api(model):
    from clamp_hand.apis.inference import inference
    img = cv2.imread(osp.join(require_hand_samples(), 'freihand', '00000355.jpg'))
    hands = inference(model, img, bboxes=[[20, 20, 200, 200], [0, 0, 120, 224]],
                      with_score_maps=True)
    assert len(hands) == 2
    hand = hands[0]
    assert hand['score_maps'].shape == (21, 16, 16)  # 128 px input, 8 px patches
    assert np.all(np.abs(hand['score_maps']) <= 1 + 1e-5)  # cosine similarities
    assert hand['prompts'] == list(model.cfg.model.text_encoder.prompts)
    assert hand['crop'].shape == (128, 128, 3) and hand['crop'].dtype == np.uint8
    # the score maps are the model's own, for the crop the model saw
    crop = torch.from_numpy(hand['crop'][..., ::-1].copy()).permute(2, 0, 1)
    x = model.data_preprocessor(dict(inputs=[crop]), False)['inputs']
    with torch.no_grad():
        ref = model.forward_features(x)['score_maps'][0].numpy()
    np.testing.assert_allclose(hand['score_maps'], ref, atol=1e-5)
    np.testing.assert_allclose(hand['bbox'], [20, 20, 200, 200])


def test_infer_folder_with_coco_boxes_and_a_video(trained, tmp_path):
    infer = load_tool('tools/infer.py')
    folder = osp.join(require_hand_samples(), 'freihand')
    ann = json.load(open(osp.join(folder, 'test_freihand.json')))
    out = tmp_path / 'folder'
    infer.main([trained[1], folder, '--out-dir', str(out), '--bboxes',
                osp.join(folder, 'test_freihand.json'), '--config', TINY_HAND_SAMPLES_CFG])
    assert len(glob.glob(str(out / '*.png'))) == 8
    preds = json.loads((out / 'predictions.json').read_text())
    boxes = {a['image_id']: a['bbox'] for a in ann['annotations']}
    assert sorted(p['image_id'] for p in preds) == sorted(boxes)
    for p in preds:
        np.testing.assert_allclose(p['bbox'], boxes[p['image_id']], atol=0.01)

    # a 3-frame video of a real hand: annotated mp4 + one result per frame
    frame = cv2.imread(osp.join(folder, '00000355.jpg'))
    video = str(tmp_path / 'clip.mp4')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 5, frame.shape[1::-1])
    for _ in range(3):
        writer.write(frame)
    writer.release()
    infer.main([trained[1], video, '--out-dir', str(tmp_path / 'video')])
    cap = cv2.VideoCapture(str(tmp_path / 'video' / 'clip.mp4'))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 3
    preds = json.loads((tmp_path / 'video' / 'predictions.json').read_text())
    assert [p['frame'] for p in preds] == [0, 1, 2]


def test_bad_inputs_name_the_fault(trained, tmp_path):
    from clamp_hand.apis.inference import init_model, inference
    infer = load_tool('tools/infer.py')
    bad = tmp_path / 'boxes.json'
    bad.write_text(json.dumps([{'file_name': 'a.jpg'}]))
    with pytest.raises(ValueError, match=r'entry 0 needs "file_name" and "bbox"'):
        infer.read_bboxes(str(bad))
    bad.write_text(json.dumps([{'file_name': 'a.jpg', 'bbox': [0, 0, 0, 5]}]))
    with pytest.raises(ValueError, match='empty box'):
        infer.read_bboxes(str(bad))
    # a checkpoint without the config in its meta needs --config
    ckpt = torch.load(trained[1], map_location='cpu', weights_only=False)
    bare = str(tmp_path / 'bare.pth')
    torch.save(dict(state_dict=ckpt['state_dict']), bare)
    with pytest.raises(ValueError, match='carries no config.*--config'):
        init_model(None, bare)
    model = init_model(TINY_HAND_SAMPLES_CFG, bare)  # ... and works with it
    with pytest.raises(FileNotFoundError, match='cannot read image'):
        inference(model, str(tmp_path / 'missing.jpg'))


def test_plot_curves_from_the_run(trained, tmp_path):
    from clamp_hand.visualization import read_scalars
    work = trained[0]
    train, val = read_scalars(work)
    # one log row per epoch (20 iterations), validation every REAL_HANDS_VAL_INTERVAL epochs
    assert len(train) == REAL_HANDS_EPOCHS and all('loss_feature' in r for r in train)
    assert [r['step'] for r in val] == list(range(
        REAL_HANDS_VAL_INTERVAL, REAL_HANDS_EPOCHS + 1, REAL_HANDS_VAL_INTERVAL))
    assert 'PCK' in val[0]
    run_tool(['tools/analysis/plot_curves.py', work])
    png = cv2.imread(osp.join(work, 'training_curves.png'))
    assert png is not None and png.shape[:2] == (400, 1100)
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        read_scalars(str(tmp_path))
