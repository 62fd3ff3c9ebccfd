"""tools/misc/print_config.py (the resolved config with its prompts, keypoints in index order)
and tools/analysis/browse_dataset.py (pipeline output, heatmap targets, flip with left/right
swapped) on one-hand real samples and two-hand synthetic images."""
import json
import os.path as osp
import runpy

import cv2
import numpy as np
import pytest

from conftest import HAND_SAMPLES, ROOT, TINY_HAND_SAMPLES_CFG, require_hand_samples

SYNTH_1HAND_CFG = osp.join(ROOT, 'configs', 'synthhands',
                           'clamp_vit-tiny-convstem_1xb32-10e_synthhands-easy-1hand-64x64.py')
HAND42 = osp.join(ROOT, 'configs', '_base_', 'datasets', 'hand42_wrist_first.py')


def _tool(path):
    return runpy.run_path(osp.join(ROOT, 'tools', path))['main']


def test_print_config_resolves_prompts_and_options(tmp_path, capsys):
    from clamp_hand.apis import load_config
    save = tmp_path / 'resolved.py'
    text, table = _tool('misc/print_config.py')([
        SYNTH_1HAND_CFG, '--cfg-options', 'train_dataloader.batch_size=7', '--save', str(save)])
    out = capsys.readouterr().out
    cfg = load_config(SYNTH_1HAND_CFG)
    prompts = cfg.model.text_encoder.prompts
    assert len(prompts) == 21
    for p in prompts:
        assert repr(p) in text
    assert 'batch_size=7' in text and 'batch_size=32' not in text
    assert '{{' not in text and '_base_' not in text  # references resolved
    rows = [ln for ln in table.splitlines() if ln.startswith('#   ')]
    assert len(rows) == 21  # val/test share the train table
    for i, row in enumerate(rows):  # index order, each keypoint with the prompt naming it
        name = cfg.train_dataloader.dataset.metainfo.keypoint_info[i]['name']
        assert row == f'#   {i:3d}: {name} <- {prompts[i]!r}', row
    assert table in out
    again = load_config(str(save))
    assert again.model.text_encoder.prompts == prompts
    assert again.train_dataloader.batch_size == 7


def test_print_config_refuses_prompts_that_do_not_match_the_keypoints():
    with pytest.raises(ValueError, match='prompts has 2 entries but train_dataloader'):
        _tool('misc/print_config.py')([SYNTH_1HAND_CFG, '--cfg-options',
                                       "model.text_encoder.prompts=['wrist','thumb']"])


def _colour_hits(png, panel, colour_of):
    """For each keypoint drawn in ``panel``: does the PNG show ``colour_of(keypoint)`` (BGR)
    within 2 px of its centre (the dot's radius; neighbours and labels overlap some)?"""
    img = cv2.imread(png).astype(int)
    hits = []
    for d in panel['drawn']:
        x, y = panel['x0'] + d['xy'][0], panel['y0'] + d['xy'][1]
        patch = img[y - 2:y + 3, x - 2:x + 3].reshape(-1, 3)
        hits.append(bool((patch == np.asarray(colour_of(d))).all(1).any()))
    return hits


