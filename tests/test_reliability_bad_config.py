"""Bad configs fail with a clear error before any training step: an unknown registry type
(named, with the closest registered names), a prompt count that differs from the dataset's
keypoints, a checkpoint of another keypoint layout (21 vs 42) given to tools/test.py,
--resume or load_from, and an unreadable pretrained file."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from conftest import ROOT, TINY_HAND_SAMPLES_CFG, require_hand_samples
from reliability_utils import DIST_CHECK_CFG

HAND42 = osp.join(ROOT, 'configs', '_base_', 'datasets', 'hand42_wrist_first.py')


def no_training_happened(work):
    logs = glob.glob(osp.join(str(work), '*', '*.log'))
    assert not any('Epoch(train)' in open(p).read() or 'Iter(train)' in open(p).read()
                   for p in logs)
    assert not glob.glob(osp.join(str(work), '*.pth'))


def test_unknown_type_names_it_and_the_closest_registered_names(tmp_path):
    from clamp_hand.apis import train
    with pytest.raises(KeyError) as err:
        train(TINY_HAND_SAMPLES_CFG, work_dir=str(tmp_path),
              cfg_options={'model.head.type': 'DeconvHeatmapHaed'})
    msg = str(err.value)
    assert "model.head.type='DeconvHeatmapHaed' is not registered" in msg
    assert 'Closest registered names: DeconvHeatmapHead' in msg
    no_training_happened(tmp_path)


def test_unknown_type_deep_in_the_data_pipeline(tmp_path):
    from clamp_hand.apis import train
    with pytest.raises(KeyError, match=r"train_dataloader\.dataset\.dataset\.datasets\.0\."
                                       r"pipeline\.2\.type='TopDownAffine'.*TopdownAffine"):
        train(TINY_HAND_SAMPLES_CFG, work_dir=str(tmp_path),
              cfg_options={'train_dataloader.dataset.dataset.datasets.0.pipeline.2.type':
                           'TopDownAffine'})


def test_wrong_prompt_count_fails_when_the_config_loads(tmp_path):
    from clamp_hand.apis import load_config, train
    prompts = load_config(TINY_HAND_SAMPLES_CFG).model.text_encoder.prompts
    with pytest.raises(ValueError, match=r'prompts has 20 entries but train_dataloader\.dataset'
                                         r'\.metainfo has 21 keypoints'):
        train(TINY_HAND_SAMPLES_CFG, work_dir=str(tmp_path),
              cfg_options={'model.text_encoder.prompts': prompts[:20]})
    no_training_happened(tmp_path)


@pytest.fixture(scope='module')
def ckpt42(tmp_path_factory):
    """A checkpoint of the tiny 64x64 CLAMP for the 42-keypoint (two-hand) layout, as the
    Runner writes it (meta.dataset_meta, experiment_name)."""
    from clamp_hand.apis import load_config
    from clamp_hand.registry import MODELS
    cfg = load_config(DIST_CHECK_CFG)
    cfg.model.text_encoder.prompts = Config.fromfile(HAND42).keypoint_prompts
    model = MODELS.build(cfg.model)
    assert model.num_keypoints == 42
    path = str(tmp_path_factory.mktemp('ckpt42') / 'two_hands.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(num_keypoints=42),
                              experiment_name='clamp_vit-tiny_two-hands_20260101_120000')), path)
    return path


def test_checkpoint_of_another_layout_is_refused_by_test(tmp_path, ckpt42):
    require_hand_samples()
    from clamp_hand.apis import test
    with pytest.raises(ValueError) as err:
        test(TINY_HAND_SAMPLES_CFG, ckpt42, work_dir=str(tmp_path))
    msg = str(err.value)
    assert ckpt42 in msg and 'trained for 42 keypoints' in msg and 'predicts 21' in msg
    assert 'clamp_vit-tiny_two-hands.py' in msg


def test_checkpoint_of_another_layout_is_refused_by_resume_before_training(tmp_path, ckpt42):
    """(``load_from`` goes through the same ``Runner.load_checkpoint`` as ``--resume``.)"""
    require_hand_samples()
    from clamp_hand.apis import train
    with pytest.raises(ValueError, match=r'trained for 42 keypoints but the model of this '
                                         r'config predicts 21'):
        train(DIST_CHECK_CFG, work_dir=str(tmp_path), resume=ckpt42)
    no_training_happened(tmp_path)


def test_unreadable_pretrained_file_fails_before_training(tmp_path):
    require_hand_samples()
    pytest.importorskip('clamp_hand.models.clip_weights')
    from clamp_hand.apis import train
    bad = tmp_path / 'ViT-B-16.pt'
    bad.write_bytes(b'\x00not a checkpoint' * 100)
    with pytest.raises(Exception) as err:
        train(DIST_CHECK_CFG, work_dir=str(tmp_path / 'work'),
              cfg_options={'model.pretrained': str(bad)})
    assert str(bad) in str(err.value), str(err.value)
    no_training_happened(tmp_path / 'work')
