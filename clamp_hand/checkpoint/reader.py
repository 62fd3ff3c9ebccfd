"""Open a checkpoint as data: ``torch.load(weights_only=True)`` with a short allowlist, never a
silent fallback to full unpickling.

``torch.load(weights_only=False)`` (what mmengine's loader and older code fall back to when
the weights-only reader refuses a file) runs whatever the pickle names: a checkpoint holding an
object whose ``__reduce__`` returns ``os.system`` runs a shell command when it is opened. Here a
checkpoint is read with torch's weights-only unpickler, which builds tensors, containers,
numbers and strings, plus the few other types listed in :data:`ALLOWED_GLOBALS`, registered
through ``torch.serialization.safe_globals``. These are exactly what this project's
checkpoints (mmengine 0.10) and the original CLAMP / Hand-CLAMP ones (mmcv 1.x, numpy 1.x)
hold besides tensors, found with ``torch.serialization.get_unsafe_globals_in_checkpoint`` on
real training and best checkpoints:

* numpy arrays (``meta.dataset_meta``: keypoint colours, sigmas; the message hub's logged
  scalars): ``numpy._core.multiarray._reconstruct``, ``numpy.ndarray``, ``numpy.dtype`` and
  the plain numeric dtype classes (the weights-only ``BUILD`` of a dtype needs its class).
* numpy scalars (``message_hub.runtime_info``: ``best_score``, ``eta``; mmcv 1.x
  ``meta.hook_msgs.best_score``): ``numpy._core.multiarray.scalar``.
  Files written under numpy 1.x name both ``numpy.core.multiarray.*``; both names are mapped
  to the same functions.
* ``mmengine.logging.history_buffer.HistoryBuffer`` (``message_hub.log_scalars``, needed to
  resume): read through :class:`_CheckedHistoryBuffer`, which accepts only numbers and arrays
  and, as its statistics methods, only ``HistoryBuffer``'s own.
* ``builtins.getattr``: a ``HistoryBuffer`` pickles its statistics methods as
  ``getattr(HistoryBuffer, 'mean')`` (pickle protocol 2). Mapped to
  :func:`_history_buffer_getattr`, which resolves only those names on ``HistoryBuffer`` and
  refuses every other ``getattr`` (a general ``getattr`` would reach any attribute of any
  allowed object; mmengine allowlists the real one).

Anything else is refused with :class:`UnsafeCheckpointError`, naming the file and the global.
The only way to unpickle more is the explicit opt-in ``trust=True`` (``--trust-checkpoint``
on the tools), for files the user trusts.

Importing this module also installs :func:`load_from_local_safely` as mmengine's loader for
local files (``CheckpointLoader`` scheme ``''``), so ``Runner.load_checkpoint``,
``Runner.resume``, ``load_from`` and ``init_cfg=dict(type='Pretrained')`` read through here too.
"""
import contextlib
import contextvars
import os.path as osp
import pickle
import zipfile
from typing import Callable, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = ['ALLOWED_GLOBALS', 'UnsafeCheckpointError', 'check_checkpoint', 'read_checkpoint',
           'trusted_checkpoints', 'load_from_local_safely', 'TRUST_HINT']

TRUST_HINT = ('If you trust this file (you wrote it, or it comes from someone you trust), open '
              'it with --trust-checkpoint (tools) or trust=True (API: init_model, '
              'clamp_hand.checkpoint.read_checkpoint); that unpickles it in full and can run '
              'code. Or re-save only its data once: '
              'python tools/misc/publish_model.py FILE OUT.pth --trust-checkpoint')

_NUMPY_DTYPES = ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32',
                 'uint64', 'float16', 'float32', 'float64')


class UnsafeCheckpointError(ValueError):
    """A checkpoint holds objects beyond tensors and plain data (opening it could run code),
    or its stored config is not a literal config."""


