"""Read a CLIP checkpoint of any common format into one canonical state dict.

Canonical names are open_clip's, which are also OpenAI's::

    visual.conv1.weight (W,3,p,p)  visual.class_embedding (W,)  visual.positional_embedding (1+g*g, W)
    visual.ln_pre.*  visual.transformer.resblocks.N.{ln_1,attn.in_proj_*,attn.out_proj.*,ln_2,
    mlp.c_fc.*,mlp.c_proj.*}  visual.ln_post.*  visual.proj (W, D)
    token_embedding.weight (V, Wt)  positional_embedding (77, Wt)  transformer.resblocks.N.*
    ln_final.*  text_projection (Wt, D)  logit_scale ()

Formats: an OpenAI TorchScript archive, an open_clip checkpoint (torch pickle or safetensors,
plain or under ``state_dict``, ``module.`` prefixes allowed), a Hugging Face ``CLIPModel``
folder (names converted here) and a sentence-transformers folder holding one in
``0_CLIPModel/``. Mapping onto this project's modules is ``clip_weights``' job.

Every file is read as data, never as code: torch pickles through
``clamp_hand.checkpoint.read_checkpoint`` (weights-only), and a TorchScript archive by
:func:`read_torchscript_tensors`, which unpickles its ``data.pkl`` with a restricted unpickler
(tensors and module attribute dicts only) instead of ``torch.jit.load``, which compiles the
archive's code and runs its ``__setstate__`` methods.
"""
import json
import os.path as osp
import pickle
import re
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, Optional

import torch
from torch import Tensor

ACCEPTED_FORMATS = (
    '  - an OpenAI CLIP TorchScript archive (e.g. ViT-B-16.pt from OpenAI)\n'
    '  - an open_clip checkpoint: .pt/.pth/.bin (a state dict, or one under "state_dict"; '
    '"module." prefixes are fine) or .safetensors\n'
    '  - a Hugging Face CLIP folder (config.json + model.safetensors or pytorch_model.bin), '
    'or a sentence-transformers folder holding one as 0_CLIPModel/\n'
    '  - an open_clip Hugging Face hub folder (open_clip_model.safetensors or '
    'open_clip_pytorch_model.bin)')

# Weight files looked for inside a folder, in order (the folder itself, then 0_CLIPModel/).
_FOLDER_FILES = ('model.safetensors', 'pytorch_model.bin', 'open_clip_model.safetensors',
                 'open_clip_pytorch_model.bin')


@dataclass
class CLIPCheckpoint:
    """A CLIP checkpoint in canonical (open_clip) names.

    ``activation`` maps ``'visual'``/``'text'`` to ``'quick_gelu'``, ``'gelu'``, another
    activation name, or None where the file does not record it."""
    state_dict: Dict[str, Tensor]
    format: str  # 'OpenAI TorchScript' | 'open_clip' | 'Hugging Face'
    file: str  # the weights file actually read
    activation: Dict[str, Optional[str]] = field(
        default_factory=lambda: dict(visual=None, text=None))


def read_clip_checkpoint(path: str) -> CLIPCheckpoint:
    """Read ``path`` (a file or a folder) in whichever format it holds."""
    if not osp.exists(path):
        raise FileNotFoundError(
            f'CLIP weights not found: expected them at {osp.abspath(path)} (model.pretrained). '
            f'Accepted:\n{ACCEPTED_FORMATS}\nSee pretrained/README.md for where to get them, or '
            'set model.pretrained=None for random weights.')
    if osp.isdir(path):
        path = _weights_in_folder(path)
    if _is_torchscript(path):
        state_dict = read_torchscript_tensors(path)
        return CLIPCheckpoint(_canonical(state_dict, path), 'OpenAI TorchScript', path,
                              dict(visual='quick_gelu', text='quick_gelu'))
    state_dict = _load_tensors(path)
    if any(k.startswith(('vision_model.', 'text_model.')) for k in state_dict):
        return CLIPCheckpoint(_canonical(hf_to_open_clip(state_dict), path), 'Hugging Face',
                              path, _hf_activation(osp.dirname(path)))
    return CLIPCheckpoint(_canonical(state_dict, path), 'open_clip', path,
                          _open_clip_activation(osp.dirname(path)))


def _weights_in_folder(folder: str) -> str:
    for root in (folder, osp.join(folder, '0_CLIPModel')):
        for name in _FOLDER_FILES:
            if osp.isfile(osp.join(root, name)):
                return osp.join(root, name)
    raise FileNotFoundError(
        f'{folder} is a folder but holds none of {", ".join(_FOLDER_FILES)} (nor in '
        f'0_CLIPModel/). Accepted:\n{ACCEPTED_FORMATS}')