def test_browse_one_hand_real_samples(tmp_path):
    require_hand_samples()
    written = _tool('analysis/browse_dataset.py')([
        TINY_HAND_SAMPLES_CFG, '--out-dir', str(tmp_path), '-n', '2', '--size', '192'])
    assert len(written) == 2
    from clamp_hand.apis import load_config
    meta_info = load_config(TINY_HAND_SAMPLES_CFG).train_dataloader.dataset.dataset.datasets[0]
    colors = {v['name']: v['color'] for v in meta_info.metainfo.keypoint_info.values()}
    coco = json.load(open(osp.join(HAND_SAMPLES, 'onehand10k', 'test_onehand10k.json')))
    anns = coco['annotations']
    images = {im['id']: osp.splitext(osp.basename(im['file_name']))[0] for im in coco['images']}
    for png, panels in written:
        assert osp.isfile(png) and osp.dirname(png) == str(tmp_path)
        assert list(panels) == ['pipeline', 'heatmaps', 'no augmentation', 'flipped']
        img = cv2.imread(png)
        assert img.shape[1] == 4 * 192 + 3 * 4 and img.shape[0] == 192 + 18
        drawn = panels['pipeline']['drawn']
        # every labelled keypoint of the annotation is drawn, no other
        stem = osp.basename(png).split('_', 2)[2][:-len('.png')]
        (ann,) = [a for a in anns if images[a['image_id']] == stem]
        assert sorted(d['index'] for d in drawn) == [
            k for k in range(21) if ann['keypoints'][3 * k + 2] > 0]
        # keypoints in the layout's colours (BGR of the RGB metainfo), at their positions
        hits = _colour_hits(png, panels['pipeline'], lambda d: colors[d['name']][::-1])
        assert np.mean(hits) > 0.8, hits
        # the heatmap targets peak where the keypoints are: brighter than the panel median
        hm = panels['heatmaps']
        tile = img[hm['y0']:hm['y0'] + 192, hm['x0']:hm['x0'] + 192].astype(int).sum(-1)
        peaks = [tile[y, x] for x, y in (d['xy'] for d in drawn)]
        assert np.median(peaks) > np.median(tile) + 100, (np.median(peaks), np.median(tile))


def _two_hand_config(tmp_path):
    """The synthetic quickstart config switched to two hands (42 keypoints, right then left,
    hand42_wrist_first layout) on make_synthhands --hands 2 data in ``tmp_path``."""
    from clamp_hand.datasets.synthetic_hands import generate_dataset
    data = tmp_path / 'synth2'
    generate_dataset(str(data), num_train=3, num_val=1, size=128, num_hands=2, seed=0,
                     workers=1, progress=False, difficulty='easy')
    h42 = runpy.run_path(HAND42)
    cfg = tmp_path / 'two_hands.py'
    cfg.write_text(f'''
_base_ = [{SYNTH_1HAND_CFG!r}]
dataset_info = {h42['dataset_info']!r}
keypoint_prompts = {h42['keypoint_prompts']!r}
model = dict(text_encoder=dict(prompts=keypoint_prompts))
_data = dict(data_root={str(data) + '/'!r}, metainfo=dict(_delete_=True, **dataset_info))
train_dataloader = dict(dataset=_data)
val_dataloader = dict(dataset=_data)
test_dataloader = val_dataloader
''')
    return str(cfg)


def test_browse_two_hands_flip_puts_left_labels_on_the_former_right_hand(tmp_path):
    cfg = _two_hand_config(tmp_path)
    size = 256
    written = _tool('analysis/browse_dataset.py')([
        cfg, '--out-dir', str(tmp_path / 'png'), '-n', '3', '--size', str(size)])
    assert len(written) == 3
    colors = {v['name']: v['color'] for v in runpy.run_path(HAND42)['dataset_info'][
        'keypoint_info'].values()}
    checked = 0
    for png, panels in written:
        plain = {d['name']: d['xy'] for d in panels['no augmentation']['drawn']}
        flipped = {d['name']: d['xy'] for d in panels['flipped']['drawn']}
        assert any(n.startswith('right_') for n in plain)
        assert any(n.startswith('left_') for n in plain)
        for name, (x, y) in plain.items():
            if not name.startswith('right_'):
                continue
            left = 'left_' + name[len('right_'):]
            if left not in flipped:  # mirrored out of the crop
                continue
            # the keypoint labelled left_* in the flipped crop is the mirror image of the
            # right hand's keypoint before the flip (pixel centres: x -> size - 1 - x), to a
            # crop pixel (mmpose mirrors keypoints about (w-1)/2 but the box centre about w/2)
            fx, fy = flipped[left]
            tol = 1.25 * size / 64  # one 64x64 crop pixel, in panel pixels
            assert abs(fx - (size - 1 - x)) <= tol and abs(fy - y) <= tol, \
                (name, (x, y), (fx, fy))
            checked += 1
        # drawn in the left hand's colours where the labels say
        hits = _colour_hits(png, panels['flipped'], lambda d: colors[d['name']][::-1])
        assert np.mean(hits) > 0.8, hits
    assert checked >= 30  # most of the right hand's 21 keypoints, in each of the samples
