"""The config a checkpoint carries (``meta['cfg']``) is data: written as plain dicts and lists,
read back without running anything.

mmengine stores ``cfg.pretty_text`` (Python source, rendered with yapf on every save) and reads
it back with ``Config.fromstring``, which executes it, imports its ``custom_imports`` and
follows its ``_base_`` files: a checkpoint with ``import os; os.system(...)`` put in front of
its config runs the command while the model is rebuilt. Here:

* :func:`config_to_data` is what this project writes: the resolved config as builtin dicts,
  lists, tuples, strings, numbers, booleans and None (readable by ``weights_only=True``).
* :func:`parse_literal_config` reads the text of older checkpoints (mmengine's dumped
  ``name = dict(...)`` assignments) with an ``ast``-based reader that accepts only assignments
  of literals, ``dict(key=literal, ...)`` / ``dict({...})`` calls, lists, tuples, dict
  displays and ``range(ints)`` (mmcv 1.x's ``gpu_ids``); any other line (imports, calls,
  names, expressions) is refused, naming the file and the line.
* :func:`config_from_checkpoint` turns either form into a ``Config``, with keypoint tables put
  back in id order (see ``clamp_hand.datasets.keypoint_order``).
"""
import ast
from typing import Any, Union

from mmengine.config import Config

from clamp_hand.datasets.keypoint_order import restore_keypoint_order
from .reader import TRUST_HINT, UnsafeCheckpointError

__all__ = ['config_to_data', 'parse_literal_config', 'config_from_checkpoint']

_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, _SCALARS + (tuple,)):
                raise TypeError(f'config entry {where} has a key of type {type(key).__name__}')
            out[key] = _plain(item, f'{where}.{key}' if where else str(key))
        return out
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v, f'{where}[{i}]') for i, v in enumerate(value))
    if isinstance(value, _SCALARS):
        return value
    raise TypeError(f'config entry {where} holds a {type(value).__name__} ({value!r:.60}); a '
                    'checkpoint stores its config as data: write it as a string, number, list '
                    'or dict')


def config_to_data(cfg: Config) -> dict:
    """The resolved ``cfg`` as builtin containers and scalars (lazy imports as their dotted
    names, as ``Config.to_dict`` gives them). Raises ``TypeError`` naming the first entry
    that is not plain data (e.g. a class object)."""
    data = cfg.to_dict() if isinstance(cfg, Config) else dict(cfg)
    return _plain(data, '')


def _literal(node: ast.AST) -> Any:
    """Value of a literal expression: constants, +/- numbers, lists, tuples, dict displays,
    ``dict(key=...)`` / ``dict({...})`` calls and ``range(ints)`` (as a list, at most 4096
    items). Raises ``ValueError`` on anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, _SCALARS):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) \
            and isinstance(node.operand, ast.Constant) \
            and type(node.operand.value) in (int, float):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, ast.List):
        return [_literal(e) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'range' \
            and 1 <= len(node.args) <= 3 and not node.keywords:
        # mmcv 1.x writes gpu_ids = range(0, 1)
        bounds = [_literal(a) for a in node.args]
        if all(type(b) is int for b in bounds) and len(range(*bounds)) <= 4096:
            return list(range(*bounds))
        raise ValueError('range() of non-integers')
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict' \
            and len(node.args) <= 1 and all(k.arg is not None for k in node.keywords):
        # mmengine writes dict(key=...) and, for non-identifier keys, dict({0: ..., 1: ...})
        out = {}
        if node.args:
            out = _literal(node.args[0])
            if not isinstance(out, dict):
                raise ValueError('dict() of a non-dict')
        out.update({k.arg: _literal(k.value) for k in node.keywords})
        return out
    raise ValueError(ast.dump(node)[:80])


def parse_literal_config(text: str, source: str = '<config text>') -> dict:
    """Read mmengine's dumped config text (``name = <literal>`` lines) without executing it.

    Raises ``UnsafeCheckpointError`` naming ``source`` and the first line that is not such an
    assignment (an import, a call other than ``dict(...)``, a variable, an operator, ...)."""
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        raise UnsafeCheckpointError(f'{source}: not a config (syntax error at line {e.lineno}: '
                                    f'{e.msg})') from None
    lines = text.splitlines()
    out = {}
    for stmt in tree.body:
        name = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            try:
                out[name] = _literal(stmt.value)
                continue
            except ValueError:
                pass
        shown = lines[stmt.lineno - 1].strip() if stmt.lineno <= len(lines) else ''
        raise UnsafeCheckpointError(
            f'{source}: line {stmt.lineno} is not a literal config entry: {shown[:120]!r}. A '
            'checkpoint\'s config is read as data (only "name = <literal or dict(...)>" lines); '
            f'it is never run. {TRUST_HINT}')
    return out


def config_from_checkpoint(stored: Union[dict, str], source: str, trust: bool = False) -> Config:
    """A ``Config`` from a checkpoint's ``meta['cfg']``: plain data (this project) or dumped text
    (older checkpoints, read by :func:`parse_literal_config`). ``trust=True`` (the opt-in for
    trusted legacy files) runs text that is not a literal config through
    ``Config.fromstring``, as mmengine does."""
    if isinstance(stored, dict):
        cfg = Config(_plain(stored, ''))
    elif isinstance(stored, str):
        try:
            cfg = Config(parse_literal_config(stored, source))
        except UnsafeCheckpointError:
            if not trust:
                raise
            cfg = Config.fromstring(stored, file_format='.py')
    else:
        raise UnsafeCheckpointError(f'{source}: a config must be a dict or config text, got '
                                    f'{type(stored).__name__}')
    return restore_keypoint_order(cfg)
