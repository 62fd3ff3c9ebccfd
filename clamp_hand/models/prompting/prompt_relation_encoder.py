"""Prompt relation encoder: one (or more) transformer layers over the K prompt embeddings,
so that each keypoint's prompt can take its neighbours into account."""
import torch
from open_clip.transformer import LayerNorm, QuickGELU, Transformer
from torch import nn

from clamp_hand.registry import MODELS
from ..attention import check_attention_impl, residual_block


@MODELS.register_module()
class PromptRelationEncoder(nn.Module):
    """``(..., K, C) -> (..., K, C)`` self-attention over prompts (no positional embedding:
    the prompts are told apart by their text)."""

    def __init__(self, width: int = 512, layers: int = 1, heads: int = 8, quick_gelu: bool = True,
                 attn_impl: str = 'sdpa'):
        super().__init__()
        self.attn_impl = check_attention_impl(attn_impl, 'prompt_encoder.attn_impl')
        self.transformer = Transformer(width, layers, heads,
                                       act_layer=QuickGELU if quick_gelu else nn.GELU,
                                       norm_layer=LayerNorm)
        self.ln_final = LayerNorm(width)

    def forward(self, prompts: torch.Tensor) -> torch.Tensor:
        squeeze = prompts.dim() == 2
        x = prompts.unsqueeze(0) if squeeze else prompts
        for blk in self.transformer.resblocks:
            x = residual_block(blk, x, impl=self.attn_impl)
        x = self.ln_final(x)
        return x.squeeze(0) if squeeze else x
