"""Checkpoints of the original CLAMP (CVPR 2023, mmpose 0.x) and of Hand-CLAMP (the seed of this
project, the same code with hand prompts) -> this project's ``CLAMPEstimator``.

The original ``CLAMP`` detector holds these modules (``model.<name>``)::

    backbone.*         CLIPVisionTransformer: conv1, class_embedding, positional_embedding,
                       ln_pre, transformer.resblocks.N.*, ln_post, proj (use_fpn=False)
    text_encoder.*     CLIPTextContextEncoder: token_embedding, positional_embedding
                       (n_contexts + name_length rows), transformer.resblocks.N.*, ln_final,
                       text_projection
    prompt_encoder.*   PromptEncoderWithoutPositionemb: transformer.resblocks.N.*, ln_final;
                       its positional_embedding and text_projection are never used
    context_decoder.*  ContextDecoder: memory_proj, text_proj, decoder.N.*, out_proj
    keypoint_head.*    TopdownHeatmapSimpleHead: deconv_layers.{0,1,3,4}, final_layer
    upconv_head.*      the same head on the score maps (the spatial loss)
    contexts           (1, n_contexts, width) learned context tokens
    gamma              (embed_dim,) residual scale of the context decoder
    logit_scale        () temperature of the contrastive loss
    text_projection    (embed_dim, visual_dim): only used by the training loss when the text
                       and visual embeddings differ in width (never in the released configs)

Every block of the three transformers has the same names here (open_clip's layout), so most
keys keep their name; what moves is listed in ``_MOVES``. One piece of math differs: the
original's ViT adds ``class_embedding`` to the class token *and* to its positional embedding
(the class row gets it twice). This project's ViT adds it once, so the converter folds one
copy into ``positional_embedding[0]``; the converted model computes the same numbers.
"""
import ast
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch

_BLOCK = (r'transformer\.resblocks\.\d+\.'
          r'(attn\.(in_proj_weight|in_proj_bias|out_proj\.(weight|bias))'
          r'|ln_[12]\.(weight|bias)|mlp\.c_(fc|proj)\.(weight|bias))')
_HEAD = (r'(deconv_layers\.\d+\.(weight|bias|running_mean|running_var|num_batches_tracked)'
         r'|final_layer\.(weight|bias))')

# original module prefix -> (this project's prefix, names the original module has there)
_MODULES = {
    'backbone.': ('backbone.', r'(conv1\.weight|class_embedding|positional_embedding|proj'
                  r'|ln_(pre|post)\.(weight|bias)|' + _BLOCK + ')'),
    'text_encoder.': ('text_encoder.', r'(token_embedding\.weight|positional_embedding'
                      r'|text_projection|ln_final\.(weight|bias)|' + _BLOCK + ')'),
    'prompt_encoder.': ('prompt_encoder.', r'(ln_final\.(weight|bias)|' + _BLOCK + ')'),
    'context_decoder.': ('context_decoder.',
                         r'((memory_proj\.[012]|text_proj\.[01]|out_proj\.[01])\.(weight|bias)'
                         r'|decoder\.\d+\.((self|cross)_attn\.'
                         r'([qkv]_proj\.weight|proj\.(weight|bias))'
                         r'|norm[123]\.(weight|bias)|mlp\.[03]\.(weight|bias)))'),
    'keypoint_head.': ('head.', _HEAD),
    'upconv_head.': ('score_head.', _HEAD),
}
# single tensors of the detector itself
_MOVES = {
    'contexts': 'text_encoder.contexts',
    'gamma': 'context_decoder.gamma',
    'logit_scale': 'loss_feature.logit_scale',
}
# tensors the original holds but never uses at inference (nor, in its configs, in training)
_UNUSED = {
    'text_projection': 'CLAMP.text_projection: applied only when the text and visual '
                       'embeddings differ in width (512 = 512 in every released config)',
    'prompt_encoder.positional_embedding': 'created but never added in the original forward',
    'prompt_encoder.text_projection': 'created but never applied in the original forward',
}


@dataclass
class ConversionReport:
    """What happened to every key of the original state dict."""
    placed: Dict[str, str] = field(default_factory=dict)    # original key -> new key
    dropped: Dict[str, str] = field(default_factory=dict)   # unused original key -> why
    unplaced: Dict[str, str] = field(default_factory=dict)  # key with no place here -> why
    notes: List[str] = field(default_factory=list)
    layout: Dict[str, int] = field(default_factory=dict)    # num_keypoints, num_contexts, ...

    def summary(self) -> str:
        lines = [f'placed {len(self.placed)} tensors; dropped {len(self.dropped)} unused; '
                 f'{len(self.unplaced)} could not be placed']
        if self.layout:
            lines.append('layout: ' + ', '.join(f'{k}={v}' for k, v in self.layout.items()))
        lines += [f'  dropped {k}: {why}' for k, why in self.dropped.items()]
        lines += [f'  UNPLACED {k}: {why}' for k, why in self.unplaced.items()]
        lines += [f'  note: {n}' for n in self.notes]
        return '\n'.join(lines)


def _strip_module(sd: dict) -> dict:
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in sd.items()}


def state_dict_of(checkpoint: dict) -> dict:
    """The state dict inside an mmcv/mmengine checkpoint (or the dict itself)."""
    sd = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(sd, dict):
        raise ValueError('checkpoint holds no state dict (expected a dict with "state_dict")')
    return sd


def is_original_state_dict(sd: dict) -> bool:
    """True for a state dict of the original CLAMP detector (its head is ``keypoint_head.*``
    and its context tokens a top-level ``contexts``), False for this project's."""
    keys = _strip_module(sd).keys()
    has_original = any(k.startswith(('keypoint_head.', 'upconv_head.')) for k in keys) \
        or 'contexts' in keys
    return has_original and not any(k.startswith('head.') for k in keys)


