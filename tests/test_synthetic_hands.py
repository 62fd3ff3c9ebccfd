"""The synthetic hand generator: layout, annotation correctness against the rendered label
and depth maps, determinism, files on disk, and the command-line tool."""
import json
import os
import os.path as osp
import runpy

import cv2
import numpy as np
import pytest

from clamp_hand.datasets import synthetic_hands as sh
from conftest import load_tool

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _render_batch(num_hands, n, size=96, seed=123):
    return [sh.render_sample(sh.image_rng(seed, 'test', i), size=size, num_hands=num_hands)
            for i in range(n)]


@pytest.fixture(scope='module')
def one_hand_batch():
    return _render_batch(1, 40)


@pytest.fixture(scope='module')
def two_hand_batch():
    return _render_batch(2, 24)


def _sample_px(x, y, ss):
    """Label/depth-map pixel of an image point (see the module docstring)."""
    return int(np.floor(y * ss)), int(np.floor(x * ss))


# ---------------------------------------------------------------------------------------------
def test_layout():
    assert len(sh.KEYPOINT_NAMES) == 21 and sh.KEYPOINT_NAMES[0] == 'wrist'
    assert sh.KEYPOINT_NAMES[1:5] == ('thumb1', 'thumb2', 'thumb3', 'thumb4')
    assert sh.KEYPOINT_NAMES[17:] == tuple(f'pinky_finger{i}' for i in range(1, 5))
    assert len(sh.SKELETON) == 20
    assert len(sh.JOINT_PARTS) == 21
    cats = sh.coco_categories(2)[0]
    assert cats['keypoints'][0] == 'right_wrist' and cats['keypoints'][21] == 'left_wrist'
    assert len(cats['skeleton']) == 40 and min(min(link) for link in cats['skeleton']) == 1
    for label in range(1, 2 * sh.NUM_PARTS + 1):
        slot, part = sh.decode_label(label)
        assert sh.part_label(slot, part) == label


@pytest.mark.parametrize('num_hands, cfg', [(1, 'hand21_wrist_first.py'),
                                            (2, 'hand42_wrist_first.py')])
def test_names_match_dataset_config(num_hands, cfg):
    path = osp.join(ROOT, 'configs', '_base_', 'datasets', cfg)
    if not osp.isfile(path):
        pytest.skip(f'{path} not found')
    info = runpy.run_path(path)['dataset_info']
    names = [info['keypoint_info'][i]['name'] for i in range(len(info['keypoint_info']))]
    assert names == sh.keypoint_names(num_hands)
    cfg_links = {tuple(link['link']) for link in info['skeleton_info'].values()}
    ours = sh.coco_categories(num_hands)[0]
    assert cfg_links == {(ours['keypoints'][a - 1], ours['keypoints'][b - 1])
                         for a, b in ours['skeleton']}


def test_skeleton_proportions_and_joint_limits():
    rng = np.random.default_rng(0)
    flat = sh.build_hand(dict(fingers=np.zeros((4, 4)), thumb=np.zeros(4),
                              wrist=np.zeros(2)))['joints']
    palm = np.linalg.norm(flat[9] - flat[0])          # wrist -> middle MCP
    finger = np.linalg.norm(flat[12] - flat[9])       # middle MCP -> tip, straight
    assert 0.9 < finger / palm < 1.2
    seg = [np.linalg.norm(flat[9 + i + 1] - flat[9 + i]) for i in range(3)]
    assert seg[0] > seg[1] > seg[2] * 1.1              # proximal > middle > distal
    assert np.linalg.norm(flat[8] - flat[5]) < finger  # index shorter than middle
    assert np.linalg.norm(flat[20] - flat[17]) < np.linalg.norm(flat[16] - flat[13])
    for _ in range(300):
        pose = sh.sample_pose(rng)
        f = pose['fingers']
        assert (f[:, 1] >= -25).all() and (f[:, 1] <= 95).all()
        assert (f[:, 2] >= 0).all() and (f[:, 2] <= 110).all()
        assert (f[:, 3] >= -5).all() and (f[:, 3] <= 85).all()
        assert (np.abs(f[:, 0]) < 30).all()
        assert -20 <= pose['thumb'][0] <= 25 and -15 <= pose['thumb'][3] <= 85


