"""Dense CLIP ViT image backbone built on open_clip's ``VisionTransformer``.

Parameter names are open_clip's (``conv1``, ``class_embedding``, ``positional_embedding``,
``ln_pre``, ``transformer.resblocks.N.*``, ``ln_post``, ``proj``), so CLIP checkpoints load with
a plain key prefix strip. What open_clip's forward lacks and this module adds: intermediate
block outputs as feature maps, the projected embedding of *every* token (not only the pooled
one), drop path per block, and activation checkpointing.
"""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from open_clip.transformer import LayerNorm, QuickGELU, VisionTransformer
from torch import nn
from torch.utils.checkpoint import checkpoint

from clamp_hand.registry import MODELS
from ..attention import check_attention_impl, residual_block
from ..drop_path import DropPath


def resize_positional_embedding(pos: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
    """Bilinearly resize a ``(1 + h*w, C)`` ViT positional embedding to ``(1 + H*W, C)``.

    The class position (row 0) is kept as is; the source grid must be square.
    """
    cls_pos, patch_pos = pos[:1], pos[1:]
    old = int(round(math.sqrt(patch_pos.shape[0])))
    if old * old != patch_pos.shape[0]:
        raise ValueError(f'positional embedding with {patch_pos.shape[0]} patch positions is '
                         'not a square grid')
    if (old, old) == tuple(grid):
        return pos
    c = pos.shape[1]
    patch_pos = patch_pos.reshape(1, old, old, c).permute(0, 3, 1, 2)
    patch_pos = F.interpolate(patch_pos.float(), size=tuple(grid), mode='bilinear',
                              align_corners=False).to(pos.dtype)
    return torch.cat([cls_pos, patch_pos.permute(0, 2, 3, 1).reshape(-1, c)], dim=0)


def conv_stem(channels: Sequence[int], patch_size: int) -> nn.Sequential:
    """One stage (3x3 stride-2 conv + BatchNorm + ReLU) per entry of ``channels``; their number
    must halve ``patch_size`` down to 1. Input ``(B, 3, H, W)`` -> ``(B, channels[-1], H/p,
    W/p)``; stage i outputs ``(B, channels[i], H/2^(i+1), W/2^(i+1))``."""
    if len(channels) == 0 or 2 ** len(channels) != patch_size:
        raise ValueError(f'backbone.stem_channels {tuple(channels)} needs one entry per '
                         f'stride-2 step of patch_size {patch_size} (log2 of it), e.g. '
                         f'{int(math.log2(patch_size)) if patch_size > 1 else 0} entries')
    stages, c_in = [], 3
    for c in channels:
        stages.append(nn.Sequential(nn.Conv2d(c_in, c, 3, stride=2, padding=1, bias=False),
                                    nn.BatchNorm2d(c), nn.ReLU(inplace=True)))
        c_in = c
    return nn.Sequential(*stages)


@MODELS.register_module()
class CLIPViT(VisionTransformer):
    """CLIP ViT returning multi-level feature maps and dense projected embeddings.

    Args:
        image_size: input size (H, W) or int; the positional embedding is sized for it.
        out_indices: transformer blocks whose outputs are returned as feature maps.
        drop_path_rate: stochastic depth, linearly increasing over the blocks (0 for the first).
        drop_path_skip: dropped samples skip the block's branches (``models/drop_path.py``:
            ~20 % less backbone work in training at rate 0.4); False multiplies by the mask as
            timm's ``DropPath`` (same numbers; for on/off benchmarks).
        quick_gelu: OpenAI CLIP weights use QuickGELU; most open_clip ones use GELU.
        with_checkpoint: activation checkpointing per block in training (keeps only the block
            inputs; recomputes each block in the backward: less memory, ~one more forward).
        attn_impl: ``'sdpa'`` (fused) or ``'naive'`` attention (see ``models/attention.py``).
        stem_channels: ``None`` (CLIP's patch embedding: one ``patch_size`` x ``patch_size``
            convolution) or the widths of a convolutional stem of 3x3 stride-2 convolutions
            (BatchNorm, ReLU), one per halving of ``patch_size``, then a 1x1 convolution to
            ``width`` (Xiao et al., "Early convolutions help transformers see better", 2021).
            For models trained from scratch on little data; CLIP weights need ``None``.
        stem_out: also return the first stem stage's map ``(B, stem_channels[0], H/2, W/2)``
            as ``feats[0]`` (for heads with a high-resolution skip input).

    Forward ``x (B,3,H,W)`` returns ``(feats, cls, dense)``:
        feats: tuple of ``(B, width, H/p, W/p)``, one per ``out_indices`` (after the stem
            map when ``stem_out``);
        cls:   ``(B, output_dim)`` projected class token;
        dense: ``(B, output_dim, H/p, W/p)`` projected patch tokens (ln_post + proj).
    """

    def __init__(self,
                 image_size=224,
                 patch_size: int = 16,
                 width: int = 768,
                 layers: int = 12,
                 heads: int = 12,
                 mlp_ratio: float = 4.0,
                 output_dim: int = 512,
                 out_indices: Sequence[int] = (3, 5, 7, 11),
                 drop_path_rate: float = 0.0,
                 quick_gelu: bool = True,
                 with_checkpoint: bool = False,
                 attn_impl: str = 'sdpa',
                 stem_channels: Optional[Sequence[int]] = None,
                 stem_out: bool = False,
                 drop_path_skip: bool = True):
        super().__init__(image_size=image_size, patch_size=patch_size, width=width,
                         layers=layers, heads=heads, mlp_ratio=mlp_ratio, output_dim=output_dim,
                         act_layer=QuickGELU if quick_gelu else nn.GELU, norm_layer=LayerNorm)
        out_indices = [i % layers for i in out_indices]
        if len(set(out_indices)) != len(out_indices):
            raise ValueError(f'backbone.out_indices {out_indices} has duplicates')
        self.out_indices = tuple(out_indices)
        self.width = width
        rates = torch.linspace(0, drop_path_rate, layers).tolist()
        self.drop_paths = nn.ModuleList(DropPath(r, drop_path_skip) for r in rates)
        self.with_checkpoint = with_checkpoint
        self.attn_impl = check_attention_impl(attn_impl, 'backbone.attn_impl')
        self.stem = None
        if stem_channels is not None:
            self.stem = conv_stem(stem_channels, patch_size)
            self.conv1 = nn.Conv2d(stem_channels[-1], width, 1)  # replaces the patch conv
        elif stem_out:
            raise ValueError('backbone.stem_out=True needs a convolutional stem: set '
                             'backbone.stem_channels')
        self.stem_out = stem_out
        self.stem_out_channels = stem_channels[0] if stem_out else 0

    def _block(self, i: int, x: torch.Tensor) -> torch.Tensor:
        return residual_block(self.transformer.resblocks[i], x, impl=self.attn_impl,
                              drop_path=self.drop_paths[i])

    def forward(self, x: torch.Tensor):
        b = x.shape[0]
        feats = []
        if self.stem is not None:
            for i, stage in enumerate(self.stem):
                x = stage(x)
                if self.stem_out and i == 0:
                    feats.append(x)
        x = self.conv1(x)  # (B, width, h, w)
        h, w = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)  # (B, h*w, width)
        cls = self.class_embedding.to(x.dtype).expand(b, 1, -1)
        pos = self.positional_embedding
        if (h, w) != tuple(self.grid_size):  # an input size other than the configured one
            pos = resize_positional_embedding(pos, (h, w))
        x = self.ln_pre(torch.cat([cls, x], dim=1) + pos.to(x.dtype))  # (B, 1+h*w, width)

        for i in range(len(self.transformer.resblocks)):
            if self.with_checkpoint and self.training and x.requires_grad:
                x = checkpoint(self._block, i, x, use_reentrant=False)
            else:
                x = self._block(i, x)
            if i in self.out_indices:
                feats.append(x[:, 1:].transpose(1, 2).reshape(b, self.width, h, w))

        x = self.ln_post(x) @ self.proj  # (B, 1+h*w, output_dim)
        cls_emb = x[:, 0]
        dense = x[:, 1:].transpose(1, 2).reshape(b, -1, h, w)
        return tuple(feats), cls_emb, dense
