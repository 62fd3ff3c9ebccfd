"""AssemblyHands -> COCO converter: a raw-format fixture with good and bad records, flat and
nested keypoints, through the library and the command-line tool."""
import json
import os.path as osp
import runpy

import pytest

from clamp_hand.datasets import assemblyhands_converter as ah
from conftest import load_tool

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOL = 'tools/dataset_converters/assemblyhands2coco.py'


def _joints(seed):
    """42 distinct (x, y, score) triples: x encodes the joint index so order is checkable."""
    return [[100.0 * seed + j, 10.0 + j / 2, 0.9] for j in range(42)]


def _record(ann_id, image_id, seed, right=(10, 20, 50, 80), left=(60, 5, 120, 70),
            valid=None, nested=False):
    kps = _joints(seed)
    return dict(id=ann_id, image_id=image_id,
                keypoints=kps if nested else [v for k in kps for v in k],
                joint_valid=[[1]] * 42 if valid is None and nested
                else ([1] * 42 if valid is None else valid),
                bbox=dict(right=list(right) if right else None,
                          left=list(left) if left else None))


def _fixture(tmp_path):
    images = [dict(id=i, file_name=f'seq/cam/{i:06d}.jpg', width=640, height=480)
              for i in range(1, 10)]
    half = [1] * 21 + [0] * 10 + [1] * 11              # left hand: 10 invalid joints
    anns = [
        _record(1, 1, 1),                                        # both hands, flat
        _record(2, 2, 2, nested=True),                           # both hands, nested
        _record(3, 3, 3, left=None),                             # right only
        _record(4, 4, 4, right=None, valid=half),                # left only, some invalid
        _record(5, 99, 5),                                       # image_id not in images
        _record(6, 5, 6, right=None, left=None),                 # no box at all
        dict(_record(7, 6, 7), keypoints=[1.0] * 120),           # 40 joints
        _record(8, 7, 8, right=(50, 50, 40, 90), left=None),     # degenerate (x2 < x1)
        _record(9, 8, 9, left=(5, 5, 5, 30)),                    # left degenerate, right ok
        _record(10, 9, 10, right=None, valid=[1] * 21 + [0] * 21),  # left: no valid joint
        'not a record',                                          # malformed
        dict(id=12, image_id=1, bbox=dict(right=None, left=None)),  # no keypoints field
    ]
    raw = dict(info=dict(description='fixture'), images=images, annotations=anns)
    path = tmp_path / 'assemblyhands_fixture_ego.json'
    path.write_text(json.dumps(raw))
    return path, raw


def test_names_match_dataset_configs():
    for n, cfg in ((1, 'assemblyhands_onehand.py'), (2, 'assemblyhands_twohands.py')):
        path = osp.join(ROOT, 'configs', '_base_', 'datasets', cfg)
        if not osp.isfile(path):
            pytest.skip(f'{path} not found')
        info = runpy.run_path(path)['dataset_info']
        names = [info['keypoint_info'][i]['name'] for i in range(len(info['keypoint_info']))]
        assert names == ah.keypoint_names(n)
        links = {tuple(link['link']) for link in info['skeleton_info'].values()}
        cat = ah.coco_categories(n)[0]
        assert links == {(cat['keypoints'][a - 1], cat['keypoints'][b - 1])
                         for a, b in cat['skeleton']}
    assert ah.KEYPOINT_NAMES[0] == 'thumb_tip' and ah.KEYPOINT_NAMES[20] == 'wrist'


