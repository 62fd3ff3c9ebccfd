"""The config text a run writes, rendered once per content, one top-level statement at a time.

mmengine renders ``Config.pretty_text`` (the whole config formatted with yapf: 1.3 to 3.4 s of
CPU for the configs of this project, more than a tiny training run's steps) every time it is
asked for it, and one run asks five times with the same content: the ``Config:`` log line, the
work dir copy (``Runner.dump_config``), the visualizer's ``config.py``, the message hub's
metadata (``RuntimeInfoHook``) and every checkpoint's ``meta.cfg``. mmengine has no switch for
this, so ``RenderOnceConfig`` memoizes the text on what it is computed from.

yapf formats each top-level statement of that text (``model = dict(...)``,
``train_dataloader = dict(...)``, ...) on its own: the text is mmengine's unformatted text cut
into its statements, each formatted with mmengine's yapf style and memoized on its own
unformatted text, then joined. A second config that differs in a few values (another
``work_dir``, ``load_from`` or schedule: a second run or ``tools/test.py`` in the same process)
re-formats only the statements that changed; nearly all the time is in the statements holding
the dataset metainfo (the data loaders, ``dataset_info``). Every caller still gets exactly the
text mmengine would render (tests/test_config_text.py checks it against
``mmengine.config.Config.pretty_text``); text that is not Python (an unusual value whose ``str``
is no literal, or lines that belong to no statement) is left to mmengine as a whole.
"""
import ast
from collections import OrderedDict

from mmengine.config import Config
from mmengine.utils import digit_version

# mmengine's style for ``pretty_text`` (mmengine/config/config.py, "copied from setup.cfg")
YAPF_STYLE = dict(based_on_style='pep8', blank_line_before_nested_class_or_def=True,
                  split_before_expression_after_opening_paren=True)

_CACHE_SIZE = 8
_rendered: 'OrderedDict[tuple, str]' = OrderedDict()
_STATEMENT_CACHE_SIZE = 128
_statements: 'OrderedDict[str, str]' = OrderedDict()


def _content_key(cfg: Config) -> tuple:
    """What ``Config.pretty_text`` depends on: the values (their ``repr``, which is what it
    prints, in insertion order), the yapf switch and the file type. Equal keys give equal
    text."""
    return (repr(cfg._cfg_dict.to_dict()), cfg._format_python_code,
            str(cfg.filename).rsplit('.', 1)[-1])


def _remember(cache: OrderedDict, key, value, size: int) -> None:
    cache[key] = value
    while len(cache) > size:
        cache.popitem(last=False)


def _format_statement(source: str) -> str:
    """One top-level statement of the unformatted text, formatted as mmengine formats the
    whole text (same yapf call and style), memoized on ``source``."""
    text = _statements.get(source)
    if text is None:
        import yapf
        from yapf.yapflib.yapf_api import FormatCode
        if digit_version(yapf.__version__) >= digit_version('0.40.2'):
            text, _ = FormatCode(source, style_config=YAPF_STYLE)
        else:
            text, _ = FormatCode(source, style_config=YAPF_STYLE, verify=True)
        _remember(_statements, source, text, _STATEMENT_CACHE_SIZE)
    else:
        _statements.move_to_end(source)
    return text


def render(cfg: Config) -> str:
    """``cfg.pretty_text`` as mmengine renders it, formatted one top-level statement at a time
    (module doc)."""
    if not cfg._format_python_code:
        return Config.pretty_text.fget(cfg)
    plain = Config.__new__(Config)
    plain.__dict__.update(cfg.__dict__)
    super(Config, plain).__setattr__('_format_python_code', False)
    source = Config.pretty_text.fget(plain)  # mmengine's text before yapf
    try:
        body = ast.parse(source).body
    except SyntaxError:  # not Python: mmengine raises its own error for it
        return Config.pretty_text.fget(cfg)
    lines = source.splitlines(keepends=True)
    parts = [''.join(lines[node.lineno - 1:node.end_lineno]) for node in body]
    if ''.join(parts) != source:  # something between or beside the statements: as a whole
        return Config.pretty_text.fget(cfg)
    return ''.join(_format_statement(part) for part in parts)


class RenderOnceConfig(Config):
    """An mmengine ``Config`` whose ``pretty_text`` is rendered once per content (a small LRU
    cache shared by all instances) and one statement at a time (``render``): changing a value
    re-formats the statement that holds it."""

    @property
    def pretty_text(self) -> str:
        key = _content_key(self)
        text = _rendered.get(key)
        if text is None:
            text = render(self)
            _remember(_rendered, key, text, _CACHE_SIZE)
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


__all__ = ['RenderOnceConfig', 'render', 'render_once']
