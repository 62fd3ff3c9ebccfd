"""Checks before the Runner is built (clamp_hand/apis/preflight.py): metrics meet their data
before the first training step, the datasets built for the checks are the ones the run uses,
and a resumed run whose schedule differs from the checkpoint's says so (ResumeScheduleHook)."""
import os.path as osp

import pytest
from mmengine.logging import MMLogger

from _helpers_bad_input import VAL_PIPELINE, native_fixture
from conftest import require_hand_samples
from reliability_utils import write_epoch_config
from test_reliability_bad_input import _tiny_cfg


def _val(type_, ann_file, img, **kwargs):
    return dict(type=type_, ann_file=ann_file, data_prefix=dict(img=img),
                pipeline=VAL_PIPELINE, test_mode=True, **kwargs)


def hand_sigmas_layout():
    """The project's 21-keypoint metainfo (with the hand sigmas COCO AP needs; mmpose's own
    hand metainfo files have none), as the experiment configs use it."""
    from mmengine.config import Config

    from _helpers_bad_input import LAYOUT
    return Config.fromfile(LAYOUT).dataset_info.to_dict()


def test_coco_ap_on_nested_keypoints_stops_before_the_first_training_step(tmp_path):
    from clamp_hand.apis import train
    from clamp_hand.apis.preflight import PreflightError
    require_hand_samples()
    type_, ann_file, img = native_fixture('rhd', str(tmp_path))
    cfg = _tiny_cfg(tmp_path, _val(type_, ann_file, img),
                    [dict(type='EPE'), dict(type='CocoMetric', nms_mode='none')])
    work = tmp_path / 'work'
    with pytest.raises(PreflightError, match=rf'val_evaluator\[1\] \(CocoMetric\) cannot score '
                       rf'the evaluation data of {ann_file}: .*broadcast'):
        train(cfg, work_dir=str(work))
    assert not work.exists()  # no runner, no training step


def test_a_metric_missing_a_field_names_metric_file_and_field(tmp_path):
    from clamp_hand.apis import train
    from clamp_hand.apis.preflight import PreflightError
    require_hand_samples()
    type_, ann_file, img = native_fixture('onehand10k', str(tmp_path))  # no head_size
    cfg = _tiny_cfg(tmp_path, _val(type_, ann_file, img),
                    [dict(type='PCKAccuracy', thr=0.7, norm_item='head')])
    with pytest.raises(PreflightError, match=rf'val_evaluator\[0\] \(PCKAccuracy\) cannot score'
                       rf' .*{osp.basename(ann_file)}.*head_size'):
        train(cfg, work_dir=str(tmp_path / 'work'))


def test_the_checked_datasets_are_the_ones_the_run_uses(tmp_path):
    """Built once (one warning per bad record, not two), handed to the Runner, and the
    metrics get the annotation file they read in a normal run."""
    from clamp_hand.apis.runner import build_runner, load_config
    require_hand_samples()
    type_, ann_file, img = native_fixture('onehand10k', str(tmp_path), zero_box_index=1)
    good = native_fixture('onehand10k', str(tmp_path / 'good'))[1]
    layout = hand_sigmas_layout()
    cfg = load_config(_tiny_cfg(tmp_path, _val(type_, good, img, metainfo=layout),
                                [dict(type='CocoMetric', nms_mode='none'), dict(type='EPE')]))
    cfg.train_dataloader.dataset = dict(
        type=type_, ann_file=ann_file, data_prefix=dict(img=img), metainfo=layout, pipeline=[
            dict(type='LoadImage'), dict(type='GetBBoxCenterScale', padding=1.25),
            dict(type='TopdownAffine', input_size=(64, 64)),
            dict(type='GenerateTarget', encoder=cfg.codec),
            dict(type='PackPoseInputs', pack_transformed=True)])
    cfg.train_dataloader.batch_size = 3
    log = tmp_path / 'log.txt'
    MMLogger.get_instance('preflight_once', log_file=str(log))
    runner = build_runner(cfg, work_dir=str(tmp_path / 'work'))
    assert runner.cfg.train_dataloader.dataset['type'] == type_  # the dumped config is real
    assert len(runner.train_dataloader.dataset) == 3 and len(runner.val_dataloader.dataset) == 4
    text = log.read_text()
    assert text.count('has zero or negative size; skipped for training') == 1, text
    name = runner.val_dataloader.dataset.metainfo['dataset_name']
    assert runner.message_hub.get_info(f'{name}_ann_file') == good
    metrics = runner.val_loop.run()  # CocoMetric reads `good` (as without preflight)
    assert set(metrics) >= {'coco/AP', 'EPE'}
    assert 'loaded the annotation file from ' + good in log.read_text()