def test_convert(tmp_path):
    path, _ = _fixture(tmp_path)
    stats = ah.convert_file(str(path), str(tmp_path / 'out'))
    assert stats['records'] == 12
    assert stats['dropped'] == dict(image_missing=1, no_hand_box=1, wrong_keypoint_count=1,
                                    degenerate_box=1, no_valid_joints=1, malformed=2)
    assert stats['hands_skipped'] == dict(degenerate_box=1, no_valid_joints=0)
    # onehand: 2 + 2 + 1 + 1 + 1 (record 9: right only)
    assert stats['kept'] == dict(onehand=7, twohands=5)
    one_path = tmp_path / 'out' / 'assemblyhands_fixture_ego_onehand.json'
    two_path = tmp_path / 'out' / 'assemblyhands_fixture_ego_twohands.json'
    assert stats['outputs'] == dict(onehand=str(one_path), twohands=str(two_path))
    one, two = json.loads(one_path.read_text()), json.loads(two_path.read_text())

    for coco, k in ((one, 21), (two, 42)):
        assert len(coco['images']) == 9 and coco['images'][0]['file_name'] == 'seq/cam/000001.jpg'
        assert len(coco['categories']) == 1 and len(coco['categories'][0]['keypoints']) == k
        ids = [a['id'] for a in coco['annotations']]
        assert len(set(ids)) == len(ids)
        for a in coco['annotations']:
            assert len(a['keypoints']) == 3 * k and a['category_id'] == 1 and a['iscrowd'] == 0
            vis = a['keypoints'][2::3]
            assert set(vis) <= {0, 2} and a['num_keypoints'] == vis.count(2)
            assert a['area'] == pytest.approx(a['bbox'][2] * a['bbox'][3])
    assert two['categories'][0]['keypoints'][21] == 'left_thumb_tip'

    by_img = {}
    for a in one['annotations']:
        by_img.setdefault(a['image_id'], []).append(a)
    assert sorted(by_img) == [1, 2, 3, 4, 8]
    assert [a['hand_type'] for a in by_img[1]] == ['right', 'left']
    r1, l1 = by_img[1]
    # native order kept: joint j of the right hand is raw joint j, of the left raw joint 21+j
    assert r1['keypoints'][0::3] == [100.0 + j for j in range(21)]
    assert l1['keypoints'][0::3] == [121.0 + j for j in range(21)]
    assert r1['keypoints'][1] == 10.0 and r1['keypoints'][2] == 2
    assert r1['bbox'] == [10, 20, 40, 60] and r1['area'] == 2400
    assert l1['bbox'] == [60, 5, 60, 65]
    # nested input gives the same as flat input
    assert by_img[2][0]['keypoints'][0::3] == [200.0 + j for j in range(21)]
    assert [a['hand_type'] for a in by_img[3]] == ['right']
    (l4,) = by_img[4]
    assert l4['hand_type'] == 'left' and l4['num_keypoints'] == 11
    assert l4['keypoints'][:30] == [0] * 30 and l4['keypoints'][30:33] == [431.0, 25.5, 2]
    assert [a['hand_type'] for a in by_img[8]] == ['right']

    tw = {a['image_id']: a for a in two['annotations']}
    assert sorted(tw) == [1, 2, 3, 4, 8]
    assert tw[1]['bbox'] == [10, 5, 110, 75] and tw[1]['num_keypoints'] == 42
    assert tw[1]['keypoints'][0::3] == [100.0 + j for j in range(42)]
    assert tw[1]['hand_boxes'] == dict(right=[10, 20, 40, 60], left=[60, 5, 60, 65])
    # right only: left joints at visibility 0 even though flagged valid, box = right box
    assert tw[3]['bbox'] == [10, 20, 40, 60] and tw[3]['num_keypoints'] == 21
    assert tw[3]['keypoints'][63:] == [0] * 63 and tw[3]['hand_boxes']['left'] is None
    assert tw[4]['keypoints'][:63] == [0] * 63 and tw[4]['num_keypoints'] == 11
    # degenerate left box: left hand treated as missing
    assert tw[8]['bbox'] == [10, 20, 40, 60] and tw[8]['keypoints'][63:] == [0] * 63


def test_image_root(tmp_path):
    path, raw = _fixture(tmp_path)
    root = tmp_path / 'images'
    for i in (1, 2, 3):  # only three images are on disk
        f = root / raw['images'][i - 1]['file_name']
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b'')
    one, two, stats = ah.convert_assemblyhands(raw, image_root=str(root), source=str(path))
    assert [im['id'] for im in one['images']] == [1, 2, 3]
    assert stats['kept'] == dict(onehand=5, twohands=3)
    assert stats['dropped']['image_missing'] == 1 + 6  # not listed + 6 files not on disk
    assert sum(stats['dropped'].values()) == 12 - 3


@pytest.mark.parametrize('content, field', [({'images': []}, 'annotations'),
                                            ({'annotations': []}, 'images'),
                                            ([1, 2], None)])
def test_bad_file(tmp_path, content, field):
    path = tmp_path / 'broken.json'
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError) as err:
        ah.convert_file(str(path), str(tmp_path / 'out'))
    assert str(path) in str(err.value)
    if field:
        assert f'"{field}"' in str(err.value)


def test_cli(tmp_path, capsys):
    tool = load_tool(TOOL)  # its main, in this process
    path, _ = _fixture(tmp_path)
    out = tmp_path / 'cli_out'
    tool.main([str(path), '--out-dir', str(out)])
    summary = capsys.readouterr().out
    assert 'kept onehand: 7' in summary and 'kept twohands: 5' in summary
    assert 'image_missing: 1' in summary and 'malformed: 2' in summary
    assert (out / 'assemblyhands_fixture_ego_onehand.json').is_file()
    assert (out / 'assemblyhands_fixture_ego_twohands.json').is_file()
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({'images': []}))
    with pytest.raises(SystemExit) as exit_:  # sys.exit(message): status 1, message on stderr
        tool.main([str(bad), '--out-dir', str(out)])
    assert exit_.value.code not in (None, 0)
    assert 'missing top-level field "annotations"' in str(exit_.value.code)
