"""Context decoder: the prompts cross-attend to the image's visual tokens, and the result
refines them: ``t' = t + gamma * decoder(t, [cls; v])`` with a learnable per-channel gamma."""
import torch
from torch import nn

from clamp_hand.registry import MODELS
from ..attention import attend


class MultiHeadAttention(nn.Module):
    """Multi-head attention, ``q (B,N,C), kv (B,M,C) -> (B,N,C)``; ``attn_impl`` picks the
    kernel (``'sdpa'``: fused; ``'naive'``: see ``models/attention.py``)."""

    def __init__(self, dim: int, heads: int, proj_drop: float = 0.0):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, dim, bias=False)
        self.v_proj = nn.Linear(dim, dim, bias=False)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.attn_impl = 'sdpa'

    def forward(self, q: torch.Tensor, kv: torch.Tensor) -> torch.Tensor:
        b, n, c = q.shape
        split = lambda t: t.reshape(b, -1, self.heads, c // self.heads).transpose(1, 2)  # noqa: E731
        out = attend(split(self.q_proj(q)), split(self.k_proj(kv)), split(self.v_proj(kv)),
                     impl=self.attn_impl)
        return self.proj_drop(self.proj(out.transpose(1, 2).reshape(b, n, c)))


class DecoderLayer(nn.Module):
    """Pre-norm transformer decoder layer: self-attention, cross-attention, MLP."""

    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.self_attn = MultiHeadAttention(dim, heads, dropout)
        self.cross_attn = MultiHeadAttention(dim, heads, dropout)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 4), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(dim * 4, dim))

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        y = self.norm1(x)
        x = x + self.self_attn(y, y)
        x = x + self.cross_attn(self.norm2(x), memory)
        return x + self.dropout(self.mlp(self.norm3(x)))


@MODELS.register_module()
class ContextDecoder(nn.Module):
    """Refine prompts with visual context.

    Args:
        visual_dim: channels of prompts and visual tokens (CLIP embed dim).
        width, heads, layers, dropout: the decoder's own (narrower) transformer.
        gamma_init: initial value of the per-channel residual scale.

    Forward ``prompts (B,K,C), visual (B,M,C) -> (B,K,C)``.
    """

    def __init__(self, visual_dim: int = 512, width: int = 256, heads: int = 4, layers: int = 3,
                 dropout: float = 0.1, gamma_init: float = 1e-3):
        super().__init__()
        self.memory_proj = nn.Sequential(nn.LayerNorm(visual_dim), nn.Linear(visual_dim, width),
                                         nn.LayerNorm(width))
        self.text_proj = nn.Sequential(nn.LayerNorm(visual_dim), nn.Linear(visual_dim, width))
        self.decoder = nn.ModuleList(DecoderLayer(width, heads, dropout) for _ in range(layers))
        self.out_proj = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, visual_dim))
        self.gamma = nn.Parameter(torch.full((visual_dim,), gamma_init))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, prompts: torch.Tensor, visual: torch.Tensor) -> torch.Tensor:
        memory = self.memory_proj(visual)
        x = self.text_proj(prompts)
        for layer in self.decoder:
            x = layer(x, memory)
        return prompts + self.gamma * self.out_proj(x)
