"""Sphinx extension of the hhnb site: writes the generated pages before the build reads the sources.

* ``_generated/cli.md``, ``_generated/configuration.md``, ``_generated/bench.md`` (included by ``cli.md``,
  ``configuration.md``, ``benchmarks.md``) and ``api/<stage>.md`` from :mod:`hhnb_reference`;
* ``notebooks/*.ipynb``: copies of the committed notebooks (rendered with their committed outputs, never
  executed: ``nb_execution_mode = "off"``);
* the index's toctrees: entries whose page does not exist are dropped, and every other page of the folder
  (one another part of the project added) is listed under "More", so no page is left out of the site;
* links written relative to the repository root in pages that also render on GitHub (``docs/physics.md``,
  ``hhnb/config/analyses.yaml``) are turned into links inside the site or to the file's text.

Every written file is rewritten only when its text changes, so a rebuild reads only what changed.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import hhnb_reference as ref

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
GENERATED = DOCS / "_generated"
#: repository files that pages link to and the site shows as text (copied under _generated/files/)
REPO_FILES = ("hhnb/config/analyses.yaml",)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.exists() or dst.read_bytes() != src.read_bytes():
        shutil.copyfile(src, dst)


def write_pages(app=None) -> None:
    """The generated pages and the notebook copies (builder-inited)."""
    _write(GENERATED / "cli.md", ref.cli_markdown())
    _write(GENERATED / "configuration.md", ref.config_markdown())
    _write(GENERATED / "bench.md", ref.bench_markdown())
    pages = ref.api_pages()
    for stale in (DOCS / "api").glob("*.md"):
        if stale.stem not in pages:
            stale.unlink()
    for name, text in pages.items():
        _write(DOCS / "api" / f"{name}.md", text)
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for stale in (DOCS / "notebooks").glob("*.ipynb"):
        if not (ROOT / "notebooks" / stale.name).exists():
            stale.unlink()
    for nb in notebooks:
        _copy(nb, DOCS / "notebooks" / nb.name)
    for rel in REPO_FILES:
        _copy(ROOT / rel, GENERATED / "files" / rel)


_TOCTREE = re.compile(r"(```\{toctree\}\n)(.*?)(```)", re.S)


def _pages() -> set[str]:
    return {p.stem for p in DOCS.glob("*.md")} | {p.stem for p in DOCS.glob("*.ipynb")}


def index_toctrees(text: str) -> str:
    """The index's toctrees without missing pages, plus a "More" toctree of the pages none of them lists."""
    pages, listed = _pages(), {"index"}

    def keep(match: re.Match) -> str:
        lines = []
        for line in match.group(2).splitlines():
            entry = line.strip()
            if entry and not entry.startswith(":") and "*" not in entry:
                listed.add(entry)
                if entry not in pages:
                    continue
            lines.append(line)
        return match.group(1) + "\n".join(lines) + "\n" + match.group(3)

    text = _TOCTREE.sub(keep, text)
    more = sorted(pages - listed)
    if more:
        text += "\n```{toctree}\n:hidden:\n:maxdepth: 1\n:caption: More\n\n" + "\n".join(more) + "\n```\n"
    return text


_LINK = re.compile(r"\]\((?!https?:|#|mailto:)([^)\s]+)\)")


def rewrite_links(text: str, docname: str) -> str:
    """Links written from the repository root (``docs/x.md``, ``hhnb/...``) as links that work in the site."""
    up = "../" * docname.count("/")

    def fix(match: re.Match) -> str:
        target = match.group(1)
        path, _, anchor = target.partition("#")
        if path.startswith("docs/"):
            return f"]({up}{path.removeprefix('docs/')}{'#' + anchor if anchor else ''})"
        if path in REPO_FILES:
            return f"]({up}_generated/files/{path})"
        if path.startswith("../") and (DOCS / path).resolve().is_relative_to(ROOT) and not docname.count("/"):
            inside = (DOCS / path).resolve().relative_to(ROOT).as_posix()
            if inside in REPO_FILES:
                return f"](_generated/files/{inside})"
        return match.group(0)

    return _LINK.sub(fix, text)


def source_read(app, docname: str, source: list[str]) -> None:
    text = source[0]
    if docname == "index":
        text = index_toctrees(text)
    if not docname.startswith(("notebooks/", "api/")):
        text = rewrite_links(text, docname)
    source[0] = text


_LITERAL = re.compile(r"(``.+?``)")


def plain_bars(line: str) -> str:
    r"""``|w|`` in a docstring is an absolute value, not a reStructuredText substitution: escape the bars outside
    ``literals`` and doctest lines.

    >>> plain_bars("training uses |w| and ``a|b``")
    'training uses \\|w\\| and ``a|b``'
    """
    if line.lstrip().startswith((">>>", "...")):
        return line
    parts = _LITERAL.split(line)
    return "".join(p if i % 2 else p.replace("|", "\\|") for i, p in enumerate(parts))


def process_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    """The package's docstrings are prose with ``literals`` and doctests: keep their bars as written."""
    joined: list[str] = []
    for line in lines:  # a ``literal`` that a comment wrapped onto the next line is put back on one line
        if joined and joined[-1].count("``") % 2 and line.strip():
            joined[-1] = f"{joined[-1].rstrip()} {line.strip()}"
        else:
            joined.append(line)
    lines[:] = [plain_bars(line) for line in joined]


def setup(app):
    app.connect("autodoc-process-docstring", process_docstring)
    app.connect("builder-inited", write_pages)
    app.connect("source-read", source_read)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
