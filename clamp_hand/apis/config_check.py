"""Check a config's ``type=`` names against the registries before anything is built.

mmengine reports an unknown type only when it reaches it (possibly after the model and the
datasets were built) and without suggestions. ``check_registered_types`` walks the whole
config once, finds every ``type='Name'`` string, and raises a ``KeyError`` naming the config
key, the unknown name and the closest registered names (difflib), e.g.::

    model.head.type='DeconvHeatmapHaed' is not registered (scope clamp_hand, mmpose,
    mmengine). Closest registered names: DeconvHeatmapHead, ...
"""
import difflib
from typing import Dict, Iterator, Set, Tuple

import mmengine.registry as mmengine_registry
from mmengine.registry import Registry


def _all_registries() -> Iterator[Registry]:
    """Every registry of mmengine, mmpose and clamp_hand, with their parents and children."""
    import mmpose.registry as mmpose_registry

    import clamp_hand.registry as clamp_registry
    todo = [r for mod in (mmengine_registry, mmpose_registry, clamp_registry)
            for r in vars(mod).values() if isinstance(r, Registry)]
    seen = set()
    while todo:
        reg = todo.pop()
        if id(reg) in seen:
            continue
        seen.add(id(reg))
        yield reg
        todo.extend(reg.children.values())
        if reg.parent is not None:
            todo.append(reg.parent)


def registered_names() -> Set[str]:
    """Names registered anywhere (all scopes)."""
    names = set()
    for reg in _all_registries():
        names.update(reg.module_dict.keys())
    return names


# dataset metadata uses 'type' for other things (keypoint_info: type='upper')
NOT_BUILT = ('metainfo', 'dataset_info', 'keypoint_info', 'skeleton_info')


def _type_fields(node, path: str = '') -> Iterator[Tuple[str, str]]:
    """``(key path, type name)`` for every string ``type`` in a nested config."""
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f'{path}.{key}' if path else str(key)
            if key in NOT_BUILT:
                continue
            if key == 'type' and isinstance(value, str):
                yield sub, value
            else:
                yield from _type_fields(value, sub)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _type_fields(value, f'{path}.{i}')


def check_registered_types(cfg: Dict, config_path: str = '<config>') -> None:
    """Raise ``KeyError`` for the first ``type`` name that no registry knows.
    Call after ``register_all_modules()`` so that every project module is registered."""
    names = registered_names()
    for path, name in _type_fields(cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg):
        bare = name.split('.')[-1]  # 'mmpose.LoadImage' -> 'LoadImage'
        if bare in names:
            continue
        close = difflib.get_close_matches(bare, sorted(names), n=5, cutoff=0.5)
        hint = (f'Closest registered names: {", ".join(close)}.' if close else
                'No registered name is close to it.')
        raise KeyError(
            f"{config_path}: {path}={name!r} is not registered in any registry (scopes "
            f"clamp_hand, mmpose, mmengine). {hint} Fix the spelling, or import the module "
            "that registers it through custom_imports=dict(imports=[...]).")
