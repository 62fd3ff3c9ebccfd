"""tools/analysis/benchmark.py and the text-free baseline configs it compares CLAMP with."""
import importlib.util
import json
import os
import os.path as osp

import pytest
import torch
from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg
from safetensors.torch import save_file

from clamp_hand.apis import load_config
from clamp_hand.models.clip_weights import load_clip_weights
from clamp_hand.registry import MODELS
from conftest import ROOT, TINY_HAND_SAMPLES_CFG, require_hand_samples, run_tool

TOOL = osp.join(ROOT, 'tools', 'analysis', 'benchmark.py')
TINY_BASELINE_CFG = osp.join(ROOT, 'configs', 'baselines',
                             'vit-tiny_1xb12-40e_hand-samples-128x128.py')
PAIRS = [  # (text-free baseline, CLAMP)
    ('configs/baselines/vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py',
     'configs/assemblyhands/clamp_vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py'),
    ('configs/baselines/vit-tiny_1xb12-40e_hand-samples-128x128.py',
     'configs/hand_samples/clamp_vit-tiny_1xb12-40e_hand-samples-128x128.py'),
    ('configs/synthhands/vit-tiny-convstem_1xb32-10e_synthhands-easy-1hand-64x64_text-free.py',
     'configs/synthhands/clamp_vit-tiny-convstem_1xb32-10e_synthhands-easy-1hand-64x64.py'),
]
RESULT_FIELDS = ('median_images_per_s', 'iqr_images_per_s', 'median_s_per_image',
                 'peak_memory_mb', 'memory_method', 'gflops_per_image', 'params_m')


# ---- the baselines -------------------------------------------------------------------------
@pytest.mark.parametrize('baseline,clamp', PAIRS)
def test_baseline_is_clamp_without_the_text_side(baseline, clamp):
    """Same data, schedule, optimizer, codec, backbone, head and test settings; the model is
    a TopdownHeatmapEstimator without any text module."""
    base, ref = load_config(osp.join(ROOT, baseline)), load_config(osp.join(ROOT, clamp))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
                'optim_wrapper', 'param_scheduler', 'train_cfg', 'auto_scale_lr', 'randomness'):
        assert base.get(key) == ref.get(key), key
    assert base.model.type == 'TopdownHeatmapEstimator' and ref.model.type == 'CLAMPEstimator'
    for key in ('backbone', 'codec', 'data_preprocessor', 'test_cfg', 'loss_keypoint',
                'pretrained'):
        assert base.model[key] == ref.model[key], key
    assert base.model.feature_index == ref.model.score_concat_index
    ref_head = {k: v for k, v in ref.model.head.items() if k != 'out_channels'}
    assert {k: v for k, v in base.model.head.items() if k != 'out_channels'} == ref_head
    base.model.pretrained = ref.model.pretrained = None
    model = MODELS.build(base.model)
    assert model.num_keypoints == len(ref.model.text_encoder.prompts)
    assert not any(n.startswith(('text_encoder', 'prompt_encoder', 'context_decoder',
                                 'score_head')) for n, _ in model.named_parameters())
    clamp_model = MODELS.build(ref.model)
    assert model.head.in_channels + model.num_keypoints == clamp_model.head.in_channels


def test_text_free_model_refuses_what_is_not_a_clamp_model_with_prompts():
    from clamp_hand.models.text_free import text_free_model
    clamp = load_config(TINY_HAND_SAMPLES_CFG).model
    with pytest.raises(ValueError, match="expected a CLAMPEstimator.*'TopdownHeatmapEstimator'"):
        text_free_model(text_free_model(clamp))
    clamp.text_encoder.prompts = None
    with pytest.raises(ValueError, match='sets no model.text_encoder.prompts'):
        text_free_model(clamp)
    clamp.text_encoder.prompts = ['wrist'] * 3
    clamp.head.out_channels = 5  # a head that sets its own channel count keeps it
    assert text_free_model(clamp)['head']['out_channels'] == 5


