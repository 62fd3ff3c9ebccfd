"""Load pretrained CLIP weights into a model's image backbone and text tower.

``load_clip_weights(model, path)`` reads ``path`` in any format ``clip_formats`` knows, maps
``visual.*`` onto ``model.backbone.*`` (a ``CLIPViT``) and the text tower onto
``model.text_encoder.*`` (a ``KeypointPromptEncoder``), checks every shape, and fills the
model only when all checks pass. Two shapes may differ on purpose:

- ``backbone.positional_embedding``: the patch grid is resized bilinearly to the configured
  input size (class row kept), e.g. 224 px weights (1+14*14 rows) into 256 px (1+16*16);
- ``text_encoder.positional_embedding``: the prompt encoder uses only its first
  ``seq_length`` positions of CLIP's 77, so the rest are dropped.

Every backbone/text tensor the file does not fill is an error unless it matches a pattern in
``allow_missing`` (``fnmatch`` on model names, e.g. ``'text_encoder.*'``); the learned
``text_encoder.contexts`` is never in CLIP files and is always allowed.
"""
import fnmatch
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from open_clip.transformer import QuickGELU
from torch import nn

from .backbones.clip_vit import resize_positional_embedding
from .clip_formats import read_clip_checkpoint

LEARNED = ('text_encoder.contexts', )  # trained here, never in a CLIP file
_TEXT_ROOTS = ('token_embedding', 'positional_embedding', 'transformer', 'ln_final',
               'text_projection')
_NOT_TOWER = ('logit_scale', 'logit_bias', 'attn_mask', 'input_resolution', 'context_length',
              'vocab_size')  # CLIP file entries outside both towers


@dataclass
class CLIPLoadReport:
    """What ``load_clip_weights`` did. Keys are model names unless said otherwise."""
    path: str
    file: str
    format: str
    loaded: List[str] = field(default_factory=list)
    resized: Dict[str, Tuple[tuple, tuple]] = field(default_factory=dict)  # file -> model shape
    truncated: Dict[str, Tuple[tuple, tuple]] = field(default_factory=dict)
    skipped: Dict[str, str] = field(default_factory=dict)  # file key -> why it was not used
    missing: List[str] = field(default_factory=list)  # left as initialised (allowed)
    file_dtypes: List[str] = field(default_factory=list)  # of the loaded tensors, as stored
    notes: List[str] = field(default_factory=list)

    def summary(self) -> str:
        towers = Counter(k.split('.')[0] for k in self.loaded)
        lines = [f'CLIP weights from {self.file} ({self.format}, {"/".join(self.file_dtypes)}): '
                 'loaded ' + ', '.join(f'{n} {t} tensors' for t, n in towers.items())]
        lines += [f'  resized {k} {a} -> {b} (bilinear, class position kept)'
                  for k, (a, b) in self.resized.items()]
        lines += [f'  truncated {k} {a} -> {b} (first rows)' for k, (a, b) in self.truncated.items()]
        if self.missing:
            lines.append(f'  not in the file, kept as initialised: {", ".join(self.missing)}')
        if self.skipped:
            lines.append('  file entries not used: ' + ', '.join(
                f'{k} ({why})' for k, why in self.skipped.items()))
        lines += [f'  note: {n}' for n in self.notes]
        return '\n'.join(lines)


def _model_key(file_key: str) -> Optional[str]:
    """Canonical CLIP name -> this project's name (None: not part of either tower)."""
    if file_key.startswith('visual.'):
        return 'backbone.' + file_key[len('visual.'):]
    if file_key.split('.')[0] in _TEXT_ROOTS:
        return 'text_encoder.' + file_key
    return None


def _check_activation(ckpt, towers: Dict[str, nn.Module], report: CLIPLoadReport) -> None:
    """The file's MLP activation must be the model's where the file records it; a note in the
    report where it does not."""
    unknown = []
    for tower, side in (('backbone', 'visual'), ('text_encoder', 'text')):
        if tower not in towers:
            continue
        act = ckpt.activation.get(side)
        model_act = 'quick_gelu' if any(isinstance(m, QuickGELU)
                                        for m in towers[tower].modules()) else 'gelu'
        if act is None:
            unknown.append(f'model.{tower} uses {model_act}')
        elif act != model_act:
            fix = (f'set model.{tower}.quick_gelu={act == "quick_gelu"}'
                   if act in ('quick_gelu', 'gelu') else 'use weights trained with (Quick)GELU')
            raise ValueError(f'{ckpt.file}: its {side} tower was trained with {act} but '
                             f'model.{tower} uses {model_act}; {fix}')
    if unknown:
        report.notes.append(
            f'the file does not record its activation ({", ".join(unknown)}): OpenAI-trained '
            'CLIP needs quick_gelu=True, LAION/DataComp open_clip weights quick_gelu=False')