def convert_original_state_dict(sd: dict) -> Tuple[Dict[str, torch.Tensor], ConversionReport]:
    """Map an original CLAMP / Hand-CLAMP state dict onto ``CLAMPEstimator``'s names.

    Returns ``(new_state_dict, report)``; tensors are shared, not copied, except the folded
    positional embedding and the squeezed contexts. Keys the original never uses are dropped
    and keys with no place here are left out; both are listed in the report.
    """
    sd = _strip_module(sd)
    new, report = {}, ConversionReport()
    patterns = {p: (t, re.compile(rx + '$')) for p, (t, rx) in _MODULES.items()}
    for key, value in sd.items():
        if key in _UNUSED:
            report.dropped[key] = _UNUSED[key]
            continue
        if key in _MOVES:
            target = _MOVES[key]
        else:
            prefix = next((p for p in patterns if key.startswith(p)), None)
            if prefix is None:
                report.unplaced[key] = 'not a module of the CLAMP detector'
                continue
            target_prefix, rx = patterns[prefix]
            rest = key[len(prefix):]
            if not rx.match(rest):
                report.unplaced[key] = f'{prefix[:-1]} of this project has no {rest!r}'
                continue
            target = target_prefix + rest
        new[target] = value
        report.placed[key] = target

    ctx = new.get('text_encoder.contexts')
    if ctx is not None:
        if ctx.dim() == 3 and ctx.shape[0] == 1:
            new['text_encoder.contexts'] = ctx[0]
        elif ctx.dim() != 2:
            del new['text_encoder.contexts']
            report.unplaced['contexts'] = f'expected (1, n, width), got {tuple(ctx.shape)}'
            del report.placed['contexts']
    if 'backbone.class_embedding' in new and 'backbone.positional_embedding' in new:
        pos = new['backbone.positional_embedding'].clone()
        pos[0] += new['backbone.class_embedding'].to(pos.dtype)
        new['backbone.positional_embedding'] = pos
        report.notes.append('backbone.class_embedding folded into positional_embedding[0] '
                            '(the original adds it to the class token twice)')
    report.layout = infer_layout(new)
    return new, report


def infer_layout(new_sd: dict) -> Dict[str, int]:
    """Config numbers a converted state dict needs: keypoints, context tokens, name length."""
    layout = {}
    if 'head.final_layer.weight' in new_sd:
        layout['num_keypoints'] = int(new_sd['head.final_layer.weight'].shape[0])
    ctx = new_sd.get('text_encoder.contexts')
    pos = new_sd.get('text_encoder.positional_embedding')
    if ctx is not None:
        layout['num_contexts'] = int(ctx.shape[0])
        if pos is not None:
            layout['name_length'] = int(pos.shape[0]) - int(ctx.shape[0])
    return layout


def original_class_names(checkpoint: dict) -> Optional[List[str]]:
    """The keypoint names (``model.class_names``) of the config text that mmpose 0.x stores in
    ``meta['config']``; None when the checkpoint carries no such text."""
    text = ((checkpoint.get('meta') or {}) if isinstance(checkpoint, dict) else {}).get('config')
    if not isinstance(text, str):
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == 'class_names':
            try:
                names = ast.literal_eval(node.value)
            except ValueError:
                return None
            if isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names):
                return list(names)
    return None


def load_original_checkpoint(path: str, trust: bool = False) -> dict:
    """Read an original checkpoint on CPU as data (``clamp_hand.checkpoint.read_checkpoint``;
    its mmcv 1.x meta, numpy scalars included, is data too). Raises ``UnsafeCheckpointError``
    on a file holding more, unless ``trust`` (the user's explicit opt-in)."""
    from clamp_hand.checkpoint import read_checkpoint
    return read_checkpoint(path, map_location='cpu', trust=trust)


def convert_original_checkpoint(checkpoint: dict) -> Tuple[dict, ConversionReport]:
    """A whole original checkpoint -> ``{'state_dict', 'meta'}`` for this project; the meta
    records where it came from and the original's keypoint names (when known)."""
    new_sd, report = convert_original_state_dict(state_dict_of(checkpoint))
    meta = dict(converted_from='original CLAMP / Hand-CLAMP (mmpose 0.x)', layout=report.layout)
    names = original_class_names(checkpoint)
    if names:
        meta['original_class_names'] = names
    return dict(state_dict=new_sd, meta=meta), report


def check_fits_model(new_sd: dict, model_sd: dict) -> Dict[str, List[str]]:
    """How ``new_sd`` fits a model whose state dict is ``model_sd``: ``mismatched`` shapes
    (each with the config setting that fixes it), ``missing`` keys (the model has them, the
    checkpoint does not) and ``unexpected`` ones (the reverse)."""
    layout = infer_layout(new_sd)
    mismatched = []
    for key in sorted(set(new_sd) & set(model_sd)):
        if tuple(new_sd[key].shape) == tuple(model_sd[key].shape):
            continue
        msg = (f'{key}: checkpoint {tuple(new_sd[key].shape)} vs model '
               f'{tuple(model_sd[key].shape)}')
        if key in ('text_encoder.positional_embedding', 'text_encoder.contexts'):
            msg += (f'; set model.text_encoder.num_contexts={layout.get("num_contexts")} and '
                    f'model.text_encoder.name_length={layout.get("name_length")} (as the '
                    'configs under configs/animal/2d_kpt_sview_rgb_img/topdown_heatmap/ap10k/ do)')
        mismatched.append(msg)
    return dict(mismatched=mismatched, missing=sorted(set(model_sd) - set(new_sd)),
                unexpected=sorted(set(new_sd) - set(model_sd)))
