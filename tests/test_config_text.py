"""The config text of a run is rendered once per content (clamp_hand/engine/config_text.py):
same text as mmengine's, one yapf pass for the five places a run writes it, a new pass after
a value changes."""
import copy

from mmengine.config import Config

from clamp_hand.engine import config_text
from clamp_hand.engine.config_text import RenderOnceConfig, render_once


def test_same_text_rendered_once_and_again_after_a_change(monkeypatch):
    cfg = Config(dict(model=dict(type='M', widths=[1, 2, 3]), work_dir='w', lr=0.1),
                 cfg_text='# x', filename='x.py')
    expected = cfg.pretty_text
    calls = []
    render = Config.pretty_text.fget
    monkeypatch.setattr(config_text, '_rendered', type(config_text._rendered)())
    monkeypatch.setattr(Config, 'pretty_text',
                        property(lambda self: calls.append(1) or render(self)))

    once = copy.deepcopy(render_once(cfg))  # what Runner.__init__ keeps
    assert isinstance(once, RenderOnceConfig) and render_once(once) is once
    assert [once.pretty_text for _ in range(5)] == [expected] * 5
    assert len(calls) == 1
    assert once.filename == cfg.filename and once.model.widths == [1, 2, 3]

    once.lr = 0.2
    assert once.pretty_text == render(once) != expected
    assert 'lr = 0.2' in once.pretty_text and len(calls) == 2
