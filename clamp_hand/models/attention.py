"""Multi-head attention with one switch for the kernel, used by every transformer of the model.

``impl='sdpa'`` (default) runs ``F.scaled_dot_product_attention`` (fused kernels: flash /
memory-efficient on CUDA, a fused softmax on CPU); ``impl='naive'`` writes out
``softmax(Q K^T / sqrt(d) + mask) V`` with the full attention matrix in memory, the pre-SDPA way.
Both give the same numbers (to float rounding); ``naive`` exists for on/off benchmarks and as
a reference. Modules holding an ``attn_impl`` attribute read it at every forward, so
:func:`set_attention_impl` switches a built model.

The open_clip towers keep their ``nn.MultiheadAttention`` parameters (``in_proj_weight``,
``in_proj_bias``, ``out_proj``), so CLIP checkpoints load unchanged; only the forward is ours.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .drop_path import DropPath

ATTENTION_IMPLS = ('sdpa', 'naive')


def check_attention_impl(impl: str, where: str = 'attn_impl') -> str:
    if impl not in ATTENTION_IMPLS:
        raise ValueError(f'{where}={impl!r} is not an attention implementation; use one of '
                         f'{ATTENTION_IMPLS}')
    return impl


def attend(q: Tensor, k: Tensor, v: Tensor, attn_mask: Optional[Tensor] = None,
           impl: str = 'sdpa') -> Tensor:
    """``q (B,H,N,D), k/v (B,H,M,D)``, additive float ``attn_mask`` broadcastable to
    ``(N,M)`` -> ``(B,H,N,D)``."""
    if attn_mask is not None:
        attn_mask = attn_mask.to(q.dtype)
    if impl == 'sdpa':
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
    if impl != 'naive':
        check_attention_impl(impl)
    scores = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)  # (B,H,N,M)
    if attn_mask is not None:
        scores = scores + attn_mask
    return scores.softmax(dim=-1) @ v


def mha_self_attention(attn: nn.MultiheadAttention, x: Tensor,
                       attn_mask: Optional[Tensor] = None, impl: str = 'sdpa') -> Tensor:
    """Self-attention with the weights of a batch-first ``nn.MultiheadAttention``:
    ``x (B,N,C) -> (B,N,C)`` (no dropout: CLIP's attention has none)."""
    b, n, c = x.shape
    heads = attn.num_heads
    q, k, v = F.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    split = lambda t: t.reshape(b, n, heads, c // heads).transpose(1, 2)  # noqa: E731
    out = attend(split(q), split(k), split(v), attn_mask, impl)  # (B,H,N,D)
    return attn.out_proj(out.transpose(1, 2).reshape(b, n, c))


def residual_block(blk: nn.Module, x: Tensor, attn_mask: Optional[Tensor] = None,
                   impl: str = 'sdpa', drop_path: Optional[DropPath] = None) -> Tensor:
    """One pre-norm open_clip ``ResidualAttentionBlock`` (self-attention), ``x (B,N,C)``,
    with ``drop_path`` (stochastic depth, ``models/drop_path.py``: dropped samples skip the
    branch) on each residual branch, an independent draw for each."""
    def attn_branch(t: Tensor) -> Tensor:
        return blk.ls_1(mha_self_attention(blk.attn, blk.ln_1(t), attn_mask, impl))

    def mlp_branch(t: Tensor) -> Tensor:
        return blk.ls_2(blk.mlp(blk.ln_2(t)))

    if drop_path is None:
        x = x + attn_branch(x)
        return x + mlp_branch(x)
    return drop_path(drop_path(x, attn_branch), mlp_branch)


def set_attention_impl(model: nn.Module, impl: str) -> int:
    """Set ``attn_impl`` on every submodule that has one; returns how many were set."""
    check_attention_impl(impl)
    count = 0
    for m in model.modules():
        if hasattr(m, 'attn_impl'):
            m.attn_impl = impl
            count += 1
    return count


__all__ = ['ATTENTION_IMPLS', 'attend', 'check_attention_impl', 'mha_self_attention',
           'residual_block', 'set_attention_impl']
