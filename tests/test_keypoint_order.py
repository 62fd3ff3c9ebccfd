"""A config copied by mmengine (work_dirs/*/CONFIG.py, a checkpoint's meta.cfg) lists
keypoint_info in text order (0, 1, 10, 11, ...); loading it must give the same parsed keypoint
metainfo (flip_indices, colours, skeleton) as the source config."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmpose.datasets.datasets.utils import parse_pose_metainfo

from clamp_hand.apis.runner import load_config
from clamp_hand.datasets.hand_dataset import HandKeypointDataset
from clamp_hand.datasets.keypoint_order import restore_keypoint_order

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the 21-keypoint wrist-first and the 42-keypoint two-hand tables (writing a config out runs
# yapf, several seconds each, so not every config)
CONFIGS = [osp.join(ROOT, 'configs', p) for p in (
    'synthhands/clamp_vit-tiny-convstem_1xb32-10e_synthhands-easy-1hand-64x64.py',
    'assemblyhands/clamp_vit-b16_4xb16-210e_assemblyhands-2hands-256x256.py')]


@pytest.fixture(scope='module')
def written():
    """{config path: (source Config, the text mmengine writes for it)}"""
    out = {}
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        out[path] = (cfg, cfg.pretty_text)  # what Config.dump writes and meta.cfg holds
    return out


def _metainfo(cfg):
    meta = cfg.get('train_dataloader', {}).get('dataset', {}).get('metainfo')
    return dict(meta) if meta else None


def _parsed(meta):
    p = parse_pose_metainfo(dict(meta))
    return dict(flip_indices=list(p['flip_indices']), colors=p['keypoint_colors'].tolist(),
                names=[p['keypoint_id2name'][i] for i in range(p['num_keypoints'])],
                links=p['skeleton_links'], sigmas=p['sigmas'].tolist())


def test_a_written_config_really_comes_back_in_text_order(written):
    """The premise: without the fix the parsed flip indices of a copied config are wrong."""
    raw = Config.fromstring(written[CONFIGS[0]][1], '.py')
    keys = list(_metainfo(raw)['keypoint_info'])
    assert keys[:3] == [0, 1, 10], keys  # mmengine's text order (if this fails, it was fixed)
    assert _parsed(_metainfo(raw))['flip_indices'] != list(range(21))


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_copied_config_parses_like_its_source(path, written, tmp_path):
    source, text = written[path]
    meta = _metainfo(source)
    (tmp_path / 'copy.py').write_text(text)
    copied = load_config(str(tmp_path / 'copy.py'))  # as tools/test.py WORK_DIR/CONFIG.py
    assert _parsed(_metainfo(copied)) == _parsed(meta)
    # the same through a checkpoint's meta.cfg (text) as init_model reads it
    from_text = restore_keypoint_order(Config.fromstring(text, '.py'))
    assert _parsed(_metainfo(from_text)) == _parsed(meta)


def test_dataset_restores_the_order_itself(written):
    """HandKeypointDataset built straight from a copied config (no load_config) is right too."""
    source, text = written[CONFIGS[0]]
    meta = _metainfo(Config.fromstring(text, '.py'))
    ds = HandKeypointDataset(metainfo=meta, ann_file='', lazy_init=True)
    assert list(ds.metainfo['flip_indices']) == list(range(21))
    assert [ds.metainfo['keypoint_id2name'][i] for i in range(21)] == \
        _parsed(_metainfo(source))['names']