def _fit(model_key: str, value: torch.Tensor, target: torch.Tensor,
         towers: Dict[str, nn.Module], report: CLIPLoadReport):
    """``value`` cast to ``target``'s dtype and, for the two positional embeddings, resized or
    truncated to its shape; None if the shapes cannot be reconciled."""
    value = value.to(dtype=target.dtype)
    old, new = tuple(value.shape), tuple(target.shape)
    if old == new:
        return value
    if value.dim() != 2 or old[1] != new[1]:
        return None
    if model_key == 'backbone.positional_embedding':
        try:
            value = resize_positional_embedding(value, tuple(towers['backbone'].grid_size))
        except ValueError:  # not a square grid
            return None
        if tuple(value.shape) != new:
            return None
        report.resized[model_key] = (old, new)
        return value
    if model_key == 'text_encoder.positional_embedding' and old[0] > new[0]:
        report.truncated[model_key] = (old, new)
        return value[:new[0]]
    return None


def load_clip_weights(model: nn.Module, path: str,
                      allow_missing: Sequence[str] = ()) -> CLIPLoadReport:
    """Fill ``model.backbone`` and ``model.text_encoder`` (whichever exist) from ``path``.

    Raises FileNotFoundError (nothing at ``path``), ValueError (a tensor of another shape, a
    tower tensor the model lacks, a mismatched activation, or a model tensor left unfilled)
    before changing any weight. Returns the report, also logged.
    """
    towers = {name: getattr(model, name) for name in ('backbone', 'text_encoder')
              if isinstance(getattr(model, name, None), nn.Module)}
    if not towers:
        raise TypeError(f'{type(model).__name__} has neither a backbone nor a text_encoder to '
                        'load CLIP weights into')
    ckpt = read_clip_checkpoint(path)
    report = CLIPLoadReport(path=path, file=ckpt.file, format=ckpt.format)
    _check_activation(ckpt, towers, report)
    targets = {f'{t}.{k}': v for t, m in towers.items()
               for k, v in m.state_dict(keep_vars=True).items()}

    sources, unexpected = {}, []  # model key -> file key
    for file_key in ckpt.state_dict:
        model_key = _model_key(file_key)
        if model_key is None:
            why = 'not part of the image or text tower'
            report.skipped[file_key] = why if file_key in _NOT_TOWER else f'unknown, {why}'
        elif model_key.split('.')[0] not in towers:
            report.skipped[file_key] = f'model has no {model_key.split(".")[0]}'
        elif model_key in targets:
            sources[model_key] = file_key
        else:
            unexpected.append(f'{file_key} -> {model_key}')

    new_values = {}
    for model_key, target in targets.items():  # model order: the first mismatch is reported
        if model_key not in sources:
            continue
        file_key = sources[model_key]
        value = _fit(model_key, ckpt.state_dict[file_key], target, towers, report)
        if value is None:
            raise ValueError(
                f'{ckpt.file} does not match the model architecture: first mismatched tensor '
                f'{file_key} {tuple(ckpt.state_dict[file_key].shape)} in the file vs '
                f'{model_key} {tuple(target.shape)} in the model. Use weights of the configured '
                'CLIP variant or change model.backbone / model.text_encoder to match the file.')
        new_values[model_key] = value
    if unexpected:
        raise ValueError(
            f'{ckpt.file} has {len(unexpected)} tower tensor(s) the model lacks, first: '
            f'{", ".join(unexpected[:3])}. The file is another CLIP variant (e.g. deeper): '
            'change model.backbone / model.text_encoder to match it.')

    allowed = tuple(LEARNED) + tuple(allow_missing)
    unfilled = [k for k in targets if k not in new_values]
    refused = [k for k in unfilled if not any(fnmatch.fnmatchcase(k, p) for p in allowed)]
    if refused:
        raise ValueError(
            f'{ckpt.file} leaves {len(refused)} model tensor(s) unfilled, first: '
            f'{", ".join(refused[:5])}. Use a checkpoint holding both CLIP towers, or allow '
            'them explicitly, e.g. model.pretrained_allow_missing=["text_encoder.*"].')

    with torch.no_grad():
        for model_key, value in new_values.items():
            targets[model_key].copy_(value)
    report.loaded = list(new_values)
    report.missing = unfilled
    report.file_dtypes = sorted({str(ckpt.state_dict[sources[k]].dtype).replace('torch.', '')
                                 for k in new_values})
    print_log(report.summary(), logger='current')
    return report
