"""Keypoint prompts: a frozen CLIP text transformer with learnable context tokens.

Prompt k is the token sequence ``[SOT] ctx_1 .. ctx_n <name_k tokens> [EOT] pad..``: the
``n`` context vectors are learned and shared by all keypoints (CoOp/DenseCLIP style), the rest
are CLIP token embeddings of the keypoint name. The text weights are frozen
(``requires_grad=False``: no weight gradients, no optimizer state) while gradients still flow
*through* them to the context vectors.

Shared prefix (``share_prefix=True``, default): the attention is causal, so the first
``1 + n`` positions (SOT and the contexts) hold the same values in all K prompts. They are
computed once, as one sequence, and the K name parts attend to its keys and values: exactly
the same result as K full sequences, for ``1 + n + K * L_name`` instead of
``K * (1 + n + L_name)`` token positions (ViT-B/16, 21 AssemblyHands prompts: 114 vs 294).
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from open_clip.tokenizer import SimpleTokenizer
from open_clip.transformer import LayerNorm, QuickGELU, Transformer
from torch import nn

from clamp_hand.registry import MODELS
from ..attention import attend, check_attention_impl, residual_block

_TOKENIZER = None


def tokenize(names: Sequence[str], length: Optional[int] = None) -> torch.Tensor:
    """CLIP BPE tokens ``(K, length)`` with SOT/EOT, zero padded; ``length=None`` fits the
    longest name exactly."""
    global _TOKENIZER
    if _TOKENIZER is None:
        _TOKENIZER = SimpleTokenizer()
    ids = [_TOKENIZER.encode(n) for n in names]
    need = max(len(i) for i in ids) + 2
    length = length or need
    if need > length:
        longest = names[max(range(len(ids)), key=lambda k: len(ids[k]))]
        raise ValueError(f'prompt {longest!r} needs {need} tokens but name_length is {length}; '
                         'raise text_encoder.name_length or shorten the prompt')
    out = torch.zeros(len(names), length, dtype=torch.long)
    for k, i in enumerate(ids):
        seq = [_TOKENIZER.sot_token_id] + i + [_TOKENIZER.eot_token_id]
        out[k, :len(seq)] = torch.tensor(seq)
    return out


@MODELS.register_module()
class KeypointPromptEncoder(nn.Module):
    """Encode K keypoint names into prompt embeddings ``(K, embed_dim)``.

    Args:
        prompts: the K keypoint names, in the dataset's keypoint order.
        num_contexts: learnable context tokens placed before each name.
        name_length: token slots for a name incl. SOT/EOT (default: fit the longest prompt).
        width, layers, heads, embed_dim, vocab_size: CLIP text tower shape (ViT-B/16 defaults).
        quick_gelu: OpenAI CLIP weights use QuickGELU.
        frozen: freeze the CLIP weights (the context vectors always train).
        attn_impl: ``'sdpa'`` (fused) or ``'naive'`` attention (see ``models/attention.py``).
        share_prefix: encode the common SOT + context prefix once (see the module docstring);
            False runs K full sequences (same numbers, for on/off benchmarks).
    """

    def __init__(self,
                 prompts: Sequence[str],
                 num_contexts: int = 8,
                 name_length: Optional[int] = None,
                 # the CLIP text tower's shape (ViT-B/16 defaults)
                 width: int = 512, layers: int = 12, heads: int = 8, embed_dim: int = 512,
                 vocab_size: int = 49408, max_positions: int = 77,
                 quick_gelu: bool = True,
                 frozen: bool = True,
                 attn_impl: str = 'sdpa',
                 share_prefix: bool = True):
        super().__init__()
        if not prompts or not all(isinstance(p, str) and p.strip() for p in prompts):
            raise ValueError(f'text_encoder.prompts must be a list of non-empty names, got {prompts!r}')
        self.prompts = list(prompts)
        tokens = tokenize(self.prompts, name_length)
        self.num_contexts = num_contexts
        self.seq_length = tokens.shape[1] + num_contexts
        if self.seq_length > max_positions:
            raise ValueError(f'{num_contexts} contexts + {tokens.shape[1]} name tokens exceed '
                             f'CLIP\'s {max_positions} text positions')
        self.register_buffer('tokens', tokens, persistent=False)
        self.register_buffer('eot_index', tokens.argmax(dim=-1) + num_contexts, persistent=False)
        causal = torch.full((self.seq_length, self.seq_length), float('-inf')).triu_(1)
        self.register_buffer('attn_mask', causal, persistent=False)

        self.token_embedding = nn.Embedding(vocab_size, width)
        self.positional_embedding = nn.Parameter(torch.empty(self.seq_length, width))
        self.transformer = Transformer(width, layers, heads,
                                       act_layer=QuickGELU if quick_gelu else nn.GELU,
                                       norm_layer=LayerNorm)
        self.ln_final = LayerNorm(width)
        self.text_projection = nn.Parameter(torch.empty(width, embed_dim))
        self.contexts = nn.Parameter(torch.empty(num_contexts, width))
        self.embed_dim = embed_dim
        self.attn_impl = check_attention_impl(attn_impl, 'text_encoder.attn_impl')
        self.share_prefix = share_prefix
        self._init_weights(width, layers)
        if frozen:
            for name, p in self.named_parameters():
                p.requires_grad_(name == 'contexts')

    def _init_weights(self, width: int, layers: int) -> None:
        # CLIP's text tower init (replaced when pretrained weights are loaded).
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        nn.init.trunc_normal_(self.contexts, std=0.02)
        attn_std, proj_std, fc_std = width ** -0.5, (width ** -0.5) * (2 * layers) ** -0.5, (2 * width) ** -0.5
        for blk in self.transformer.resblocks:
            nn.init.normal_(blk.attn.in_proj_weight, std=attn_std)
            nn.init.normal_(blk.attn.out_proj.weight, std=proj_std)
            nn.init.normal_(blk.mlp.c_fc.weight, std=fc_std)
            nn.init.normal_(blk.mlp.c_proj.weight, std=proj_std)
        nn.init.normal_(self.text_projection, std=width ** -0.5)

    @property
    def num_prompts(self) -> int:
        return len(self.prompts)

    def forward(self) -> torch.Tensor:
        """Returns the prompt embeddings ``(K, embed_dim)``; one pass for all K prompts."""
        names = self.token_embedding(self.tokens)  # (K, L_name, width), SOT first
        k = names.shape[0]
        if self.share_prefix:
            return self._encode_shared_prefix(names)
        ctx = self.contexts.to(names.dtype).expand(k, -1, -1)  # (K, n_ctx, width)
        x = torch.cat([names[:, :1], ctx, names[:, 1:]], dim=1)  # (K, L, width)
        return self._encode(x, self.eot_index)

    def _encode_shared_prefix(self, names: torch.Tensor) -> torch.Tensor:
        """``names (K, L_name, width)`` -> ``(K, embed_dim)``, with the SOT + context prefix
        ``(1, P, width)`` computed once and the K name parts ``(K, R, width)`` attending to it."""
        k, length = names.shape[0], self.seq_length
        prefix = torch.cat([names[:1, :1], self.contexts.to(names.dtype)[None]], dim=1)
        p = prefix.shape[1]
        pos = self.positional_embedding.to(names.dtype)
        prefix, rest = prefix + pos[:p], names[:, 1:] + pos[p:length]
        mask = self.attn_mask[:length, :length]
        for blk in self.transformer.resblocks:
            attn = blk.attn
            heads = lambda t: t.reshape(t.shape[0], t.shape[1], attn.num_heads, -1).transpose(1, 2)  # noqa: E731,E501
            merge = lambda t: t.transpose(1, 2).flatten(2)  # noqa: E731
            qp, kp, vp = F.linear(blk.ln_1(prefix), attn.in_proj_weight, attn.in_proj_bias).chunk(3, -1)
            qr, kr, vr = F.linear(blk.ln_1(rest), attn.in_proj_weight, attn.in_proj_bias).chunk(3, -1)
            out_p = attend(heads(qp), heads(kp), heads(vp), mask[:p, :p], self.attn_impl)
            kr = torch.cat([kp.expand(k, -1, -1), kr], dim=1)  # (K, P + R, width)
            vr = torch.cat([vp.expand(k, -1, -1), vr], dim=1)
            out_r = attend(heads(qr), heads(kr), heads(vr), mask[p:, :], self.attn_impl)
            prefix = prefix + blk.ls_1(attn.out_proj(merge(out_p)))
            rest = rest + blk.ls_1(attn.out_proj(merge(out_r)))
            prefix = prefix + blk.ls_2(blk.mlp(blk.ln_2(prefix)))
            rest = rest + blk.ls_2(blk.mlp(blk.ln_2(rest)))
        eot = rest[torch.arange(k, device=rest.device), self.eot_index - p]  # (K, width)
        return self.ln_final(eot) @ self.text_projection

    def encode_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Plain CLIP text encoding (no contexts) of token ids ``(N, L)``, ``L <= seq_length``,
        EOT = the largest id of each row -> ``(N, embed_dim)``. Equals CLIP's ``encode_text``
        on the same ids zero-padded to any length (the attention is causal)."""
        if tokens.shape[1] > self.seq_length:
            raise ValueError(f'{tokens.shape[1]} tokens exceed the {self.seq_length} text '
                             'positions of this encoder')
        return self._encode(self.token_embedding(tokens), tokens.argmax(dim=-1))

    def _encode(self, x: torch.Tensor, eot_index: torch.Tensor) -> torch.Tensor:
        """Token embeddings ``(N, L, width)`` -> projected EOT features ``(N, embed_dim)``."""
        n, length = x.shape[:2]
        x = x + self.positional_embedding[:length].to(x.dtype)
        mask = self.attn_mask[:length, :length]
        for blk in self.transformer.resblocks:
            x = residual_block(blk, x, mask, self.attn_impl)
        x = self.ln_final(x[torch.arange(n, device=x.device), eot_index])  # (N, width)
        return x @ self.text_projection
