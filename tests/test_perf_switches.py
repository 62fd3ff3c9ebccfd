"""Each speed optimization has an off switch, and on and off compute the same thing: prompt
cache, batched flip test, SDPA attention, drop path that skips dropped samples, activation
checkpointing, CPU autocast, compile,
data-loader sizing. All on the tiny CLAMP config (random weights)."""
import copy

import pytest
import torch

import clamp_hand.models.attention as attention
from clamp_hand.apis import load_config
from clamp_hand.benchmark import compile_model, synthetic_batch
from clamp_hand.engine.autocast_optim_wrapper import amp_optim_wrapper_cfg
from clamp_hand.engine.dataloader_defaults import fit_dataloader_to_machine, usable_cpus
from clamp_hand.models.attention import set_attention_impl
from clamp_hand.registry import MODELS
from conftest import TINY_HAND_SAMPLES_CFG
from mmengine.optim import build_optim_wrapper


def tiny(**model_options):
    cfg = load_config(TINY_HAND_SAMPLES_CFG)
    cfg.model.update(model_options)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    return cfg, model


def perturb_(model, seed=0):
    """Non-trivial weights everywhere (the heads are initialised near zero)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    return model


def count_calls(module):
    calls = []
    return calls, module.register_forward_hook(lambda *a: calls.append(1))


# ---- prompt embeddings ---------------------------------------------------------------------
def test_prompts_run_once_per_training_step_and_are_cached_until_an_optimizer_step():
    cfg, model = tiny()
    optim = build_optim_wrapper(model, cfg.optim_wrapper.to_dict())
    batch = synthetic_batch(model, batch_size=3)
    calls, handle = count_calls(model.text_encoder)
    try:
        model.train()
        model.train_step(batch, optim)
        assert len(calls) == 1  # one text pass for all K prompts and all 3 images
        model.eval()
        with torch.no_grad():
            model.val_step(batch)  # flip test on: 2 views, still one text pass
            model.val_step(batch)
        assert len(calls) == 2
        model.train()
        model.train_step(batch, optim)  # the contexts change
        model.eval()
        with torch.no_grad():
            model.val_step(batch)
        assert len(calls) == 4
    finally:
        handle.remove()


def test_cache_off_reruns_the_text_encoder_every_forward_with_the_same_result():
    _, cached = tiny()
    _, uncached = tiny(cache_prompts=False)
    uncached.load_state_dict(cached.state_dict())
    cached.eval(), uncached.eval()
    batch = synthetic_batch(cached, batch_size=2)
    calls, handle = count_calls(uncached.text_encoder)
    try:
        with torch.no_grad():
            uncached.val_step(copy.deepcopy(batch))
            uncached.val_step(copy.deepcopy(batch))
        assert len(calls) == 2
    finally:
        handle.remove()
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        assert torch.allclose(cached.forward_heatmaps(x), uncached.forward_heatmaps(x), atol=1e-6)


# ---- flip test -----------------------------------------------------------------------------
def test_batched_flip_equals_two_sequential_passes():
    _, model = tiny()
    perturb_(model).eval()
    x = torch.randn(3, 3, 128, 128, generator=torch.Generator().manual_seed(1))
    batch = synthetic_batch(model, batch_size=3)
    samples = batch['data_samples']
    calls, handle = count_calls(model.backbone)
    try:
        batched = model.predict_heatmaps(x, samples)
        model.test_cfg['flip_batched'] = False
        sequential = model.predict_heatmaps(x, samples)
    finally:
        handle.remove()
    assert len(calls) == 3  # one batched pass, then two
    assert (batched - sequential).abs().max() < 1e-5 * batched.abs().max()


# ---- attention -----------------------------------------------------------------------------
def test_sdpa_and_naive_attention_agree_in_outputs_and_gradients(monkeypatch):
    _, model = tiny()
    perturb_(model).train()
    sdpa_calls = []
    real_sdpa = attention.F.scaled_dot_product_attention
    monkeypatch.setattr(attention.F, 'scaled_dot_product_attention',
                        lambda *a, **k: sdpa_calls.append(1) or real_sdpa(*a, **k))
    batch = synthetic_batch(model, batch_size=2)
    results = {}
    for impl in ('sdpa', 'naive'):
        assert set_attention_impl(model, impl) >= 4  # backbone, text, relation, decoder
        sdpa_calls.clear()
        model.zero_grad()
        data = model.data_preprocessor(copy.deepcopy(batch), True)
        losses = model(**data, mode='loss')
        sum(losses.values()).backward()
        results[impl] = (torch.stack(list(losses.values())),
                         [p.grad.clone() for p in model.parameters() if p.grad is not None])
        # tiny config: 4 backbone + 2 text + 1 relation blocks + decoder self/cross attention
        assert (len(sdpa_calls) > 0) == (impl == 'sdpa')
    (loss_a, grads_a), (loss_b, grads_b) = results['sdpa'], results['naive']
    assert torch.allclose(loss_a, loss_b, rtol=1e-4, atol=1e-6)
    for ga, gb in zip(grads_a, grads_b):
        assert torch.allclose(ga, gb, rtol=1e-3, atol=1e-6 * max(1.0, ga.abs().max().item()))


def test_estimator_attn_impl_reaches_every_attention_and_bad_values_fail():
    _, model = tiny(attn_impl='naive')
    impls = {m.attn_impl for m in model.modules() if hasattr(m, 'attn_impl')}
    assert impls == {'naive'}
    with pytest.raises(ValueError, match="attn_impl='flash'.*sdpa"):
        tiny(attn_impl='flash')


# ---- activation checkpointing --------------------------------------------------------------
def test_activation_checkpointing_gives_the_same_gradients(monkeypatch):
    grads, block_calls = {}, {}
    for ckpt in (False, True):
        cfg, model = tiny()
        model.backbone.with_checkpoint = ckpt
        perturb_(model).train()
        calls = []
        real_block = type(model.backbone)._block
        monkeypatch.setattr(model.backbone, '_block',
                            lambda i, x, real=real_block, m=model.backbone: calls.append(i) or real(m, i, x))
        data = model.data_preprocessor(synthetic_batch(model, batch_size=2), True)
        sum(model(**data, mode='loss').values()).backward()
        grads[ckpt] = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        block_calls[ckpt] = len(calls)
    layers = len(model.backbone.transformer.resblocks)
    assert block_calls == {False: layers, True: 2 * layers}  # recomputed in the backward
    assert grads[False].keys() == grads[True].keys()
    for name, g in grads[False].items():
        assert torch.allclose(g, grads[True][name], rtol=1e-5, atol=1e-7), name


# ---- drop path -----------------------------------------------------------------------------
def test_drop_path_skips_dropped_samples_and_matches_timm_in_values_and_gradients():
    from timm.layers import DropPath as TimmDropPath

    from clamp_hand.models.drop_path import drop_path_residual
    torch.manual_seed(0)
    branch_net = torch.nn.Sequential(torch.nn.LayerNorm(8), torch.nn.Linear(8, 8))
    x = torch.randn(32, 5, 8, requires_grad=True)
    rows = []

    def branch(t):
        rows.append(t.shape[0])
        return branch_net(t)

    for p in (0.0, 0.25, 0.6):
        rows.clear()
        torch.manual_seed(1)
        ours = drop_path_residual(x, branch, p, training=True)
        torch.manual_seed(1)  # timm draws the same (B,) Bernoulli mask
        theirs = x + TimmDropPath(p)(branch_net(x))
        kept = (ours - x).flatten(1).abs().sum(1) > 0
        assert rows == [int(kept.sum())]  # the branch ran on the kept samples only
        assert (p == 0.0) == bool(kept.all()) and kept.any()
        assert torch.equal(ours[~kept], x[~kept])  # dropped: the identity, exactly
        assert torch.allclose(ours, theirs, atol=1e-6)
        g_ours = torch.autograd.grad(ours.square().sum(), [x, *branch_net.parameters()])
        g_timm = torch.autograd.grad(theirs.square().sum(), [x, *branch_net.parameters()])
        for a, b in zip(g_ours, g_timm):
            assert torch.allclose(a, b, rtol=1e-5, atol=1e-5)
    out = drop_path_residual(x, branch_net, 0.6, training=False)  # eval: no drop, no scaling
    assert torch.allclose(out, x + branch_net(x))
    with pytest.raises(ValueError, match='outside'):
        drop_path_residual(x, branch_net, 1.0, training=True)


def test_backbone_drop_path_skip_on_and_off_give_the_same_loss_and_gradients():
    results = {}
    for skip in (True, False):
        cfg, model = tiny(backbone=dict(tiny()[0].model.backbone, drop_path_rate=0.5,
                                        drop_path_skip=skip))
        perturb_(model).train()
        data = model.data_preprocessor(synthetic_batch(model, batch_size=6), True)
        torch.manual_seed(3)
        loss = sum(model(**data, mode='loss').values())
        loss.backward()
        results[skip] = loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()
                                        if p.grad is not None}
    assert torch.allclose(results[True][0], results[False][0], rtol=1e-5)
    assert results[True][1].keys() == results[False][1].keys()
    for name, g in results[True][1].items():
        assert torch.allclose(g, results[False][1][name], rtol=1e-4, atol=1e-6), name


# ---- mixed precision -----------------------------------------------------------------------
def test_cpu_bf16_autocast_through_the_optimizer_wrapper():
    cfg, model = tiny()
    wrapper_cfg = amp_optim_wrapper_cfg(cfg.optim_wrapper.to_dict(), 'bf16', 'cpu')
    optim = build_optim_wrapper(model, wrapper_cfg)
    assert type(optim).__name__ == 'AutocastOptimWrapper'
    dtypes = []
    handle = model.head.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    before = model.head.final_layer.weight.detach().clone()
    try:
        model.train()
        log = model.train_step(synthetic_batch(model, batch_size=2), optim)
    finally:
        handle.remove()
    assert dtypes == [torch.bfloat16]
    assert torch.isfinite(log['loss'])
    assert model.head.final_layer.weight.dtype == torch.float32  # master weights stay fp32
    assert not torch.equal(before, model.head.final_layer.weight)
    with pytest.raises(ValueError, match='fp16 on cpu.*bf16'):
        amp_optim_wrapper_cfg(cfg.optim_wrapper.to_dict(), 'fp16', 'cpu')
    assert amp_optim_wrapper_cfg({'type': 'OptimWrapper'}, 'fp16', 'cuda') == dict(
        type='AmpOptimWrapper', dtype='float16')


# ---- torch.compile -------------------------------------------------------------------------
def test_compile_model_compiles_each_part_and_keeps_names_and_outputs():
    _, model = tiny()
    perturb_(model).eval()
    names = list(model.state_dict())
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        eager = model.forward_heatmaps(x)
        torch._dynamo.reset()
        parts = compile_model(model, backend='eager')  # the graph capture, without codegen
        compiled = model.forward_heatmaps(x)
    torch._dynamo.reset()
    assert set(parts) == {'backbone', 'head', 'score_head', 'context_decoder', 'text_encoder',
                          'prompt_encoder'}
    assert list(model.state_dict()) == names
    assert torch.allclose(eager, compiled, atol=1e-6)


# ---- data loader ---------------------------------------------------------------------------
def test_dataloader_settings_fit_the_machine():
    cap = max(usable_cpus() - 1, 0)
    cfg = dict(batch_size=16, num_workers=64, persistent_workers=True, pin_memory=True)
    cpu = fit_dataloader_to_machine(cfg, world_size=1, cuda=False)
    assert cpu['num_workers'] == cap
    assert cpu['pin_memory'] is False
    assert cpu['persistent_workers'] is (cap > 0)
    assert cfg['num_workers'] == 64  # the input is not changed
    gpu = fit_dataloader_to_machine(dict(cfg, num_workers=1), world_size=1, cuda=True)
    assert gpu['num_workers'] == min(1, cap) and gpu['pin_memory'] is True
    auto = fit_dataloader_to_machine(dict(batch_size=2, num_workers='auto'), world_size=1,
                                     cuda=False)
    assert auto['num_workers'] == cap
    shared = fit_dataloader_to_machine(cfg, world_size=usable_cpus() * 2, cuda=False)
    assert shared['num_workers'] == 0 and shared['persistent_workers'] is False


# ---- shared prompt prefix ------------------------------------------------------------------
def test_shared_prefix_text_encoding_equals_full_sequences_with_fewer_flops():
    from torch.utils.flop_counter import FlopCounterMode
    _, model = tiny()
    encoder = perturb_(model).text_encoder
    results = {}
    for shared in (False, True):
        encoder.share_prefix = shared
        encoder.contexts.grad = None
        counter = FlopCounterMode(display=False)
        with counter:
            out = encoder()
        (out ** 2).sum().backward()
        results[shared] = (out.detach(), encoder.contexts.grad.clone(), counter.get_total_flops())
    (out_a, grad_a, flops_a), (out_b, grad_b, flops_b) = results[False], results[True]
    assert torch.allclose(out_a, out_b, atol=1e-5)
    assert torch.allclose(grad_a, grad_b, rtol=1e-4, atol=1e-6 * grad_a.abs().max().item())
    k, n, length = encoder.num_prompts, encoder.num_contexts, encoder.seq_length
    shared_positions = 1 + n + k * (length - 1 - n)
    assert flops_b < flops_a * (shared_positions / (k * length) + 0.1)
