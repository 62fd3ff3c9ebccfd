"""The public 2D hand benchmarks: prompts name each dataset's own keypoints, and fixtures in
each native format (RHD nested keypoints, FreiHAND, Panoptic with head size, Halpe whole-body,
OneHand10K) built around the real hand samples train one epoch and validate through
tools/train.py with each experiment config's own evaluators (tiny model, 64x64)."""
import glob
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from _helpers_hand_formats import WRITERS, real_hands, tiny_64_config
from conftest import ROOT

CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
                 if '_base_' not in p)
SEED_ALIASES = 'configs/animal/'  # the seed's own prompt words (its checkpoints' vocabulary)

# independent of clamp_hand's table: what a name says, what a prompt must say
FINGER = {'thumb': 'thumb', 'forefinger': 'index', 'middle': 'middle', 'ring': 'ring',
          'pinky': 'little'}
THUMB_LEVEL = {'1': 'base', 'cmc': 'base', '2': 'knuckle', 'mcp': 'knuckle',
               '3': 'middle joint', 'ip': 'middle joint', '4': 'tip', 'tip': 'tip'}
FINGER_LEVEL = {'1': 'knuckle', 'mcp': 'knuckle', '2': 'middle joint', 'pip': 'middle joint',
                '3': 'upper joint', 'dip': 'upper joint', '4': 'tip', 'tip': 'tip'}


def _names(cfg):
    ds = cfg.train_dataloader.dataset
    meta = ds.get('metainfo') or cfg.get('dataset_info')
    info = meta['keypoint_info']
    return [info[i]['name'] for i in sorted(info, key=int)]


def _expected(name, seed):
    """(side, finger word, joint words) a prompt for keypoint ``name`` must contain."""
    side = next((s for s in ('right', 'left') if name.startswith(s + '_')), '')
    rest = name[len(side) + 1:] if side else name
    if rest in ('wrist', 'hand_root'):
        return side, None, 'wrist'
    finger = next(FINGER[f] for f in FINGER if rest.startswith(f))
    level = rest[-1] if rest[-1].isdigit() else rest.rsplit('_', 1)[1]
    words = (THUMB_LEVEL if finger == 'thumb' else FINGER_LEVEL)[level]
    if seed and words != 'tip':
        words = None  # the seed's joint words are its own; finger, side and tips still checked
    return side, finger, words


def _prompt_configs():
    out = []
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        prompts = cfg.model.get('text_encoder', {}).get('prompts')
        if prompts:
            out.append((osp.relpath(path, ROOT), cfg, list(prompts)))
    return out


def test_every_prompt_names_its_keypoint():
    """Prompt k names keypoint k of the dataset's own order (side, finger, joint)."""
    checked = 0
    for rel, cfg, prompts in _prompt_configs():
        names = _names(cfg)
        assert len(prompts) == len(names), rel
        for k, (name, text) in enumerate(zip(names, prompts)):
            side, finger, words = _expected(name, rel.startswith(SEED_ALIASES))
            first = text.split()[0]
            assert (first == side) if side else first not in ('left', 'right'), (rel, k, text)
            if finger is None:
                assert text.endswith('wrist'), (rel, k, name, text)
                continue
            assert finger in text and 'wrist' not in text, (rel, k, name, text)
            if words:
                assert text.endswith(words), (rel, k, name, text)
        checked += 1
    assert checked >= 15, checked  # every experiment config with prompts was seen


def test_rhd_prompts_run_tip_to_palm():
    cfg = Config.fromfile(osp.join(ROOT, 'configs/rhd/clamp_vit-b16_4xb16-210e_rhd2d-256x256.py'))
    prompts = cfg.model.text_encoder.prompts
    assert prompts[:5] == ['wrist', 'thumb tip', 'thumb middle joint', 'thumb knuckle',
                           'thumb base']
    assert prompts[5] == 'index finger tip' and prompts[20] == 'little finger knuckle'


def test_unknown_keypoint_name_fails_when_the_config_loads(tmp_path):
    path = tmp_path / 'layout.py'
    path.write_text("import importlib\n"
                    "_l = importlib.import_module('clamp_hand.datasets.hand_layouts')\n"
                    "dataset_info = _l.hand_layout('mine', ['wrist', 'thumb_nail'])\n")
    with pytest.raises(KeyError, match=r"thumb_nail.*clamp_hand\.datasets\.keypoint_names"
                                       r"\.JOINT_NAMES"):
        Config.fromfile(str(path))


