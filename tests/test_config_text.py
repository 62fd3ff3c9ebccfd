"""The config text of a run is rendered once per content, one top-level statement at a time
(clamp_hand/engine/config_text.py): same text as mmengine's, one yapf pass per statement for the
five places a run writes it, a new pass for the statement whose value changed only."""
import copy

import pytest
import yapf.yapflib.yapf_api as yapf_api
from mmengine.config import Config

from clamp_hand.engine import config_text
from clamp_hand.engine.config_text import RenderOnceConfig, render_once
from reliability_utils import DIST_CHECK_CFG


@pytest.fixture
def yapf_calls(monkeypatch):
    """Empty render caches; the list of texts yapf is asked to format."""
    monkeypatch.setattr(config_text, '_rendered', type(config_text._rendered)())
    monkeypatch.setattr(config_text, '_statements', type(config_text._statements)())
    calls, format_code = [], yapf_api.FormatCode
    monkeypatch.setattr(yapf_api, 'FormatCode',
                        lambda text, **kw: calls.append(text) or format_code(text, **kw))
    return calls


def test_same_text_rendered_once_and_again_after_a_change(yapf_calls):
    cfg = Config(dict(model=dict(type='M', widths=[1, 2, 3]), work_dir='w', lr=0.1),
                 cfg_text='# x', filename='x.py')
    expected = cfg.pretty_text  # mmengine's: the whole text in one yapf pass
    assert len(yapf_calls) == 1
    del yapf_calls[:]

    once = copy.deepcopy(render_once(cfg))  # what Runner.__init__ keeps
    assert isinstance(once, RenderOnceConfig) and render_once(once) is once
    assert [once.pretty_text for _ in range(5)] == [expected] * 5
    assert len(yapf_calls) == 3  # model, lr, work_dir: one pass each, once
    assert once.filename == cfg.filename and once.model.widths == [1, 2, 3]

    once.lr = 0.2
    text = once.pretty_text
    assert yapf_calls[3:] == ['lr=0.2\n']  # the changed statement only (unformatted)
    assert text == Config.pretty_text.fget(once) != expected and 'lr = 0.2' in text


def test_a_real_config_renders_as_mmengine_and_a_new_work_dir_reformats_one_line(yapf_calls):
    from clamp_hand.apis import load_config
    cfg = load_config(DIST_CHECK_CFG)  # dataset metainfo, pipelines, nested lists and tuples
    cfg.work_dir = 'work_dirs/a'
    assert render_once(cfg).pretty_text == Config.pretty_text.fget(cfg)
    del yapf_calls[:]
    cfg.work_dir = 'work_dirs/b'
    assert render_once(cfg).pretty_text.endswith("work_dir = 'work_dirs/b'\n")
    assert yapf_calls == ["work_dir='work_dirs/b'"]


def test_text_that_is_not_python_fails_as_in_mmengine(yapf_calls):
    cfg = Config(dict(a=1, f=open))  # str(open) is no Python literal
    with pytest.raises(SyntaxError, match='Failed to format the config file') as ours:
        render_once(cfg).pretty_text
    with pytest.raises(SyntaxError) as theirs:
        Config.pretty_text.fget(cfg)
    assert str(ours.value) == str(theirs.value)
