"""The ViT-B/16 CLAMP configs build with random weights; shapes at every stage, finite losses,
and gradients that reach exactly the trainable parts."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData, PixelData
from mmpose.structures import PoseDataSample

from clamp_hand.apis import load_config
from clamp_hand.engine import CLAMPOptimWrapperConstructor
from clamp_hand.registry import MODELS
from conftest import ROOT

CONFIGS = {
    21: 'configs/assemblyhands/clamp_vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py',
    42: 'configs/assemblyhands/clamp_vit-b16_4xb16-210e_assemblyhands-2hands-256x256.py',
}


def fake_samples(b, k, rng, in_size=256, hm=64):
    """Data samples as the train pipeline packs them: target heatmaps, weights, keypoints."""
    samples = []
    for _ in range(b):
        s = PoseDataSample()
        kpts = rng.uniform(16, in_size - 16, size=(1, k, 2)).astype(np.float32)
        heat = torch.zeros(k, hm, hm)
        for j, (x, y) in enumerate(kpts[0] * hm / in_size):
            heat[j, int(y), int(x)] = 1.0
        w = torch.ones(1, k)
        w[0, ::5] = 0  # some unlabeled keypoints
        s.gt_fields = PixelData(heatmaps=heat)
        s.gt_instance_labels = InstanceData(keypoint_weights=w)
        s.gt_instances = InstanceData(transformed_keypoints=kpts)
        samples.append(s)
    return samples


@pytest.fixture(scope='module', params=[21, 42], ids=['1hand', '2hands'])
def vit_b16(request):
    cfg = load_config(osp.join(ROOT, CONFIGS[request.param]))
    cfg.model.pretrained = None
    torch.manual_seed(0)
    return request.param, MODELS.build(cfg.model), cfg


def test_stage_shapes(vit_b16):
    k, model, _ = vit_b16
    model.eval()
    with torch.no_grad():
        out = model.forward_features(torch.randn(2, 3, 256, 256))
    assert [f.shape for f in out['feats']] == [(2, 768, 16, 16)] * 4
    assert out['cls'].shape == (2, 512)
    assert out['dense'].shape == (2, 512, 16, 16)
    assert model.prompt_embeddings().shape == (k, 512)
    assert out['prompts'].shape == (2, k, 512)
    assert out['score_maps'].shape == (2, k, 16, 16)
    assert out['score_maps'].abs().max() <= 1.0 + 1e-5  # cosine similarities
    assert out['heatmaps'].shape == (2, k, 64, 64)
    assert model.head.in_channels == 768 + k
    assert len(model.text_encoder.prompts) == k
    n_params = sum(p.numel() for p in model.parameters())
    assert 140e6 < n_params < 170e6, n_params  # ~86M image + ~63M text + heads


@pytest.fixture(scope='module')
def losses(vit_b16):
    """One training forward at batch 2 (its graph is kept for the gradient checks)."""
    k, model, _ = vit_b16
    model.train()
    model.zero_grad(set_to_none=True)
    rng = np.random.default_rng(0)
    return model(torch.randn(2, 3, 256, 256), fake_samples(2, k, rng), mode='loss')


def test_every_loss_term_is_finite_and_reaches_the_contexts(vit_b16, losses):
    _, model, _ = vit_b16
    assert set(losses) == {'loss_heatmap', 'loss_spatial', 'loss_feature'}
    for name, value in losses.items():
        assert torch.isfinite(value) and value > 0, (name, value)
        (g, ) = torch.autograd.grad(value, model.text_encoder.contexts, retain_graph=True)
        assert torch.isfinite(g).all() and g.abs().sum() > 0, name


def test_gradients_reach_trainable_parts_but_not_frozen_text_weights(vit_b16, losses):
    _, model, _ = vit_b16
    sum(losses.values()).backward(retain_graph=True)

    def has_grad(module):
        return any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())

    assert model.text_encoder.contexts.grad.abs().sum() > 0
    for part in ('prompt_encoder', 'context_decoder', 'backbone', 'head', 'score_head'):
        assert has_grad(getattr(model, part)), part
    assert model.loss_feature.logit_scale.grad is not None
    assert model.context_decoder.gamma.grad is not None
    frozen = [(n, p) for n, p in model.text_encoder.named_parameters() if n != 'contexts']
    assert frozen and all(not p.requires_grad and p.grad is None for _, p in frozen)


def test_optimizer_groups_follow_the_seed(vit_b16):
    _, model, cfg = vit_b16
    ctor = CLAMPOptimWrapperConstructor(cfg.optim_wrapper, cfg.optim_wrapper.paramwise_cfg)
    groups = ctor.param_groups(model, lr=5e-4, weight_decay=1e-4)
    by_param = {}
    names = {id(p): n for n, p in model.named_parameters()}
    for g in groups:
        for p in g['params']:
            by_param[names[id(p)]] = (g['lr'], g['weight_decay'])
    frozen = {n for n, p in model.text_encoder.named_parameters() if n != 'contexts'}
    assert not any(n.startswith('text_encoder.') and n[len('text_encoder.'):] in frozen
                   for n in by_param), 'frozen text weights must not be in the optimizer'
    assert by_param['text_encoder.contexts'] == (5e-4, 0.0)
    assert by_param['backbone.conv1.weight'] == pytest.approx((5e-5, 1e-4))
    assert by_param['backbone.transformer.resblocks.0.ln_1.weight'] == pytest.approx((5e-5, 0.0))
    assert by_param['backbone.positional_embedding'] == pytest.approx((5e-5, 0.0))
    assert by_param['head.final_layer.bias'] == (5e-4, 0.0)
    assert by_param['head.final_layer.weight'] == (5e-4, 1e-4)
    assert by_param['context_decoder.gamma'] == (5e-4, 0.0)


def test_prompt_embeddings_are_cached_until_the_contexts_change(vit_b16):
    _, model, _ = vit_b16
    model.eval()
    calls = []
    handle = model.text_encoder.register_forward_hook(lambda *a: calls.append(1))
    try:
        with torch.no_grad():
            first = model.prompt_embeddings()
            model.prompt_embeddings()
        assert len(calls) == 1
        with torch.no_grad():
            model.text_encoder.contexts.add_(0.1)  # what an optimizer step does
            second = model.prompt_embeddings()
        assert len(calls) == 2 and not torch.allclose(first, second)
    finally:
        handle.remove()


def test_prompt_count_mismatch_fails_at_build_time_naming_both_numbers():
    cfg = load_config(osp.join(ROOT, CONFIGS[21]))
    cfg.model.pretrained = None
    cfg.model.text_encoder.prompts = cfg.model.text_encoder.prompts[:20]
    cfg.model.head.out_channels = 21
    with pytest.raises(ValueError, match=r'model\.text_encoder\.prompts has 20 entries.*21 '
                                         r'keypoints \(model\.head\.out_channels\)'):
        MODELS.build(cfg.model)


def test_prompt_count_mismatch_with_the_dataset_fails_when_the_config_loads(tmp_path):
    src = osp.join(ROOT, CONFIGS[42])
    cfg_file = tmp_path / 'bad.py'
    cfg_file.write_text(f"_base_ = [{src!r}]\n"
                        "model = dict(text_encoder=dict(prompts=['wrist'] * 21))\n")
    with pytest.raises(ValueError, match=r'model\.text_encoder\.prompts has 21 entries but '
                                         r'train_dataloader\.dataset\.metainfo has 42 keypoints'):
        load_config(str(cfg_file))
