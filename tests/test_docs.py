"""The documentation cannot rot unseen: every tool answers ``--help``; every option a page
passes to a tool is one the tool has; every config, tool, test and figure a page names exists;
every link between the pages lands on a page and heading that exist; and the blocks marked
``<!-- quick: ... -->`` run as written (from a copy of the checkout's layout, so nothing is
written into it).

Python tools are asked for ``--help`` in this process (``runpy``): the imports are paid once,
not once per tool."""
import contextlib
import functools
import glob
import io
import os
import os.path as osp
import re
import runpy
import subprocess
import sys

import pytest

from conftest import ROOT, run_tool

PAGES = [osp.join(ROOT, 'README.md')] + sorted(glob.glob(osp.join(ROOT, 'docs', '*.md')))
PY_TOOLS = sorted(osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'tools', '**', '*.py'),
                                                           recursive=True))
SH_TOOLS = sorted(osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'tools', '*.sh'))
                  if not osp.basename(p).startswith('_'))
QUICK = '<!-- quick:'


def page_name(path):
    return osp.relpath(path, ROOT)


@functools.lru_cache(maxsize=None)
def tool_help(tool: str) -> str:
    """``python TOOL --help`` run in this process; its stdout (argparse exits with 0)."""
    out, argv, path = io.StringIO(), sys.argv, list(sys.path)
    sys.argv = [osp.join(ROOT, tool), '--help']
    try:
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
            runpy.run_path(osp.join(ROOT, tool), run_name='__main__')
    finally:
        sys.argv, sys.path[:] = argv, path
    assert exit_.value.code in (0, None), f'{tool} --help exited with {exit_.value.code}'
    return out.getvalue()


def code_spans(text):
    """Command-like code of a page: each line of its fenced blocks (backslash continuations
    joined) and each inline code span."""
    spans, fence = [], False
    for line in re.sub(r'\\\n\s*', ' ', text).splitlines():
        if line.startswith('```'):
            fence = not fence
        elif fence:
            spans.append(line)
        else:
            spans += re.findall(r'`([^`]+)`', line)
    return spans


def tool_calls(span):
    """``(tool, [options])`` for each ``tools/X.py`` in a span, with the ``--options`` that
    follow it up to the next tool."""
    parts = re.split(r'(tools/[\w/]+\.py)', span)
    return [(parts[i], re.findall(r'(?<![\w-])(--[a-z][\w-]*)', parts[i + 1]))
            for i in range(1, len(parts), 2)]


def quick_blocks(path):
    """The fenced blocks right after a ``<!-- quick: ... -->`` line."""
    blocks = re.findall(r'^' + re.escape(QUICK) + r'.*?-->\n```\w*\n(.*?)```', open(path).read(),
                        flags=re.M | re.S)
    return [re.sub(r'\\\n\s*', ' ', b).strip() for b in blocks]


def slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation but '-' dropped, spaces to '-'."""
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


@pytest.mark.parametrize('tool', PY_TOOLS)
def test_every_python_tool_prints_help(tool):
    assert 'usage:' in tool_help(tool)


@pytest.mark.parametrize('tool', SH_TOOLS)
def test_every_shell_tool_prints_help(tool):
    out = subprocess.run(['bash', tool, '--help'], cwd=ROOT, capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0 and len(out.stdout.strip().splitlines()) >= 2, out


def test_documented_tool_options_exist():
    missing = []
    for page in PAGES:
        for span in code_spans(open(page).read()):
            for tool, options in tool_calls(span):
                if not osp.isfile(osp.join(ROOT, tool)):
                    missing.append(f'{page_name(page)}: {tool} does not exist')
                    continue
                text = tool_help(tool)
                missing += [f'{page_name(page)}: {tool} has no option {o}' for o in options
                            if not re.search(re.escape(o) + r'\b', text)]
    assert not missing, '\n'.join(missing)


def expand_braces(path):
    m = re.search(r'\{([^{}]*)\}', path)
    if not m:
        return [path]
    return [q for alt in m.group(1).split(',')
            for q in expand_braces(path[:m.start()] + alt + path[m.end():])]


def test_documented_files_exist():
    pattern = r'(?<![\w/.])((?:configs|tools|tests|docs/figures)/[\w/.{},-]+\.(?:py|sh|png))'
    missing = [f'{page_name(page)}: {p}' for page in PAGES
               for named in re.findall(pattern, open(page).read())
               for p in expand_braces(named) if not osp.isfile(osp.join(ROOT, p))]
    assert not missing, '\n'.join(missing)


def test_links_between_pages_land_on_headings():
    bad = []
    for page in PAGES:
        text = open(page).read()
        for target in re.findall(r'\]\(([^)\s]+)\)', text):
            if re.match(r'[a-z]+://', target):
                continue
            file, _, anchor = target.partition('#')
            dest = osp.normpath(osp.join(osp.dirname(page), file)) if file else page
            if not osp.exists(dest):
                bad.append(f'{page_name(page)}: {target} (no such file)')
            elif anchor and dest.endswith('.md'):
                body = re.sub(r'^```.*?^```', '', open(dest).read(), flags=re.M | re.S)
                slugs = {slug(h) for h in re.findall(r'^#+ (.*)$', body, flags=re.M)}
                if anchor not in slugs:
                    bad.append(f'{page_name(page)}: {target} (no such heading)')
    assert not bad, '\n'.join(bad)


def test_readme_is_a_front_page_linking_every_docs_page():
    readme = open(osp.join(ROOT, 'README.md')).read()
    assert len(readme.splitlines()) <= 200
    for page in PAGES[1:]:
        assert f'(docs/{osp.basename(page)})' in readme, f'README.md does not link {page}'


QUICK_COMMANDS = [(page_name(p), block) for p in PAGES for block in quick_blocks(p)]


def test_there_are_quick_commands():
    assert len(QUICK_COMMANDS) >= 2


@pytest.mark.parametrize('page,block', QUICK_COMMANDS,
                         ids=[f'{p}:{i}' for i, (p, _) in enumerate(QUICK_COMMANDS)])
def test_quick_commands_run_as_written(page, block, tmp_path):
    """Run from a copy of the layout (the checkout's entries linked, ``../shared`` beside
    it, a fresh ``work_dirs/``), so relative paths resolve as in the checkout."""
    if '../shared/' in block and not osp.isdir(osp.join(ROOT, '..', 'shared')):
        pytest.skip('../shared (the real hand samples) is not beside the checkout')
    repo = tmp_path / 'repo'
    repo.mkdir()
    for entry in os.listdir(ROOT):
        if entry not in ('work_dirs', '.git'):
            os.symlink(osp.join(ROOT, entry), repo / entry)
    (repo / 'work_dirs').mkdir()
    shared = osp.realpath(osp.join(ROOT, '..', 'shared'))
    if osp.isdir(shared):
        os.symlink(shared, tmp_path / 'shared')
    run_tool(['bash', '-euo', 'pipefail', '-c', block], timeout=300, cwd=str(repo))
    assert os.listdir(repo / 'work_dirs'), f'{page}: the block wrote nothing to work_dirs/'
