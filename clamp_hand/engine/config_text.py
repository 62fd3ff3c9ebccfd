"""The config text a run writes, rendered once per content.

mmengine renders ``Config.pretty_text`` (the whole config formatted with yapf: about 1.5 s of
CPU for a CLAMP config, more than a tiny training run's steps) every time it is asked for it,
and one run asks five times with the same content: the ``Config:`` log line, the work dir copy
(``Runner.dump_config``), the visualizer's ``config.py``, the message hub's metadata
(``RuntimeInfoHook``) and every checkpoint's ``meta.cfg``. mmengine has no switch for this, so
``RenderOnceConfig`` memoizes the text on what it is computed from; every caller still gets
exactly the text mmengine would render.
"""
from collections import OrderedDict

from mmengine.config import Config

_CACHE_SIZE = 8
_rendered: 'OrderedDict[tuple, str]' = OrderedDict()


def _content_key(cfg: Config) -> tuple:
    """What ``Config.pretty_text`` depends on: the values (their ``repr``, which is what it
    prints, in insertion order), the yapf switch and the file type. Equal keys give equal
    text."""
    return (repr(cfg._cfg_dict.to_dict()), cfg._format_python_code,
            str(cfg.filename).rsplit('.', 1)[-1])


class RenderOnceConfig(Config):
    """An mmengine ``Config`` whose ``pretty_text`` is rendered once per content (a small LRU
    cache shared by all instances): changing a value renders anew."""

    @property
    def pretty_text(self) -> str:
        key = _content_key(self)
        text = _rendered.get(key)
        if text is None:
            text = Config.pretty_text.fget(self)
            _rendered[key] = text
            while len(_rendered) > _CACHE_SIZE:
                _rendered.popitem(last=False)
        else:
            _rendered.move_to_end(key)
        return text


def render_once(cfg: Config) -> Config:
    """A shallow copy of ``cfg`` (same values, filename, text, environment variables) as a
    ``RenderOnceConfig``; ``copy.deepcopy`` of it (what the Runner does) keeps the class."""
    if isinstance(cfg, RenderOnceConfig):
        return cfg
    out = RenderOnceConfig.__new__(RenderOnceConfig)
    out.__dict__.update(cfg.__dict__)
    return out


__all__ = ['RenderOnceConfig', 'render_once']