def test_baseline_loads_the_image_tower_of_a_full_clip_file(tmp_path):
    """A CLIP file with both towers fills the text-free backbone; the text tower is skipped
    and named in the report."""
    cfg = load_config(TINY_BASELINE_CFG)
    b = cfg.model.backbone
    torch.manual_seed(0)
    clip = CLIP(embed_dim=b.output_dim, quick_gelu=True,
                vision_cfg=CLIPVisionCfg(layers=b.layers, width=b.width,
                                         head_width=b.width // b.heads,
                                         patch_size=b.patch_size, image_size=224),
                text_cfg=CLIPTextCfg(width=32, heads=2, layers=1))
    path = str(tmp_path / 'clip.safetensors')
    save_file({k: v.contiguous() for k, v in clip.state_dict().items()}, path)
    cfg.model.pretrained = path
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert torch.equal(model.backbone.conv1.weight, clip.visual.conv1.weight)
    assert torch.equal(model.backbone.transformer.resblocks[-1].mlp.c_proj.weight,
                       clip.visual.transformer.resblocks[-1].mlp.c_proj.weight)
    report = load_clip_weights(model, path)
    assert report.skipped['token_embedding.weight'] == 'model has no text_encoder'
    assert all(k.startswith('backbone.') for k in report.loaded)
    assert report.missing == [] and 'backbone.positional_embedding' in report.resized


# ---- the tool ------------------------------------------------------------------------------
def tool_main(argv):
    spec = importlib.util.spec_from_file_location('benchmark_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(argv)


def check_report(report, mode, n_variants):
    assert report['settings']['mode'] == mode
    assert report['machine']['device'] == 'cpu' and report['machine']['torch_threads'] >= 1
    assert len(report['results']) == n_variants
    for r in report['results']:
        for key in RESULT_FIELDS:
            assert r[key] is not None, key
        lo, hi = r['iqr_images_per_s']
        assert 0 < lo <= r['median_images_per_s'] <= hi
        assert r['median_s_per_image'] == pytest.approx(1 / r['median_images_per_s'])
        assert r['peak_memory_mb'] > 50 and r['gflops_per_image'] > 0
        assert r['steps'] == report['settings']['steps'] * report['settings']['rounds']


def test_train_mode_writes_json_with_a_ratio_to_the_baseline(tmp_path):
    out = tmp_path / 'train.json'
    proc = run_tool([TOOL, TINY_BASELINE_CFG, '--mode', 'train', '--batch-size', '2',
                     '--warmup', '1', '--steps', '2', '--rounds', '2', '--threads', '1',
                     '--against', TINY_HAND_SAMPLES_CFG, '--out', str(out)], timeout=300)
    report = json.loads(out.read_text())
    check_report(report, 'train', 2)
    base, clamp = report['results']
    assert (base['model'], clamp['model']) == ('TopdownHeatmapEstimator', 'CLAMPEstimator')
    assert clamp['gflops_per_image'] > base['gflops_per_image']  # text + decoder + score head
    assert clamp['trainable_params_m'] < clamp['params_m']  # frozen text weights
    ratio = report['ratios_to_first'][0]
    assert len(ratio['per_round']) == 2 and ratio['s_per_image_ratio'] > 0
    assert 'time per image' in proc.stdout and report['command'].startswith(
        'python tools/analysis/benchmark.py')


def test_infer_mode_counts_the_flip_test_and_the_switches(tmp_path):
    out = tmp_path / 'infer.json'
    report = tool_main([TINY_HAND_SAMPLES_CFG, '--mode', 'infer', '--flip-test',
                        '--batch-size', '2', '--warmup', '1', '--steps', '2', '--threads', '1',
                        '--against', 'same',
                        '--against-cfg-options', 'model.test_cfg.flip_test=False',
                        'model.cache_prompts=False', '--out', str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    check_report(report, 'infer', 2)
    flip, plain = report['results']
    assert plain['cfg_options'] == {'model.test_cfg.flip_test': False,
                                    'model.cache_prompts': False}
    # the flip test doubles the network's work; without the cache the text encoder adds some
    assert 1.9 < flip['gflops_per_image'] / plain['gflops_per_image'] < 2.0


def test_with_data_reports_the_time_spent_waiting_for_batches(tmp_path):
    require_hand_samples()
    report = tool_main([TINY_BASELINE_CFG, '--mode', 'train', '--batch-size', '4', '--warmup', '1',
                        '--steps', '2', '--threads', '1', '--with-data', '--no-flops'])
    r = report['results'][0]
    assert 0 < r['data_wait_fraction'] < 1 and r['median_data_wait_s'] > 0
    assert r['gflops_per_image'] is None
    assert r['dataloader']['num_workers'] <= max(len(os.sched_getaffinity(0)) - 1, 0)


def test_bad_options_fail_naming_the_option(tmp_path):
    # (the tool's main in this process: what it raises is what its command line exits with)
    with pytest.raises(ValueError, match='--amp fp16 on cpu'):
        tool_main([TINY_BASELINE_CFG, '--mode', 'train', '--amp', 'fp16', '--device', 'cpu',
                   '--steps', '1'])
    with pytest.raises(SystemExit, match="--against 'nope.py'"):
        tool_main([TINY_BASELINE_CFG, '--mode', 'infer', '--against', 'nope.py'])