def _check_sample(s, num_hands, size):
    """Every annotation of a rendered sample agrees with its label and depth maps."""
    ss, kp = s['ss'], s['keypoints']
    lab, depth, mask = s['label_map'], s['depth_map'], s['hand_mask']
    assert s['image'].shape == (size, size, 3) and s['image'].dtype == np.uint8
    assert kp.shape == (21 * num_hands, 3) and lab.shape == (size * ss, size * ss)
    assert mask.shape == (size, size)
    counts = np.zeros(3, int)
    for k, (x, y, v) in enumerate(kp):
        slot, j = divmod(k, 21)
        px, py = s['projected'][k]
        inside = 0 <= px < size and 0 <= py < size
        counts[int(v)] += 1
        if v == 0:  # truncated: outside the image, stored as 0, 0
            assert not inside and x == 0 and y == 0
            continue
        assert inside and (x, y) == (px, py)
        assert mask[int(np.floor(y)), int(np.floor(x))], 'labeled joint off the hand pixels'
        label = lab[_sample_px(x, y, ss)]
        own = sh.joint_labels(slot, j)
        if v == 2:
            assert label in own, f'visible joint {k} shows label {label}, own {own}'
        else:  # occluded: something else, nearer than the joint, covers it
            assert label != 0 and label not in own
            assert depth[_sample_px(x, y, ss)] < s['joint_depth'][k]
    # the box holds the labeled joints and every visible hand pixel (forearms excluded)
    bx, by, bw, bh = s['bbox']
    assert bw > 0 and bh > 0 and bx >= 0 and by >= 0
    assert bx + bw <= size + 1e-6 and by + bh <= size + 1e-6
    vis, eps = kp[kp[:, 2] > 0], 1e-6  # eps: float error of the 0.01-px grid
    assert (vis[:, 0] >= bx - eps).all() and (vis[:, 0] <= bx + bw + eps).all()
    assert (vis[:, 1] >= by - eps).all() and (vis[:, 1] <= by + bh + eps).all()
    parts = (lab > 0) & ((lab - 1) % sh.NUM_PARTS != sh.PART_FOREARM)
    rows, cols = np.nonzero(parts)
    if rows.size:
        assert cols.min() / ss >= bx - 1e-6 and (cols.max() + 1) / ss <= bx + bw + 0.006
        assert rows.min() / ss >= by - 1e-6 and (rows.max() + 1) / ss <= by + bh + 0.006
    return counts


def test_annotations_match_render_one_hand(one_hand_batch):
    totals, self_occluded, sides, sides_frac = np.zeros(3, int), 0, set(), []
    for s in one_hand_batch:
        totals += _check_sample(s, 1, 96)
        sides.add(s['hand_types'][0])
        kp = s['keypoints']
        for x, y, v in kp[kp[:, 2] == 1]:
            slot, _ = sh.decode_label(s['label_map'][_sample_px(x, y, s['ss'])])
            self_occluded += slot == 0
        if (kp[:, 2] > 0).all():
            sides_frac.append(max(s['bbox'][2:]) / 96)
    assert totals[1] > 0 and self_occluded > 0, 'no self-occluded joints in the batch'
    assert totals[0] > 0, 'no truncated joints in the batch'
    assert totals[2] > totals[1] + totals[0]
    assert sides == {'right', 'left'}
    assert 0.25 < np.median(sides_frac) < 0.95


def test_annotations_match_render_two_hands(two_hand_batch):
    totals, cross = np.zeros(3, int), 0
    for s in two_hand_batch:
        totals += _check_sample(s, 2, 96)
        assert s['hand_types'] == ['right', 'left']
        kp = s['keypoints']
        for k in np.flatnonzero(kp[:, 2] == 1):
            slot, _ = sh.decode_label(s['label_map'][_sample_px(*kp[k, :2], s['ss'])])
            cross += slot != k // 21
    assert totals[1] > 0 and cross > 0, 'no joint hidden by the other hand in the batch'


def test_easy_difficulty_is_frontal_upright_and_whole(one_hand_batch):
    """The quickstart's preset: annotations as exact as the default's, no truncation, no
    fists, fingers up (wrist below the middle knuckle), large hands; the default has fingers
    pointing every way."""
    easy = [sh.render_sample(sh.image_rng(123, 'easy', i), size=96, difficulty='easy')
            for i in range(24)]
    totals = sum(_check_sample(s, 1, 96) for s in easy)
    assert totals[0] == 0, 'easy images must not truncate hands'
    upright = [s['keypoints'][9, 1] < s['keypoints'][0, 1] for s in easy]
    assert all(upright)
    assert min(max(s['bbox'][2:]) for s in easy) > 0.4 * 96
    assert not all(s['keypoints'][9, 1] < s['keypoints'][0, 1] for s in one_hand_batch
                   if (s['keypoints'][[0, 9], 2] > 0).all())
    with pytest.raises(ValueError, match="difficulty 'medium'.*easy.*hard"):
        sh.render_sample(sh.image_rng(0, 'x', 0), difficulty='medium')