def _is_torchscript(path: str) -> bool:
    """TorchScript archives are zips with ``code/`` and ``constants.pkl``; ``torch.save`` zips
    have neither (and ``torch.load`` cannot read TorchScript)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any(n.endswith('/constants.pkl') or '/code/' in n for n in z.namelist())


# storage classes named in a TorchScript archive -> element type
_STORAGE_DTYPES = {'FloatStorage': torch.float32, 'HalfStorage': torch.float16,
                   'BFloat16Storage': torch.bfloat16, 'DoubleStorage': torch.float64,
                   'LongStorage': torch.int64, 'IntStorage': torch.int32,
                   'ShortStorage': torch.int16, 'CharStorage': torch.int8,
                   'ByteStorage': torch.uint8, 'BoolStorage': torch.bool}


class _ScriptObject:
    """A TorchScript module (or object) of an archive, as data: its pickled attributes."""

    def __setstate__(self, state):
        self.state = state


def _rebuild_tensor(flat: Tensor, offset: int, size, stride, requires_grad=False, hooks=None,
                    metadata=None) -> Tensor:
    """``torch._utils._rebuild_tensor_v2`` on a flat tensor holding the storage's elements."""
    return flat.as_strided(tuple(size), tuple(stride), offset)


class _ScriptArchiveUnpickler(pickle.Unpickler):
    """Unpickles a TorchScript ``data.pkl``: module classes (``__torch__.*``) become
    :class:`_ScriptObject`, tensors are read from the archive's ``data/`` records; any other
    global is refused (the standard "restricting globals" pattern of the ``pickle`` docs)."""

    def __init__(self, file, archive: zipfile.ZipFile, prefix: str, path: str):
        super().__init__(file)
        self.archive, self.prefix, self.path = archive, prefix, path

    def find_class(self, module, name):
        if module == '__torch__' or module.startswith('__torch__.'):
            return _ScriptObject
        if module == 'torch' and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        if (module, name) == ('torch._utils', '_rebuild_tensor_v2'):
            return _rebuild_tensor
        if (module, name) == ('collections', 'OrderedDict'):
            return OrderedDict
        raise pickle.UnpicklingError(f'{self.path}: the TorchScript archive names {module}.{name}, '
                                     'which a weights archive does not hold')

    def persistent_load(self, pid):
        kind, dtype, key, _location, numel = pid
        if kind != 'storage' or not isinstance(dtype, torch.dtype):
            raise pickle.UnpicklingError(f'{self.path}: unknown record {pid!r}')
        raw = bytearray(self.archive.read(f'{self.prefix}data/{key}'))
        return torch.frombuffer(raw, dtype=dtype)[:numel] if raw else torch.empty(0, dtype=dtype)


def read_torchscript_tensors(path: str) -> Dict[str, Tensor]:
    """The parameters and buffers of a TorchScript archive (e.g. OpenAI's ``ViT-B-16.pt``) as
    ``{dotted attribute name: tensor}`` (the names ``torch.jit.load(path).state_dict()`` has),
    read without compiling or running anything of it."""
    with zipfile.ZipFile(path) as archive:
        pkl = next((n for n in archive.namelist() if n.endswith('/data.pkl')
                    and n.count('/') == 1), None)
        if pkl is None:
            raise ValueError(f'{path}: a TorchScript archive without data.pkl')
        prefix = pkl[:-len('data.pkl')]
        with archive.open(pkl) as f:
            root = _ScriptArchiveUnpickler(f, archive, prefix, path).load()
    out: Dict[str, Tensor] = {}

    def walk(obj, name):
        for key, value in (getattr(obj, 'state', None) or {}).items():
            if isinstance(value, Tensor):
                out[name + key] = value
            elif isinstance(value, _ScriptObject):
                walk(value, f'{name}{key}.')
    walk(root, '')
    return out


def _load_tensors(path: str) -> Dict[str, Tensor]:
    """A flat ``name -> tensor`` dict from a safetensors or torch pickle file (read as data:
    ``UnsafeCheckpointError`` for a pickle holding more)."""
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        return load_file(path, device='cpu')
    from clamp_hand.checkpoint import read_checkpoint
    obj = read_checkpoint(path, map_location='cpu')
    if isinstance(obj, dict) and isinstance(obj.get('state_dict'), dict):
        obj = obj['state_dict']
    if not isinstance(obj, dict) or not all(isinstance(v, Tensor) for v in obj.values()):
        raise ValueError(f'{path} holds a {type(obj).__name__}, not a CLIP state dict. '
                         f'Accepted:\n{ACCEPTED_FORMATS}')
    return obj