FORMAT_CONFIGS = {
    'onehand10k': 'onehand10k/clamp_vit-b16_4xb16-210e_onehand10k-256x256.py',
    'freihand': 'freihand/clamp_vit-b16_4xb16-210e_freihand-256x256.py',
    'rhd': 'rhd/clamp_vit-b16_4xb16-210e_rhd2d-256x256.py',
    'panoptic': 'panoptic_hand2d/clamp_vit-b16_4xb16-210e_panoptic-hand2d-256x256.py',
    'halpe': 'halpe_hand/clamp_vit-b16_4xb16-210e_halpe-hand-256x256.py',
}


def _train_main():
    spec = importlib.util.spec_from_file_location('clamp_train_tool',
                                                  osp.join(ROOT, 'tools', 'train.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main


def _scalars(work_dir):
    found = sorted(glob.glob(osp.join(str(work_dir), '*', 'vis_data', 'scalars.json')))
    assert found, f'no scalars.json under {work_dir}'
    return [json.loads(line) for line in open(found[-1])]


@pytest.mark.parametrize('fmt', sorted(FORMAT_CONFIGS))
def test_native_format_trains_and_validates(fmt, tmp_path):
    root = tmp_path / 'data'
    hands = real_hands()
    WRITERS[fmt](str(root), hands)
    cfg = tiny_64_config(tmp_path, osp.join(ROOT, 'configs', FORMAT_CONFIGS[fmt]),
                         str(root) + '/')
    _train_main()([cfg, '--work-dir', str(tmp_path / 'work')])
    scalars = _scalars(tmp_path / 'work')
    losses = [s['loss'] for s in scalars if 'loss' in s]
    val = [s for s in scalars if 'coco/AP' in s]
    assert losses and np.all(np.isfinite(losses)), scalars
    assert val and 0.0 <= val[-1]['coco/AP'] <= 1.0, scalars
    pck = 'PCKh' if fmt == 'panoptic' else 'PCK'
    assert pck in val[-1] and 'AUC' in val[-1] and 'EPE' in val[-1], val[-1]
    # Halpe: each whole-body person gives exactly one hand (its wrist is the hand_root, not the
    # body wrist); every format keeps all its hands
    expected = len(hands)
    assert val[-1].get('step', 1) >= 1 and expected == 6


HAND5 = osp.join(ROOT, 'configs/hand5/clamp_vit-b16_4xb16-210e_hand5-256x256.py')
MMPOSE_LAYOUT_OF = {'HandKeypointDataset': 'coco_wholebody_hand', 'OneHand10KDataset': 'onehand10k',
                    'FreiHandDataset': 'freihand2d', 'Rhd2DDataset': 'rhd2d',
                    'HalpeHandDataset': 'halpe'}


def test_hand5_maps_every_dataset_by_name_to_one_layout():
    """One known hand (a real sample, wrist first) put into each dataset's own order with
    mmpose's own names of that dataset, then through the Hand5 config's converter of that
    dataset: the thumb tip (and every other joint) lands on the same output index."""
    from mmpose.datasets.transforms import KeypointConverter

    from _helpers_hand_formats import mmpose_names
    cfg = Config.fromfile(HAND5)
    target = _names(cfg)
    thumb_tip = target.index('thumb4')  # mmpose's name of the thumb tip in this layout
    hand = real_hands()[0][1][:, :2]  # (21, 2) wrist first, mmpose onehand10k names
    wrist_first = mmpose_names('onehand10k')
    datasets = cfg.train_dataloader.dataset.datasets
    assert len(datasets) == 5
    landed = {}
    for ds in datasets:
        native = mmpose_names(MMPOSE_LAYOUT_OF[ds.type])
        if ds.type == 'HalpeHandDataset':  # one hand of the whole body: left_hand_root.. ->
            native = [n[len('left_'):].replace('hand_root', 'wrist')
                      for n in native if n.startswith('left_') and 'hand_root' in n
                      or n.startswith('left_') and n[-1].isdigit()]
        order = [wrist_first.index(n) for n in native]  # native k <- wrist-first index
        sample = dict(keypoints=hand[order][None], keypoints_visible=np.ones((1, 21)))
        out = KeypointConverter(**{k: v for k, v in ds.pipeline[0].items() if k != 'type'})(
            sample)
        np.testing.assert_allclose(out['keypoints'][0], hand, err_msg=ds.type)
        landed[ds.type] = tuple(out['keypoints'][0, thumb_tip])
    assert len(set(landed.values())) == 1 and landed['Rhd2DDataset'] == tuple(hand[4]), landed


def test_hand5_trains_on_all_five_formats_and_reports_each(tmp_path):
    """One epoch of the Hand5 config on fixtures of all five formats at once (each in its
    native format and order), validation per dataset and over the mix."""
    hands = real_hands()
    roots = {}
    for fmt, ds_type in (('coco_wholebody_hand', 'HandKeypointDataset'),
                         ('onehand10k', 'OneHand10KDataset'), ('freihand', 'FreiHandDataset'),
                         ('rhd', 'Rhd2DDataset'), ('halpe', 'HalpeHandDataset')):
        root = tmp_path / fmt
        WRITERS[fmt](str(root), hands)
        roots[ds_type] = str(root) + '/'
    cfg = tiny_64_config(tmp_path, HAND5, roots=roots)
    _train_main()([cfg, '--work-dir', str(tmp_path / 'work')])
    val = [s for s in _scalars(tmp_path / 'work') if 'PCK' in s]
    assert val, 'no validation'
    last = val[-1]
    for name in ('coco_wholebody_hand', 'onehand10k', 'freihand', 'rhd2d', 'halpe_hand'):
        for key in ('PCK', 'AUC', 'EPE'):
            assert f'{name}/{key}' in last, (name, key, sorted(last))
    # the mix's EPE is the mean over all hands: with equal counts, the mean of the five
    per = [last[f'{n}/EPE'] for n in ('coco_wholebody_hand', 'onehand10k', 'freihand', 'rhd2d',
                                      'halpe_hand')]
    assert abs(np.mean(per) - last['EPE']) < 1e-4 * max(1.0, last['EPE']), (per, last['EPE'])


def test_halpe_hand_dataset_cuts_out_each_labelled_hand(tmp_path):
    """HalpeHandDataset: one 21-keypoint instance per labelled hand of a 136-keypoint person,
    its wrist the hand_root (not the body's wrist, which the fixture sets elsewhere), its box
    the tight box of the labelled keypoints, its COCO ground truth flat and 21 x 3."""
    from clamp_hand.datasets import HalpeHandDataset
    hands = real_hands()
    WRITERS['halpe'](str(tmp_path), hands)
    meta = Config.fromfile(osp.join(ROOT, 'configs/_base_/datasets/halpe_hand_onehand.py'))
    ds = HalpeHandDataset(ann_file=str(tmp_path / 'annotations/halpe_val_v1.json'),
                          metainfo=meta.dataset_info.to_dict(), test_mode=True,
                          data_prefix=dict(img=str(tmp_path / 'val2017') + '/'))
    assert len(ds) == len(hands)
    for i, (_, k, _, _, _) in enumerate(hands):
        info = ds.get_data_info(i)
        vis = k[:, 2] > 0
        np.testing.assert_allclose(info['keypoints'][0][vis], k[vis, :2])
        np.testing.assert_allclose(info['bbox'][0], [*k[vis, :2].min(0), *k[vis, :2].max(0)])
        assert info['hand_side'] == ('left' if (i + 1) % 2 else 'right')
        assert len(info['raw_ann_info']['keypoints']) == 63


def test_two_hand_mix_maps_both_datasets_by_name():
    """AssemblyHands and InterHand2.6M: both 42-keypoint layouts map every joint of both hands
    onto the same target index (here the same order, so the mapping must be the identity)."""
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs/twohands_mix/'
        'clamp_vit-b16_4xb16-210e_assemblyhands-interhand2d-2hands-256x256.py'))
    target = _names(cfg)
    for ds in cfg.train_dataloader.dataset.datasets:
        names = [ds.metainfo.keypoint_info[i]['name'] for i in range(42)]
        mapping = dict(ds.pipeline[0].mapping)
        assert sorted(mapping) == list(range(42)), ds.type
        assert all(target[mapping[i]] == names[i] for i in range(42)), ds.type
    assert [e.get('dataset_name') for e in cfg.val_evaluator][3:] == [
        'assemblyhands_twohands', 'interhand2d_twohands']


