"""What build_runner settles on a config: CPU mixed precision, no CLIP file when a checkpoint
provides the weights, and data-loader settings fitted to the machine."""
import os

import pytest
import torch

from conftest import ROOT

CFG = os.path.join(ROOT, 'configs', 'hand_samples', 'clamp_vit-tiny_2xb4-4iter_dist-check-64x64.py')


def _runner(tmp_path, **kwargs):
    from clamp_hand.apis.runner import build_runner, load_config
    cfg = load_config(CFG, kwargs.pop('cfg_options', None))
    return build_runner(cfg, work_dir=str(tmp_path), config_path=CFG, **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU path')
def test_amp_on_cpu_is_bf16_autocast(tmp_path):
    runner = _runner(tmp_path, amp=True)
    wrapper = runner.cfg.optim_wrapper
    assert wrapper['type'] == 'AutocastOptimWrapper' and wrapper['dtype'] == 'bfloat16'
    runner.train()  # 4 iterations under autocast
    assert os.path.isfile(tmp_path / 'iter_4.pth')


def test_resume_does_not_need_the_clip_file(tmp_path):
    missing = str(tmp_path / 'no_such_ViT-B-16.pt')
    runner = _runner(tmp_path, resume='auto', cfg_options={'model.pretrained': missing})
    assert runner.cfg.model.pretrained is None
    runner = _runner(tmp_path / 'ft', cfg_options={'model.pretrained': missing,
                                                   'load_from': str(tmp_path / 'x.pth')})
    assert runner.cfg.model.pretrained is None


def test_dataloader_workers_fit_the_machine(tmp_path):
    from clamp_hand.engine.dataloader_defaults import usable_cpus
    runner = _runner(tmp_path, cfg_options={'train_dataloader.num_workers': 64,
                                            'train_dataloader.persistent_workers': True,
                                            'train_dataloader.pin_memory': True})
    loader = runner.cfg.train_dataloader
    assert loader['num_workers'] == max(usable_cpus() - 1, 0)
    assert loader['pin_memory'] == torch.cuda.is_available()
    assert loader['persistent_workers'] == (loader['num_workers'] > 0)