def test_panoptic_pckh_passes_the_precheck_and_coco_ap_without_sigmas_does_not(tmp_path):
    """mmpose's Panoptic metainfo has no keypoint sigmas: COCO AP cannot score it."""
    from clamp_hand.apis.preflight import PreflightError, check_metrics_read_their_data
    from _helpers_bad_input import build_dataset
    require_hand_samples()
    type_, ann_file, img = native_fixture('panoptic', str(tmp_path))
    ds = build_dataset(type_, ann_file, img, test_mode=True)
    check_metrics_read_their_data([dict(type='PCKAccuracy', thr=0.7, norm_item='head'),
                                   dict(type='EPE')], ds, 'val_evaluator')
    with pytest.raises(PreflightError, match=r'\(CocoMetric\) cannot score .*panoptic.json'):
        check_metrics_read_their_data([dict(type='CocoMetric')], ds, 'val_evaluator')


def _lrs(work):
    from clamp_hand.visualization import read_scalars
    return [row['lr'] for row in read_scalars(str(work))[0]]


def fresh_schedule_lrs(cfg_path, cfg_options, iters_per_epoch):
    """The lr at each iteration of a fresh run of the config, from mmengine's schedulers
    stepped as ParamSchedulerHook steps them (no training needed: the schedule depends on
    nothing else)."""
    import torch
    from mmengine.optim import OptimWrapper

    from clamp_hand.apis.runner import load_config
    from clamp_hand.registry import PARAM_SCHEDULERS
    cfg = load_config(cfg_path, cfg_options)
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))],
                            lr=cfg.optim_wrapper.optimizer.lr)
    wrapper = OptimWrapper(opt)
    scheds = [PARAM_SCHEDULERS.build(dict(s), default_args=dict(
        optimizer=wrapper, epoch_length=iters_per_epoch)) for s in cfg.param_scheduler]
    lrs = []
    for it in range(cfg.train_cfg.max_epochs * iters_per_epoch):
        lrs.append(opt.param_groups[0]['lr'])
        for s in scheds:
            if not s.by_epoch:
                s.step()
        if (it + 1) % iters_per_epoch == 0:
            for s in scheds:
                if s.by_epoch:
                    s.step()
    return lrs


def test_resume_with_a_longer_schedule_says_so_and_rebuilds_it_on_request(tmp_path):
    from clamp_hand.apis import train
    require_hand_samples()
    cfg = write_epoch_config(tmp_path / 'cfg.py', epochs=2, keep=2)  # 3 iterations per epoch
    work = tmp_path / 'work'

    train(cfg, work_dir=str(work), cfg_options={})
    longer = {'train_cfg.max_epochs': 4, 'param_scheduler.1.end': 4}
    with pytest.raises(ValueError, match=r'resuming .*epoch_2.pth \(epoch 2, iteration 6\): the '
                       r'schedule of this config differs .*max_epochs=2 -> max_epochs=4.*'
                       r'param_scheduler\[1\]\.end: 6 -> 12.*resume_schedule=config'):
        train(cfg, work_dir=str(work), resume='auto', cfg_options=longer)
    train(cfg, work_dir=str(work), resume='auto',
          cfg_options=dict(longer, resume_schedule='config'))
    logged = _lrs(work)
    fresh = fresh_schedule_lrs(cfg, longer, 3)
    assert len(logged) == len(fresh) == 12
    # epochs 3-4 of the resumed run follow the 4-epoch schedule of a fresh run ...
    assert logged[6:] == pytest.approx(fresh[6:], rel=1e-5)
    # ... which still decays there; the checkpoint's 2-epoch schedule had ended at eta_min
    assert fresh[6] > 10 * fresh[-1] > 10 * 1e-5
    assert logged[5] == pytest.approx(fresh_schedule_lrs(cfg, None, 3)[5], rel=1e-5)


def test_the_metric_precheck_samples_every_part_of_a_nested_mix():
    """The precheck runs each metric on the first samples of every part of a mix, also of a
    mix inside a mix (a per-dataset metric of the inner parts would otherwise meet none)."""
    from torch.utils.data import ConcatDataset

    from clamp_hand.apis.preflight import _first_indices
    a, b, c = list(range(10)), list(range(100, 103)), list(range(200, 207))
    nested = ConcatDataset([ConcatDataset([a, b]), c])
    picked = [nested[i] for i in _first_indices(nested, 4)]
    assert picked == [0, 1, 2, 3, 100, 101, 102, 200, 201, 202, 203]
    assert _first_indices(a, 4) == [0, 1, 2, 3]