def _canonical(state_dict: Dict[str, Tensor], path: str) -> Dict[str, Tensor]:
    """Strip DataParallel ``module.`` prefixes and check that CLIP tensors are present."""
    while state_dict and all(k.startswith('module.') for k in state_dict):
        state_dict = {k[len('module.'):]: v for k, v in state_dict.items()}
    if not any(k.startswith('visual.') or k == 'token_embedding.weight' for k in state_dict):
        first = ', '.join(list(state_dict)[:5])
        raise ValueError(f'{path} holds no CLIP image or text tower (first keys: {first}). '
                         f'Accepted:\n{ACCEPTED_FORMATS}')
    return state_dict


def _read_json(path: str) -> Optional[dict]:
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def _hf_activation(folder: str) -> Dict[str, Optional[str]]:
    """``hidden_act`` of both towers from ``config.json`` (transformers' default when absent:
    quick_gelu); None if there is no config next to the weights."""
    cfg = _read_json(osp.join(folder, 'config.json'))
    if cfg is None:
        return dict(visual=None, text=None)
    return dict(visual=(cfg.get('vision_config') or {}).get('hidden_act', 'quick_gelu'),
                text=(cfg.get('text_config') or {}).get('hidden_act', 'quick_gelu'))


def _open_clip_activation(folder: str) -> Dict[str, Optional[str]]:
    """From an open_clip hub folder's ``open_clip_config.json`` where it says; else unknown."""
    cfg = _read_json(osp.join(folder, 'open_clip_config.json')) or {}
    quick = (cfg.get('model_cfg') or {}).get('quick_gelu')
    act = None if quick is None else ('quick_gelu' if quick else 'gelu')
    return dict(visual=act, text=act)


# Hugging Face CLIPModel -> open_clip names. Per encoder layer:
_HF_LAYER = {'layer_norm1': 'ln_1', 'layer_norm2': 'ln_2', 'mlp.fc1': 'mlp.c_fc',
             'mlp.fc2': 'mlp.c_proj', 'self_attn.out_proj': 'attn.out_proj'}
_HF_FLAT = {
    'vision_model.embeddings.class_embedding': 'visual.class_embedding',
    'vision_model.embeddings.patch_embedding.weight': 'visual.conv1.weight',
    'vision_model.embeddings.position_embedding.weight': 'visual.positional_embedding',
    'text_model.embeddings.token_embedding.weight': 'token_embedding.weight',
    'text_model.embeddings.position_embedding.weight': 'positional_embedding',
    'logit_scale': 'logit_scale',
}
_HF_PREFIX = {'vision_model.pre_layrnorm.': 'visual.ln_pre.',
              'vision_model.post_layernorm.': 'visual.ln_post.',
              'text_model.final_layer_norm.': 'ln_final.'}
_HF_LAYER_RE = re.compile(r'^(vision|text)_model\.encoder\.layers\.(\d+)\.(.+)\.(weight|bias)$')


def hf_to_open_clip(sd: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Convert ``transformers.CLIPModel`` names: q/k/v projections are concatenated into
    ``in_proj_{weight,bias}`` (3W, W)/(3W,), the two projections (D, W) are transposed to
    (W, D). Keys it does not know (e.g. ``position_ids`` buffers) pass through unchanged."""
    out, qkv = {}, {}
    for key, value in sd.items():
        m = _HF_LAYER_RE.match(key)
        if key in _HF_FLAT:
            out[_HF_FLAT[key]] = value
        elif key == 'visual_projection.weight':
            out['visual.proj'] = value.t().contiguous()
        elif key == 'text_projection.weight':
            out['text_projection'] = value.t().contiguous()
        elif any(key.startswith(p) for p in _HF_PREFIX):
            p = next(p for p in _HF_PREFIX if key.startswith(p))
            out[_HF_PREFIX[p] + key[len(p):]] = value
        elif m:
            tower, layer, part, kind = m.groups()
            prefix = f'{"visual." if tower == "vision" else ""}transformer.resblocks.{layer}.'
            if part in ('self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'):
                qkv.setdefault(f'{prefix}attn.in_proj_{kind}', {})[part[-6]] = value
            elif part in _HF_LAYER:
                out[f'{prefix}{_HF_LAYER[part]}.{kind}'] = value
            else:
                out[key] = value
        else:
            out[key] = value
    for key, parts in qkv.items():
        if set(parts) != {'q', 'k', 'v'}:
            raise ValueError(f'Hugging Face weights lack the {set("qkv") - set(parts)} '
                             f'projection(s) of {key}')
        out[key] = torch.cat([parts['q'], parts['k'], parts['v']], dim=0)
    return out