# ---- where the files lie: one table (clamp_hand/datasets/benchmarks.py), read by every config
BENCHMARK_CONFIGS = {  # benchmark -> its own experiment config
    'onehand10k': FORMAT_CONFIGS['onehand10k'],
    'coco_wholebody_hand':
        'coco_wholebody_hand/clamp_vit-b16_4xb16-210e_coco-wholebody-hand-256x256.py',
    'freihand': FORMAT_CONFIGS['freihand'],
    'rhd2d': FORMAT_CONFIGS['rhd'],
    'panoptic_hand2d': FORMAT_CONFIGS['panoptic'],
    'halpe_hand': FORMAT_CONFIGS['halpe'],
    'assemblyhands_onehand':
        'assemblyhands/clamp_vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py',
    'assemblyhands_twohands':
        'assemblyhands/clamp_vit-b16_4xb16-210e_assemblyhands-2hands-256x256.py',
    'interhand2d_twohands': 'interhand2d/clamp_vit-b16_4xb16-210e_interhand2d-2hands-256x256.py',
}
FILE_KEYS = ('type', 'data_root', 'ann_file', 'data_prefix', 'camera_param_file', 'joint_file')
TWO_HAND_MIX = osp.join(ROOT, 'configs/twohands_mix/'
                        'clamp_vit-b16_4xb16-210e_assemblyhands-interhand2d-2hands-256x256.py')


