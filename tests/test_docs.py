"""Keep the documentation true: run its examples and check that it covers the public API.

* Every fenced ``python`` block in ``docs/**/*.md`` is executed, and every ``pycon``
  block is run as a doctest; the blocks of one page run in order in one namespace, so a
  page reads as one script. A ``python`` block whose first line is ``# not-run`` is
  skipped (use it only for code that truly cannot run, such as a server loop).
* A page that imports a module that does not exist yet (see ``PENDING``) is skipped.
* Every name in the ``__all__`` of the public modules must be mentioned in the docs
  (in prose or through a ``::: module`` directive) and used in at least one example
  (a docs code block, or a ``>>>`` line of a docstring in that module).
* ``mkdocs build --strict`` must pass, and the API pages must render every public name.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

#: Public modules whose ``__all__`` the docs must cover.
PUBLIC_MODULES = (
    "sfakit",
    "sfakit.errors",
    "sfakit.model",
    "sfakit.codec",
    "sfakit.clock",
    "sfakit.rules",
    "sfakit.territory",
    "sfakit.testing.strategies",
    "sfakit.service",
    "sfakit.plugins",
    "sfakit.storage",
    "sfakit.testing.storage",
    "sfakit.events",
    "sfakit.notifiers",
    "sfakit.service.outbox",
    "sfakit.notifiers.smtp",
    "sfakit.notifiers.webhook",
    "sfakit.pipeline",
    "sfakit.recurrence",
    "sfakit.orders",
    "sfakit.forecast",
    "sfakit.forecast.stats",
    "sfakit.qualification",
    "sfakit.qualification.dedupe",
    "sfakit.report",
    "sfakit.demo",
)

#: Modules that are still being written: a page importing one is skipped until it exists.
PENDING = ("sfakit.rules", "sfakit.testing", "hypothesis")

_FENCE_OPEN = re.compile(r"^(?P<indent>[ ]*)(?P<fence>`{3,}|~{3,})[ ]*(?P<info>[^`]*?)[ ]*$")
_DIRECTIVE = re.compile(r"^[ ]*:::[ ]+([\w.]+)[ ]*$", re.MULTILINE)
_DOCTEST_OPTIONS = doctest.ELLIPSIS


class Block(NamedTuple):
    path: Path
    line: int  # 1-based line of the first line of code in the Markdown file
    lang: str
    info: str
    source: str


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "_ext" not in p.relative_to(DOCS).parts)


def extract_blocks(path: Path, text: str | None = None) -> list[Block]:
    """Every fenced code block of a Markdown file, dedented, with its language and line."""
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"]
        closing = re.compile(rf"^[ ]*{re.escape(fence[0])}{{{len(fence)},}}[ ]*$")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        if j == len(lines):
            raise AssertionError(f"{path}:{i + 1}: code fence is never closed")
        lang = info.split()[0].lstrip("{").lstrip(".").lower() if info else ""
        blocks.append(Block(path, i + 2, lang, info, textwrap.dedent("\n".join(body)) + "\n"))
        i = j + 1
    return blocks


def _runnable(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if b.lang in {"python", "py", "pycon"}]


def _imported_modules(block: Block) -> set[str]:
    if block.lang == "pycon":
        source = "\n".join(e.source for e in doctest.DocTestParser().get_examples(block.source))
    else:
        source = block.source
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()  # reported when the block runs
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _skip_pending(blocks: list[Block]) -> None:
    for block in blocks:
        for name in sorted(_imported_modules(block)):
            if any(name == p or name.startswith(p + ".") for p in PENDING):
                pytest.importorskip(name, reason=f"{name} does not exist yet")


def run_blocks(blocks: list[Block]) -> dict[str, object]:
    """Run the blocks in order in one namespace; raise AssertionError on any failure."""
    # A real module, so that classes defined in the docs resolve their annotations.
    stem = str(blocks[0].path.with_suffix("")) if blocks else ""
    name = "docs_example_" + re.sub(r"\W", "_", stem)
    module = ModuleType(name)
    sys.modules[name] = module
    try:
        return _run_in(blocks, module.__dict__)
    finally:
        del sys.modules[name]


def _run_in(blocks: list[Block], namespace: dict[str, object]) -> dict[str, object]:
    parser = doctest.DocTestParser()
    for block in _runnable(blocks):
        where = f"{block.path}:{block.line}"
        if block.lang == "pycon":
            test = parser.get_doctest(
                block.source, namespace, where, str(block.path), block.line - 1
            )
            report: list[str] = []
            runner = doctest.DocTestRunner(optionflags=_DOCTEST_OPTIONS)
            result = runner.run(test, out=report.append, clear_globs=False)
            namespace.update(test.globs)
            if result.failed:
                raise AssertionError(f"pycon block at {where} failed:\n" + "".join(report))
            continue
        if block.source.lstrip().startswith("# not-run"):
            continue
        # Pad with blank lines so that tracebacks point at the line in the Markdown file.
        code = compile("\n" * (block.line - 1) + block.source, str(block.path), "exec")
        try:
            exec(code, namespace)
        except Exception as exc:
            exc.add_note(f"in the python block at {where}")
            raise
    return namespace


# --- the examples run -------------------------------------------------------------------


def test_docs_exist_and_have_examples() -> None:
    pages = {p.relative_to(DOCS).as_posix() for p in _pages()}
    for required in (
        "index.md",
        "concepts/model.md",
        "concepts/rules.md",
        "concepts/errors.md",
        "concepts/codec.md",
        "concepts/clock.md",
        "testing.md",
    ):
        assert required in pages
        assert _runnable(extract_blocks(DOCS / required)), f"{required} has no runnable example"


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_examples_run(page: Path) -> None:
    blocks = extract_blocks(page)
    _skip_pending(_runnable(blocks))
    run_blocks(blocks)


def test_runner_reports_failures(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    text = "```python\nx = 1\n```\n\n    ```pycon\n    >>> x + 1\n    2\n    ```\n"
    assert run_blocks(extract_blocks(page, text))["x"] == 1

    with pytest.raises(AssertionError, match="wrong"):
        run_blocks(extract_blocks(page, "```python\nassert 1 == 2, 'wrong'\n```\n"))
    with pytest.raises(AssertionError, match="pycon block"):
        run_blocks(extract_blocks(page, "```pycon\n>>> 1 + 1\n3\n```\n"))
    with pytest.raises(NameError):
        run_blocks(extract_blocks(page, "```python\nundefined_name\n```\n"))
    with pytest.raises(AssertionError, match="never closed"):
        extract_blocks(page, "```python\nx = 1\n")
    skipped = "```python\n# not-run\nraise SystemExit\n```\n"
    assert "x" not in run_blocks(extract_blocks(page, skipped))


# --- the public API is covered ----------------------------------------------------------


def _module(name: str) -> ModuleType:
    if any(name == p or name.startswith(p + ".") for p in PENDING):
        return pytest.importorskip(name, reason=f"{name} does not exist yet")
    return importlib.import_module(name)


def _docs_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in _pages())


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text) is not None


def _submodules(module: ModuleType) -> Iterator[ModuleType]:
    yield module
    if hasattr(module, "__path__"):
        for info in pkgutil.walk_packages(module.__path__, module.__name__ + "."):
            yield importlib.import_module(info.name)


def _docstring_examples(module: ModuleType) -> str:
    """The ``>>>``/``...`` lines of every docstring in the module (and its submodules)."""
    lines: list[str] = []
    for mod in _submodules(module):
        for node in ast.walk(ast.parse(inspect.getsource(mod))):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node) or ""
                lines += [ln for ln in doc.splitlines() if ln.lstrip().startswith((">>>", "..."))]
    return "\n".join(lines)


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_names_are_mentioned(module_name: str) -> None:
    module = _module(module_name)
    names = list(module.__all__)
    assert names, f"{module_name}.__all__ is empty"
    text = _docs_text()
    directives = set(_DIRECTIVE.findall(text))
    if module_name in directives:
        return
    missing = [n for n in names if not _mentions(text, n)]
    assert not missing, f"not mentioned in docs/ (nor `::: {module_name}`): {missing}"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_names_have_examples(module_name: str) -> None:
    module = _module(module_name)
    examples = "\n".join(b.source for page in _pages() for b in _runnable(extract_blocks(page)))
    docstrings = _docstring_examples(module)
    missing = [
        n for n in module.__all__ if not (_mentions(examples, n) or _mentions(docstrings, n))
    ]
    assert not missing, f"{module_name}: no example in docs/ or in a docstring uses {missing}"


def test_mkdocs_build_is_strict_and_renders_the_api(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    html = "\n".join(p.read_text(encoding="utf-8") for p in site.rglob("*.html"))
    text = _docs_text()
    for module_name in sorted(set(_DIRECTIVE.findall(text))):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            # A directive may name one object inside a module: it must exist and render.
            parent, _, name = module_name.rpartition(".")
            try:
                found = hasattr(importlib.import_module(parent), name)
            except ModuleNotFoundError:
                found = False
            if not found:
                pytest.fail(f"`::: {module_name}` names nothing that exists")
            assert f'id="{module_name}"' in html, f"`::: {module_name}` does not render"
            continue
        unrendered = [
            n
            for n in getattr(module, "__all__", ())
            if not n.startswith("_") and f'id="{module_name}.{n}"' not in html
        ]
        assert not unrendered, f"`::: {module_name}` does not render {unrendered}"