class _CheckedHistoryBuffer(HistoryBuffer):
    """Unpickling stand-in for ``HistoryBuffer``: ``HistoryBuffer.__setstate__`` installs the
    pickled ``statistics_methods`` into the class-wide method table, which is later called with
    the logged values, so only ``HistoryBuffer``'s own methods are accepted; the rest of the
    state must be numbers and numpy arrays. The object then becomes a plain ``HistoryBuffer``."""

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise pickle.UnpicklingError(f'HistoryBuffer state must be a dict, got {type(state)}')
        for name, method in (state.get('statistics_methods') or {}).items():
            if method is not getattr(HistoryBuffer, str(name), None):
                raise pickle.UnpicklingError(
                    f'HistoryBuffer statistics method {name!r} is {method!r}, not '
                    f'HistoryBuffer.{name}')
        for key, value in state.items():
            if key != 'statistics_methods' and not isinstance(value, (int, float, np.ndarray)):
                raise pickle.UnpicklingError(
                    f'HistoryBuffer.{key} is a {type(value).__name__}, not a number or array')
        HistoryBuffer.__setstate__(self, state)
        self.__class__ = HistoryBuffer


def _history_buffer_getattr(obj, name):
    """``getattr`` as the weights-only unpickler may call it: only ``HistoryBuffer``'s
    statistics methods (``min``, ``max``, ``current``, ``mean`` and registered ones)."""
    known = {'min', 'max', 'current', 'mean'} | set(HistoryBuffer._statistics_methods)
    if obj in (HistoryBuffer, _CheckedHistoryBuffer) and name in known \
            and callable(getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(f'getattr({obj!r}, {name!r}) is not allowed in a checkpoint '
                                 '(only HistoryBuffer statistics methods)')


def _allowed_globals() -> List[Union[Callable, tuple]]:
    core = getattr(np, '_core', None) or np.core
    out = []
    for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):  # numpy 2.x / 1.x files
        out += [(core.multiarray._reconstruct, f'{module}._reconstruct'),
                (core.multiarray.scalar, f'{module}.scalar')]
    out += [(np.ndarray, 'numpy.ndarray'), (np.dtype, 'numpy.dtype')]
    out += [type(np.dtype(t)) for t in _NUMPY_DTYPES]  # targets of BUILD, never called
    out += [(_CheckedHistoryBuffer, 'mmengine.logging.history_buffer.HistoryBuffer'),
            (_history_buffer_getattr, 'builtins.getattr')]
    return out


#: what ``torch.load(weights_only=True)`` may build besides tensors and plain containers
ALLOWED_GLOBALS = _allowed_globals()
_ALLOWED_NAMES = {g[1] if isinstance(g, tuple) else f'{g.__module__}.{g.__qualname__}'
                  for g in ALLOWED_GLOBALS}

_TRUST = contextvars.ContextVar('clamp_hand_trust_checkpoint', default=False)


@contextlib.contextmanager
def trusted_checkpoints(trust: bool = True):
    """Within this block, checkpoints that mmengine opens (``load_from``, ``--resume``,
    ``tools/test.py``) are read with ``trust`` (see :func:`read_checkpoint`)."""
    token = _TRUST.set(bool(trust))
    try:
        yield
    finally:
        _TRUST.reset(token)


def _refused_globals(path: str) -> List[str]:
    """The globals of ``path`` that neither torch nor :data:`ALLOWED_GLOBALS` allow."""
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # legacy (non-zip) format: torch's own message names the global
        return []
    return sorted(g for g in found if g not in _ALLOWED_NAMES)