def _files(dataset):
    return {k: dataset[k] for k in FILE_KEYS if k in dataset}


def test_every_benchmark_has_a_layout_a_registered_type_and_a_config():
    from clamp_hand.datasets.benchmarks import BENCHMARKS, SPLITS, dataset_config
    from clamp_hand.datasets.hand_layouts import DATASET_NAMES
    from clamp_hand.registry import DATASETS
    assert sorted(BENCHMARK_CONFIGS) == sorted(BENCHMARKS)
    for name in BENCHMARKS:
        assert name in DATASET_NAMES, name  # the layout its samples carry in a mix
        for split in SPLITS:
            files = dataset_config(name, split)
            assert DATASETS.get(files['type']) is not None, (name, files['type'])
            paths = [files['ann_file'], files['data_prefix']['img'],
                     *(files[k] for k in ('camera_param_file', 'joint_file') if k in files)]
            assert files['data_root'].startswith('data/') and files['data_root'].endswith('/')
            assert not any('{' in p or p.startswith('/') for p in paths), (name, split, paths)


def test_mix_parts_read_the_files_of_their_benchmark_configs():
    """A part of Hand5 or of the two-hand mix reads, per split, the files its own benchmark's
    config reads (written once, in the benchmark table), in test mode outside training."""
    own = {name: Config.fromfile(osp.join(ROOT, 'configs', path))
           for name, path in BENCHMARK_CONFIGS.items()}
    seen = set()
    for mix in (HAND5, TWO_HAND_MIX):
        cfg = Config.fromfile(mix)
        for split in ('train', 'val', 'test'):
            for part in cfg[f'{split}_dataloader'].dataset.datasets:
                name = part.metainfo.dataset_name
                ref = own[name][f'{split}_dataloader'].dataset
                if mix == HAND5 and split == 'val':  # as mmpose's: validated on the test splits
                    ref = own[name].test_dataloader.dataset
                assert _files(part) == _files(ref), (mix, split, name)
                assert part.test_mode == (split != 'train'), (mix, split, name)
                seen.add(name)
    assert len(seen) == 7, seen
    # the evaluation files of mmpose's RTMPose Hand5 config (rtmpose-m_8xb256-210e_hand5-256x256)
    for split in ('val', 'test'):
        files = [osp.basename(p.ann_file) for p in Config.fromfile(HAND5)[
            f'{split}_dataloader'].dataset.datasets]
        assert files[1:] == ['onehand10k_test.json', 'freihand_test.json', 'rhd_test.json',
                             'halpe_val_v1.json'], (split, files)
        assert files[0].startswith('coco_wholebody_val_v1.0'), (split, files)


def test_a_benchmark_read_in_another_keypoint_order_fails_naming_the_layout():
    from clamp_hand.datasets.benchmarks import dataloader_datasets
    from clamp_hand.datasets.hand_layouts import dataset_layout
    loaders = dataloader_datasets('onehand10k', dataset_layout('hand21_wrist_first'))  # same names
    assert loaders[0]['dataset']['ann_file'].endswith('onehand10k_train.json')
    with pytest.raises(ValueError, match=r"benchmark 'rhd2d' .*differs at index 1.*"
                                         r"dataset_layout\('rhd2d'\)"):
        dataloader_datasets('rhd2d', dataset_layout('freihand'))


def test_unknown_benchmark_or_mix_is_named_with_its_table():
    from clamp_hand.datasets import benchmarks, mixes
    with pytest.raises(KeyError, match=r"'frei'.*benchmarks\.BENCHMARKS.*freihand"):
        benchmarks.dataset_config('frei', 'train')
    with pytest.raises(KeyError, match=r"split 'valid'"):
        benchmarks.dataset_config('freihand', 'valid')
    with pytest.raises(KeyError, match=r"'hand6'.*mixes\.MIXES.*hand5"):
        mixes.mix_dataset('hand6', 'val', {})


def test_mix_metrics_leave_out_every_coco_metric_and_repeat_the_rest_per_part():
    from clamp_hand.datasets.mixes import mix_metrics
    metrics = [dict(type='HandCocoMetric'), dict(type='AP10KSigmaCocoMetric'),
               dict(type='PCKAccuracy', thr=0.2), dict(type='EPE')]
    loader = dict(dataset=dict(datasets=[dict(metainfo=dict(dataset_name='a')),
                                         dict(metainfo=dict(dataset_name='b'))]))
    out = mix_metrics(metrics, loader)
    assert out[:2] == metrics[2:]
    assert out[2:] == [dict(type='PerDatasetMetric', dataset_name=n, metrics=metrics[2:])
                       for n in ('a', 'b')]
