"""The convolutional stem of CLIPViT (backbone.stem_channels) and its skip into the heatmap head
(backbone.stem_out), as the quickstart configs use them."""
import os.path as osp

import pytest
import torch

from clamp_hand.apis.runner import load_config
from clamp_hand.models.backbones.clip_vit import CLIPViT
from clamp_hand.models.heads.heatmap_head import DeconvHeatmapHead
from clamp_hand.registry import MODELS, register_all_modules

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUICKSTART = osp.join(ROOT, 'configs', 'synthhands',
                      'clamp_vit-tiny-convstem_1xb32-10e_synthhands-easy-1hand-64x64.py')
TEXT_FREE = QUICKSTART.replace('clamp_vit-tiny-convstem', 'vit-tiny-convstem').replace(
    '.py', '_text-free.py')


def _vit(**kw):
    return CLIPViT(image_size=64, patch_size=8, width=32, layers=2, heads=2, output_dim=16,
                   out_indices=(0, 1), **kw)


def test_stem_shapes_and_stride2_map():
    x = torch.randn(2, 3, 64, 64)
    feats, cls, dense = _vit(stem_channels=(8, 16, 32))(x)
    assert [tuple(f.shape) for f in feats] == [(2, 32, 8, 8)] * 2
    feats, cls, dense = _vit(stem_channels=(8, 16, 32), stem_out=True)(x)
    assert [tuple(f.shape) for f in feats] == [(2, 8, 32, 32), (2, 32, 8, 8), (2, 32, 8, 8)]
    assert cls.shape == (2, 16) and dense.shape == (2, 16, 8, 8)


def test_stem_errors_name_the_option():
    with pytest.raises(ValueError, match='stem_channels.*patch_size 8'):
        _vit(stem_channels=(8, 16))
    with pytest.raises(ValueError, match='stem_out=True needs.*stem_channels'):
        _vit(stem_out=True)
    head = DeconvHeatmapHead(32, 5, deconv_out_channels=(16, 16), skip_channels=8)
    with pytest.raises(ValueError, match='skip map of 8 channels at \\(32, 32\\)'):
        head(torch.randn(1, 32, 8, 8), torch.randn(1, 8, 16, 16))
    with pytest.raises(ValueError, match='got None'):
        head(torch.randn(1, 32, 8, 8))


@pytest.mark.parametrize('path', [QUICKSTART, TEXT_FREE], ids=['clamp', 'text-free'])
def test_quickstart_models_feed_the_stem_map_to_the_head(path):
    """The head's heatmaps depend on the stride-2 stem map, and a heatmap loss alone trains
    the stem through both routes (tokens and skip)."""
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(load_config(path).model)
    model.init_weights()
    assert model.head.skip_channels == 24
    model.eval()
    x = torch.randn(2, 3, 64, 64)
    feats, _, _ = model.backbone(x)
    skip = model.skip_feature(feats)
    assert skip is feats[0] and skip.shape == (2, 24, 32, 32)
    with torch.no_grad():
        base = model.forward_heatmaps(x)
        head_in = feats[-1]
        if path != TEXT_FREE:  # the CLAMP head also takes the score maps
            head_in = torch.cat([feats[-1], model.forward_features(x)['score_maps']], dim=1)
        assert torch.allclose(model.head(head_in, skip), base)
        assert not torch.allclose(model.head(head_in, torch.zeros_like(skip)), base)
    model.train()
    model.forward_heatmaps(x).pow(2).mean().backward()
    assert model.backbone.stem[0][0].weight.grad.abs().sum() > 0
    assert model.head.skip_fuse[0].weight.grad.abs().sum() > 0
