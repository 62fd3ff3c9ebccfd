"""Checkpoints of the original CLAMP / Hand-CLAMP (mmpose 0.x) load into this project.

The original's state dicts are re-created here from a reading of its published code
(xuzhang1199/CLAMP: ``mmpose/models/detectors/top_down.py`` ``CLAMP``,
``mmpose/models/backbones/clip.py``, ``heads/topdown_heatmap_simple_head.py``) and of the
Hand-CLAMP configs (``context_length=11`` name tokens, text encoder ``context_length=13`` -> 2
learned contexts, ``prompt_num`` 21 / 42, heads on 768 + K channels): every key with its shape,
filled with random values. The numbers of the converted model are checked against a functional
re-implementation of the original's inference forward (class embedding added twice included).
"""
import importlib.util
import json
import os.path as osp
import re
from collections import OrderedDict
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from clamp_hand.engine.original_checkpoint_hook import OriginalCheckpointHook
from clamp_hand.models.converters import convert_original_state_dict, is_original_state_dict
from clamp_hand.models.prompting import tokenize
from clamp_hand.registry import MODELS
from conftest import ROOT, TINY_HAND_SAMPLES_CFG, load_tool, require_hand_samples

ALIAS = osp.join(ROOT, 'configs', 'animal', '2d_kpt_sview_rgb_img', 'topdown_heatmap', 'ap10k',
                 'CLAMP_ViTB_ap10k_256x256_{}.py')
TINY_MODEL = osp.join(ROOT, 'configs', '_base_', 'models', 'clamp_vit-tiny_128x128.py')
TOOL = osp.join(ROOT, 'tools', 'model_converters', 'clamp_original_to_clamp_hand.py')
UNUSED = {'text_projection', 'prompt_encoder.positional_embedding',
          'prompt_encoder.text_projection'}


# ---- the original's state dict, key by key ------------------------------------------------
def _clip_blocks(prefix, width, layers):
    out = OrderedDict()
    for i in range(layers):
        p = f'{prefix}transformer.resblocks.{i}.'
        out.update({p + 'attn.in_proj_weight': (3 * width, width),
                    p + 'attn.in_proj_bias': (3 * width,),
                    p + 'attn.out_proj.weight': (width, width), p + 'attn.out_proj.bias': (width,),
                    p + 'ln_1.weight': (width,), p + 'ln_1.bias': (width,),
                    p + 'mlp.c_fc.weight': (4 * width, width), p + 'mlp.c_fc.bias': (4 * width,),
                    p + 'mlp.c_proj.weight': (width, 4 * width), p + 'mlp.c_proj.bias': (width,),
                    p + 'ln_2.weight': (width,), p + 'ln_2.bias': (width,)})
    return out


def _simple_head(prefix, in_channels, filters, out_channels):
    """mmpose 0.x TopdownHeatmapSimpleHead: (deconv no bias, BN, ReLU) x n, 1x1 conv."""
    out, c = OrderedDict(), in_channels
    for j, f in enumerate(filters):
        out[f'{prefix}deconv_layers.{3 * j}.weight'] = (c, f, 4, 4)
        bn = f'{prefix}deconv_layers.{3 * j + 1}.'
        out.update({bn + 'weight': (f,), bn + 'bias': (f,), bn + 'running_mean': (f,),
                    bn + 'running_var': (f,), bn + 'num_batches_tracked': ()})
        c = f
    out.update({prefix + 'final_layer.weight': (out_channels, c, 1, 1),
                prefix + 'final_layer.bias': (out_channels,)})
    return out