def _torch_reason(err: Exception) -> str:
    """The informative line of torch's weights-only error (after its boilerplate)."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        if 'WeightsUnpickler error' in line:
            rest = line.split('WeightsUnpickler error:', 1)[-1].strip()
            return rest or (lines[i + 1] if i + 1 < len(lines) else line)
    return lines[0] if lines else type(err).__name__


_UNSAFE_WORDS = ('GLOBAL', 'global', 'Can only build', 'Can only create', 'reduce', 'getattr',
                 'HistoryBuffer')


def read_checkpoint(path: str, map_location: Union[str, Callable, None] = 'cpu',
                    trust: bool = False, mmap: bool = False) -> dict:
    """Read the checkpoint file ``path`` as data.

    Args:
        path: a local ``.pth`` file (``torch.save`` zip or legacy format).
        map_location: as for ``torch.load``.
        trust: the explicit opt-in for files the user trusts: a file the weights-only reader
            refuses is then unpickled in full (which can run code in it), with a warning.
        mmap: memory-map the tensors instead of reading them (``torch.load(mmap=True)``).

    Returns whatever the file holds (normally a dict with ``state_dict``, ``meta``, ...).

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: the file is not a readable torch checkpoint (corrupt, truncated, other).
        UnsafeCheckpointError: without ``trust``, the file holds a global outside torch's
            weights-only set and :data:`ALLOWED_GLOBALS`, or its ``meta['cfg']`` is config text
            that is not a literal config (``config_data.parse_literal_config``); the message
            names the file and the global (or line) and says how to proceed.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path!r} does not exist')
    try:
        with torch.serialization.safe_globals(ALLOWED_GLOBALS):
            ckpt = torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
        if not trust:
            _check_config_text(ckpt, path)
        return ckpt
    except RuntimeError as e:
        if 'PytorchStreamReader' not in str(e) and 'TorchScript' not in str(e):
            raise
        raise ValueError(f'{path}: cannot be read as a checkpoint (corrupt, truncated or not '
                         f'written by torch.save): {_torch_reason(e)}') from None
    except pickle.UnpicklingError as e:
        reason = _torch_reason(e)
        names = _refused_globals(path)
        if not names and not any(w in reason for w in _UNSAFE_WORDS):
            raise ValueError(f'{path}: cannot be read as a checkpoint (corrupt, truncated or '
                             f'not written by torch.save): {reason}') from None
        if not trust:
            what = f'it holds {", ".join(names)}' if names else 'it holds an object'
            raise UnsafeCheckpointError(
                f'{path}: refused to open: {what} beyond tensors, numbers, strings, numpy '
                f'arrays and mmengine log buffers, and unpickling that could run code '
                f'(torch: {reason}). Nothing of the file was executed. {TRUST_HINT}') from None
    print_log(f'{path}: trusted by the user (--trust-checkpoint / trust=True): unpickling it in '
              f'full (it holds more than data: {reason})', logger='current', level=30)
    return torch.load(path, map_location=map_location, weights_only=False)


def check_checkpoint(path: str, trust: bool = False, resume: bool = False) -> None:
    """Refuse ``path`` now, before a run is built around it, if :func:`read_checkpoint` would
    (same reader; tensors memory-mapped, not read, so this is cheap for large files). With
    ``resume``, an mmcv 1.x ``meta['config']`` text must be a literal config too (mmengine's
    resume runs it; see ``CheckpointAsDataRunner``)."""
    if trust or not osp.isfile(path):
        return
    # legacy (non-zip) files cannot be memory-mapped
    ckpt = read_checkpoint(path, map_location='cpu', mmap=zipfile.is_zipfile(path))
    meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    if resume and isinstance(meta, dict) and isinstance(meta.get('config'), str):
        from .config_data import parse_literal_config
        parse_literal_config(meta['config'], f'{path}: meta.config')


def _check_config_text(ckpt, path: str) -> None:
    """Refuse a checkpoint whose ``meta['cfg']`` is config text that is not a literal config
    (the slot tools rebuild the model from; older checkpoints hold text there)."""
    meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get('cfg'), str):
        from .config_data import parse_literal_config  # (imports this module)
        parse_literal_config(meta['cfg'], f'{path}: meta.cfg')


def load_from_local_safely(filename: str, map_location=None) -> dict:
    """mmengine ``CheckpointLoader`` loader for local paths (replaces ``load_from_local``,
    which falls back to ``weights_only=False`` by itself): :func:`read_checkpoint` with the
    trust set by :func:`trusted_checkpoints` (default: not trusted)."""
    return read_checkpoint(osp.expanduser(filename), map_location, trust=_TRUST.get())


CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safely, force=True)