def test_render_is_deterministic():
    a = sh.render_sample(sh.image_rng(5, 'train', 3), size=64, num_hands=2)
    b = sh.render_sample(sh.image_rng(5, 'train', 3), size=64, num_hands=2)
    c = sh.render_sample(sh.image_rng(5, 'val', 3), size=64, num_hands=2)
    assert np.array_equal(a['image'], b['image']) and np.array_equal(a['keypoints'], b['keypoints'])
    assert not np.array_equal(a['image'], c['image'])


def _read_tree(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = osp.join(dirpath, f)
            with open(p, 'rb') as fh:
                out[osp.relpath(p, root)] = fh.read()
    return out


def _check_coco(coco, num_hands, n, size, split):
    assert [im['id'] for im in coco['images']] == list(range(1, n + 1))
    assert len(coco['annotations']) == n
    names = coco['categories'][0]['keypoints']
    assert len(names) == 21 * num_hands and coco['categories'][0]['id'] == 1
    for im, ann in zip(coco['images'], coco['annotations']):
        assert im['file_name'] == f'{split}/{im["id"] - 1:06d}.jpg'
        assert im['width'] == im['height'] == size
        assert ann['image_id'] == im['id'] and ann['category_id'] == 1 and ann['iscrowd'] == 0
        assert len(ann['keypoints']) == 3 * 21 * num_hands
        vis = ann['keypoints'][2::3]
        assert set(vis) <= {0, 1, 2} and ann['num_keypoints'] == sum(v > 0 for v in vis)
        x, y, w, h = ann['bbox']
        assert w > 0 and h > 0 and ann['area'] == pytest.approx(w * h, abs=0.01)
        if num_hands == 1:
            assert ann['hand_type'] in ('right', 'left')
        else:
            assert set(ann['hand_boxes']) == {'right', 'left'}


def test_generate_dataset_files_and_determinism(tmp_path):
    a, b = tmp_path / 'a', tmp_path / 'b'
    cocos = sh.generate_dataset(str(a), 6, 3, size=64, num_hands=1, seed=7, workers=1,
                                progress=False)
    sh.generate_dataset(str(b), 6, 3, size=64, num_hands=1, seed=7, workers=2, progress=False)
    tree_a, tree_b = _read_tree(a), _read_tree(b)
    assert len(tree_a) == 6 + 3 + 2
    assert tree_a == tree_b, 'same seed, different worker count: outputs differ'
    for split, n in (('train', 6), ('val', 3)):
        with open(a / 'annotations' / f'{split}.json') as fh:
            coco = json.load(fh)
        assert coco == json.loads(json.dumps(cocos[split]))
        _check_coco(coco, 1, n, 64, split)
    assert tree_a['images/train/000000.jpg'] != tree_a['images/val/000000.jpg']
    # the saved files are the rendered samples: same keypoints, same picture (up to JPEG)
    coco = cocos['train']
    for im, ann in zip(coco['images'], coco['annotations']):
        s = sh.render_sample(sh.image_rng(7, 'train', im['id'] - 1), size=64, num_hands=1)
        assert ann['keypoints'] == [float(v) if i % 3 != 2 else int(v)
                                    for i, v in enumerate(s['keypoints'].reshape(-1))]
        assert ann['bbox'] == s['bbox']
        saved = cv2.imread(str(a / 'images' / im['file_name']))
        assert np.abs(saved.astype(int) - s['image']).mean() < 6
        kp = np.array(ann['keypoints']).reshape(-1, 3)
        for x, y, v in kp[kp[:, 2] > 0]:
            assert s['hand_mask'][int(y), int(x)]


def test_cli(tmp_path, capsys):
    tool = load_tool('tools/dataset_converters/make_synthhands.py')  # its main, in this process
    outs = []
    for name, workers in (('x', []), ('y', ['--workers', '1'])):
        out = tmp_path / name
        tool.main(['--out', str(out), '--hands', '2', '--num-train', '4', '--num-val', '2',
                   '--size', '64', '--seed', '3'] + workers)
        assert 'wrote 6 images' in capsys.readouterr().out
        outs.append(_read_tree(out))
    assert outs[0] == outs[1]
    coco = json.loads(outs[0]['annotations/train.json'])
    _check_coco(coco, 2, 4, 64, 'train')
    assert coco['info']['difficulty'] == 'hard'
    out = tmp_path / 'easy'
    tool.main(['--out', str(out), '--num-train', '2', '--num-val', '1', '--size', '64',
               '--difficulty', 'easy'])
    assert json.loads((out / 'annotations' / 'val.json').read_text())['info']['difficulty'] \
        == 'easy'
    assert coco['categories'][0]['keypoints'][:2] == ['right_wrist', 'right_thumb1']