def original_shapes(k, num_contexts, name_length, width=768, layers=12, patch=16, image=256,
                    embed=512, text_width=512, text_layers=12, vocab=49408, dec_width=256,
                    dec_layers=3, head_filters=(256, 256)):
    """Keys and shapes of the original ``CLAMP`` detector's state dict (ViT backbone without
    FPN, ``get_embeddings=True``; defaults: the ViT-B/16 256x256 configs)."""
    s = OrderedDict()
    s.update({'backbone.class_embedding': (width,),
              'backbone.positional_embedding': ((image // patch) ** 2 + 1, width),
              'backbone.conv1.weight': (width, 3, patch, patch),
              'backbone.ln_pre.weight': (width,), 'backbone.ln_pre.bias': (width,)})
    s.update(_clip_blocks('backbone.', width, layers))
    s.update({'backbone.ln_post.weight': (width,), 'backbone.ln_post.bias': (width,),
              'backbone.proj': (width, embed)})
    s.update({'keypoint_head.' + k_: v for k_, v in
              _simple_head('', width + k, head_filters, k).items()})
    s.update({'text_encoder.positional_embedding': (num_contexts + name_length, text_width)})
    s.update(_clip_blocks('text_encoder.', text_width, text_layers))
    s.update({'text_encoder.token_embedding.weight': (vocab, text_width),
              'text_encoder.ln_final.weight': (text_width,),
              'text_encoder.ln_final.bias': (text_width,),
              'text_encoder.text_projection': (text_width, embed)})
    s.update(_clip_blocks('prompt_encoder.', embed, 1))
    s.update({'prompt_encoder.positional_embedding': (k, embed),  # never used by the original
              'prompt_encoder.ln_final.weight': (embed,), 'prompt_encoder.ln_final.bias': (embed,),
              'prompt_encoder.text_projection': (embed, embed)})  # never used either
    d = 'context_decoder.'
    s.update({d + 'memory_proj.0.weight': (embed,), d + 'memory_proj.0.bias': (embed,),
              d + 'memory_proj.1.weight': (dec_width, embed),
              d + 'memory_proj.1.bias': (dec_width,),
              d + 'memory_proj.2.weight': (dec_width,), d + 'memory_proj.2.bias': (dec_width,),
              d + 'text_proj.0.weight': (embed,), d + 'text_proj.0.bias': (embed,),
              d + 'text_proj.1.weight': (dec_width, embed), d + 'text_proj.1.bias': (dec_width,)})
    for i in range(dec_layers):
        p = f'{d}decoder.{i}.'
        for attn in ('self_attn', 'cross_attn'):
            s.update({f'{p}{attn}.{q}_proj.weight': (dec_width, dec_width) for q in 'qkv'})
            s.update({f'{p}{attn}.proj.weight': (dec_width, dec_width),
                      f'{p}{attn}.proj.bias': (dec_width,)})
        for n in ('norm1', 'norm2', 'norm3'):
            s.update({f'{p}{n}.weight': (dec_width,), f'{p}{n}.bias': (dec_width,)})
        s.update({p + 'mlp.0.weight': (4 * dec_width, dec_width),
                  p + 'mlp.0.bias': (4 * dec_width,),
                  p + 'mlp.3.weight': (dec_width, 4 * dec_width), p + 'mlp.3.bias': (dec_width,)})
    s.update({d + 'out_proj.0.weight': (dec_width,), d + 'out_proj.0.bias': (dec_width,),
              d + 'out_proj.1.weight': (embed, dec_width), d + 'out_proj.1.bias': (embed,)})
    s.update({'upconv_head.' + k_: v for k_, v in _simple_head('', k, (k, k), k).items()})
    s.update({'logit_scale': (), 'text_projection': (embed, embed),
              'contexts': (1, num_contexts, text_width), 'gamma': (embed,)})
    return s


def random_state_dict(shapes, seed=0):
    """Random tensors of moderate scale (no saturated softmax or LayerNorm)."""
    g = torch.Generator().manual_seed(seed)
    out = OrderedDict()
    for key, shape in shapes.items():
        if key.endswith('num_batches_tracked'):
            out[key] = torch.tensor(7)
        elif key.endswith('running_var'):
            out[key] = torch.rand(shape, generator=g) + 0.5
        elif re.search(r'(ln_\w+|norm\d|proj\.[02]|_proj\.0|deconv_layers\.\d+)\.weight$', key) \
                and len(shape) == 1:  # LayerNorm / BatchNorm scales
            out[key] = 1 + 0.2 * torch.randn(shape, generator=g)
        elif key == 'gamma':
            out[key] = 0.5 * torch.randn(shape, generator=g)
        else:
            scale = 0.02 if len(shape) != 2 or shape[1] < 32 else shape[1] ** -0.5
            out[key] = scale * torch.randn(shape, generator=g)
    return out


# ---- the original's inference forward, re-implemented functionally ------------------------
def _ln(x, sd, p):
    return F.layer_norm(x, x.shape[-1:], sd[p + '.weight'], sd[p + '.bias'])


def _linear(x, sd, p):
    return F.linear(x, sd[p + '.weight'], sd.get(p + '.bias'))


def _clip_block(x, sd, p, heads, mask=None):
    """x (L, N, C), sequence first as in the original."""
    y = _ln(x, sd, p + '.ln_1')
    y, _ = F.multi_head_attention_forward(
        y, y, y, y.shape[-1], heads, sd[p + '.attn.in_proj_weight'],
        sd[p + '.attn.in_proj_bias'], None, None, False, 0.0, sd[p + '.attn.out_proj.weight'],
        sd[p + '.attn.out_proj.bias'], training=False, need_weights=False, attn_mask=mask)
    x = x + y
    y = _linear(_ln(x, sd, p + '.ln_2'), sd, p + '.mlp.c_fc')
    return x + _linear(y * torch.sigmoid(1.702 * y), sd, p + '.mlp.c_proj')


def _decoder_attention(q, kv, sd, p, heads):
    b, n, c = q.shape
    split = lambda t, w: F.linear(t, sd[w]).reshape(b, t.shape[1], heads, c // heads)  # noqa
    a = torch.einsum('bnkc,bmkc->bknm', split(q, p + '.q_proj.weight'),
                     split(kv, p + '.k_proj.weight')) * (c // heads) ** -0.5
    out = torch.einsum('bknm,bmkc->bnkc', a.softmax(-1), split(kv, p + '.v_proj.weight'))
    return _linear(out.reshape(b, n, c), sd, p + '.proj')


def original_heatmaps(sd, img, tokens, dims):
    """Keypoint heatmaps of the original CLAMP in test mode (no flip) for ``img`` (B,3,H,W)."""
    patch = sd['backbone.conv1.weight'].shape[-1]
    x = F.conv2d(img, sd['backbone.conv1.weight'], stride=patch)
    b, c, h, w = x.shape
    cls_emb = sd['backbone.class_embedding']
    x = torch.cat([cls_emb.expand(b, 1, c), x.flatten(2).transpose(1, 2)], dim=1)
    pos = sd['backbone.positional_embedding']
    pos = torch.cat([(pos[0] + cls_emb)[None], pos[1:]])  # class embedding added a 2nd time
    x = _ln(x + pos, sd, 'backbone.ln_pre').transpose(0, 1)
    feats = []
    for i in range(dims['layers']):
        x = _clip_block(x, sd, f'backbone.transformer.resblocks.{i}', dims['heads'])
        if i in dims['out_indices']:
            feats.append(x[1:].permute(1, 2, 0).reshape(b, c, h, w))
    x = _ln(x.transpose(0, 1), sd, 'backbone.ln_post') @ sd['backbone.proj']
    cls, v = x[:, 0], x[:, 1:].transpose(1, 2).reshape(b, -1, h, w)

    names = F.embedding(tokens, sd['text_encoder.token_embedding.weight'])  # (K, N1, C)
    k, ctx = tokens.shape[0], sd['contexts']
    t = torch.cat([names[:, :1], ctx.expand(k, -1, -1), names[:, 1:]], dim=1)
    t = (t + sd['text_encoder.positional_embedding']).transpose(0, 1)
    mask = torch.full((t.shape[0], t.shape[0]), float('-inf')).triu_(1)
    for i in range(dims['text_layers']):
        t = _clip_block(t, sd, f'text_encoder.transformer.resblocks.{i}', dims['text_heads'], mask)
    t = _ln(t.transpose(0, 1), sd, 'text_encoder.ln_final')
    t = t[torch.arange(k), tokens.argmax(-1) + ctx.shape[1]] @ sd['text_encoder.text_projection']
    t = _clip_block(t[:, None], sd, 'prompt_encoder.transformer.resblocks.0', dims['text_heads'])
    t = _ln(t.transpose(0, 1), sd, 'prompt_encoder.ln_final').expand(b, -1, -1)  # (B, K, D)

    d = 'context_decoder.'
    mem = torch.cat([cls[:, None], v.flatten(2).transpose(1, 2)], dim=1)
    mem = _ln(_linear(_ln(mem, sd, d + 'memory_proj.0'), sd, d + 'memory_proj.1'), sd,
              d + 'memory_proj.2')
    q = _linear(_ln(t, sd, d + 'text_proj.0'), sd, d + 'text_proj.1')
    for i in range(dims['dec_layers']):
        p = f'{d}decoder.{i}'
        y = _ln(q, sd, p + '.norm1')
        q = q + _decoder_attention(y, y, sd, p + '.self_attn', dims['dec_heads'])
        q = q + _decoder_attention(_ln(q, sd, p + '.norm2'), mem, sd, p + '.cross_attn',
                                   dims['dec_heads'])
        q = q + _linear(F.gelu(_linear(_ln(q, sd, p + '.norm3'), sd, p + '.mlp.0')), sd,
                        p + '.mlp.3')
    refined = t + sd['gamma'] * _linear(_ln(q, sd, d + 'out_proj.0'), sd, d + 'out_proj.1')
    score = torch.einsum('bchw,bkc->bkhw', F.normalize(v, dim=1), F.normalize(refined, dim=2))
    x = torch.cat([feats[dims['score_index']], score], dim=1)
    for j in range(2):
        x = F.conv_transpose2d(x, sd[f'keypoint_head.deconv_layers.{3 * j}.weight'], stride=2,
                               padding=1)
        bn = f'keypoint_head.deconv_layers.{3 * j + 1}.'
        x = F.relu(F.batch_norm(x, sd[bn + 'running_mean'], sd[bn + 'running_var'],
                                sd[bn + 'weight'], sd[bn + 'bias'], False, 0.0, 1e-5))
    return F.conv2d(x, sd['keypoint_head.final_layer.weight'], sd['keypoint_head.final_layer.bias'])


# ---- a tiny model of the seed's layout ---------------------------------------------------
SEED_NAMES = Config.fromfile(ALIAS.format('onehand')).model.text_encoder.prompts


def tiny_seed_model():
    """The tiny test model with the seed's prompts, 2 contexts and 11 name tokens; returns
    ``(model, original_shapes, dims)`` of the matching original."""
    cfg = Config.fromfile(TINY_MODEL).model
    cfg.text_encoder.update(prompts=SEED_NAMES, num_contexts=2, name_length=11)
    model = MODELS.build(cfg).eval()
    shapes = original_shapes(21, 2, 11, width=96, layers=4, patch=8, image=128, embed=64,
                             text_width=64, text_layers=2, dec_width=64, dec_layers=1,
                             head_filters=(64, 64))
    dims = dict(layers=4, heads=3, out_indices=(1, 3), text_layers=2, text_heads=2,
                dec_layers=1, dec_heads=2, score_index=-1)
    return model, shapes, dims


def _load_tool():
    spec = importlib.util.spec_from_file_location('clamp_original_to_clamp_hand', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- tests --------------------------------------------------------------------------------
@pytest.mark.parametrize('layout,k', [('onehand', 21), ('twohands', 42)])
def test_full_size_seed_checkpoint_converts_and_loads_strictly(tmp_path, layout, k):
    """A ViT-B/16 checkpoint shaped as Hand-CLAMP's (random values) -> the tool -> the alias
    config's model: every key placed, only the never-used tensors dropped."""
    shapes = original_shapes(k, num_contexts=2, name_length=11)
    original = random_state_dict(shapes)
    src, dst = tmp_path / 'epoch_210.pth', tmp_path / 'converted.pth'
    torch.save(dict(meta=dict(mmpose_version='0.26.0'), state_dict=original), src)
    report = _load_tool().convert(str(src), str(dst))
    assert report.unplaced == {}
    assert set(report.dropped) == UNUSED
    assert report.layout == dict(num_keypoints=k, num_contexts=2, name_length=11)
    assert len(report.placed) == len(shapes) - len(UNUSED)
    del original

    cfg = Config.fromfile(ALIAS.format(layout))
    cfg.model.pretrained = None
    model = MODELS.build(cfg.model)
    converted = torch.load(dst, map_location='cpu', weights_only=True)['state_dict']
    result = model.load_state_dict(converted, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(model.text_encoder.contexts, converted['text_encoder.contexts'])


def test_converted_model_computes_the_originals_heatmaps():
    """Same numbers as the original's forward, incl. its class embedding added twice."""
    model, shapes, dims = tiny_seed_model()
    original = random_state_dict(shapes, seed=1)
    converted, report = convert_original_state_dict(original)
    model.load_state_dict(converted, strict=True)
    img = torch.randn(2, 3, 128, 128, generator=torch.Generator().manual_seed(2))
    tokens = tokenize(SEED_NAMES, 11)
    with torch.no_grad():
        expected = original_heatmaps(original, img, tokens, dims)
        got = model.forward_heatmaps(img)
    assert got.shape == expected.shape == (2, 21, 64, 64)
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-5 * expected.abs().max()), \
        (got - expected).abs().max()


def test_every_converted_tensor_on_the_inference_path_changes_the_heatmaps():
    """Perturb each original tensor that is placed on the inference path: the heatmaps move
    (nothing is placed where it is silently ignored). Training-only tensors (upconv head,
    logit scale, BN counters) and the dropped unused ones are listed as such."""
    model, shapes, _ = tiny_seed_model()
    original = random_state_dict(shapes, seed=3)
    converted, report = convert_original_state_dict(original)
    model.load_state_dict(converted, strict=True)
    params = model.state_dict()  # shares storage (and version counters) with the model
    img = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(4))

    def heatmaps():
        with torch.no_grad():
            return model.forward_heatmaps(img)

    base = heatmaps()
    training_only = [k for k in report.placed
                     if k.startswith('upconv_head.') or k == 'logit_scale'
                     or k.endswith('num_batches_tracked')]
    inference = [k for k in report.placed if k not in training_only]
    assert len(inference) > 100
    g = torch.Generator().manual_seed(5)
    unchanged = []
    for key in inference:
        t = original[key]
        perturbed = dict(original)
        perturbed[key] = t + (0.5 * t.abs().mean() + 1e-2) * torch.randn(t.shape, generator=g)
        new_sd = convert_original_state_dict(perturbed)[0]
        moved = [k for k in new_sd if not torch.equal(new_sd[k], converted[k])]
        with torch.no_grad():
            for k in moved:
                params[k].copy_(new_sd[k])
        if not moved or torch.equal(heatmaps(), base):
            unchanged.append(key)
        with torch.no_grad():
            for k in moved:
                params[k].copy_(converted[k])
    assert unchanged == [], f'perturbing these did not change the heatmaps: {unchanged}'
    assert set(report.dropped) == UNUSED


def test_detection_and_unplaceable_keys():
    shapes = original_shapes(21, 2, 11, width=96, layers=1, patch=8, image=64, embed=64,
                             text_width=64, text_layers=1, vocab=10, dec_width=64, dec_layers=1)
    sd = random_state_dict(shapes)
    assert is_original_state_dict(sd)
    assert is_original_state_dict({'module.' + k: v for k, v in sd.items()})
    converted, report = convert_original_state_dict(sd)
    assert not is_original_state_dict(converted)
    sd['backbone.fpn1.0.weight'] = torch.zeros(3)  # an FPN variant: no place here
    sd['identity_head.foo'] = torch.zeros(1)
    _, report = convert_original_state_dict(sd)
    assert set(report.unplaced) == {'backbone.fpn1.0.weight', 'identity_head.foo'}
    assert 'UNPLACED backbone.fpn1.0.weight' in report.summary()


def test_hook_converts_on_load_and_names_the_settings_on_a_mismatch():
    model, shapes, _ = tiny_seed_model()
    original = random_state_dict(shapes, seed=6)
    meta = dict(config=f"model = dict(type='CLAMP', class_names={SEED_NAMES!r}, context_length=11)")
    checkpoint = dict(meta=meta, state_dict=dict(original))
    runner = SimpleNamespace(model=model, _load_from='epoch_210.pth')
    OriginalCheckpointHook().after_load_checkpoint(runner, checkpoint)
    assert 'head.final_layer.weight' in checkpoint['state_dict']
    model.load_state_dict(checkpoint['state_dict'], strict=True)

    # the same checkpoint under a config with the project's 8 contexts: a clear error
    cfg = Config.fromfile(TINY_MODEL).model
    cfg.text_encoder.update(prompts=SEED_NAMES, num_contexts=8)
    runner = SimpleNamespace(model=MODELS.build(cfg), _load_from='epoch_210.pth')
    with pytest.raises(ValueError, match='num_contexts=2 and model.text_encoder.name_length=11'):
        OriginalCheckpointHook().after_load_checkpoint(runner, dict(state_dict=dict(original)))


def test_tools_test_accepts_an_original_checkpoint(tmp_path, capsys):
    """``tools/test.py CONFIG ORIGINAL.pth`` converts on load (log line) and predicts exactly
    what the checkpoint converted beforehand by the tool predicts."""
    require_hand_samples()
    cfg = Config.fromfile(TINY_HAND_SAMPLES_CFG)
    enc = MODELS.build(cfg.model).text_encoder
    shapes = original_shapes(21, enc.num_contexts, enc.seq_length - enc.num_contexts, width=96,
                             layers=4, patch=8, image=128, embed=64, text_width=64,
                             text_layers=2, dec_width=64, dec_layers=1, head_filters=(64, 64))
    src, dst = tmp_path / 'original.pth', tmp_path / 'converted.pth'
    torch.save(dict(meta={}, state_dict=random_state_dict(shapes, seed=7)), src)
    _load_tool().convert(str(src), str(dst), config=TINY_HAND_SAMPLES_CFG)  # strict fit check

    load_tool('tools/test.py').main([TINY_HAND_SAMPLES_CFG, str(src), '--work-dir',
                                     str(tmp_path / 'w1'), '--out', str(tmp_path / 'p1.json')])
    stdout = capsys.readouterr().out  # (the tool's main in this process: its console output)
    assert 'converted an original CLAMP / Hand-CLAMP checkpoint on load' in stdout
    assert 'AP' in stdout.strip().splitlines()[-2]
    from clamp_hand.apis.runner import test
    metrics = test(TINY_HAND_SAMPLES_CFG, str(dst), work_dir=str(tmp_path / 'w2'),
                   out=str(tmp_path / 'p2.json'))
    p1, p2 = (json.load(open(tmp_path / f'p{i}.json')) for i in (1, 2))
    assert len(p1) == len(p2) == 12
    by_image = lambda preds: sorted(preds, key=lambda r: r['image_id'])  # noqa: E731
    for a, b in zip(by_image(p1), by_image(p2)):
        assert a['image_id'] == b['image_id']
        assert np.allclose(a['keypoints'], b['keypoints'], atol=1e-3)
    assert f"{metrics['coco/AP']:8.4f}" in stdout.strip().splitlines()[-1]
