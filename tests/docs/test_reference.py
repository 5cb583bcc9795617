"""The generated references list everything (issue 27, item 3), checked on their Markdown without a build.

``docs/_ext/hhnb_reference.py`` writes the CLI reference from the argument parsers and the configuration
reference from the schema; here they are compared with the parsers and the schema themselves, so a new
option or key that the site would not show fails ``make test``.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from pathlib import Path

import pytest

from hhnb import cli
from hhnb.config.analyses import SCHEMA

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))  # the site's extension modules (docs/_ext), no Sphinx needed
ref = importlib.import_module("hhnb_reference")

CLI = ref.cli_markdown()
CONFIG = ref.config_markdown()


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## hhnb (\w+)$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_the_cli_reference_has_every_subcommand_and_every_option():
    top, subs = ref.subcommand_parsers()
    sections = _sections(CLI)
    assert list(sections) == list(cli.COMMANDS)
    assert "`-v`, `--verbose`" in CLI.split("## hhnb")[0]
    checked = 0
    for name, parser in subs.items():
        rows = [line for line in sections[name].splitlines() if line.startswith("| `")]
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            names = action.option_strings or [action.metavar or action.dest]
            assert any(all(f"`{o}`" in row.split(" | ")[0] for o in names) for row in rows), (name, names)
            checked += 1
        assert parser.format_usage().strip() in sections[name]
    assert checked > 100, checked


def test_the_cli_reference_rows_say_value_default_and_meaning():
    apply = _sections(CLI)["apply"]
    row = next(line for line in apply.splitlines() if line.startswith("| `--lambdas`"))
    assert row == ("| `--lambdas` | `LAMBDAS`: text | `1.0` | '1,10,m5.0' or 'all' (every network found; "
                   "default 1.0) |")
    assert "| `files` | `files`: text (one or more) | required |" in apply
    assert "| `--backend` | one of `keras`, `onnx` | `keras` |" in apply
    cut = _sections(CLI)["cut"]
    assert "(exclusive with --best; one of them is required)" in cut  # the mutually exclusive --cut / --best
    tree = next(line for line in cut.splitlines() if line.startswith("| `--tree`"))
    assert "%(default)s" not in tree and "tree name (default preselection)" in tree


def test_the_configuration_reference_has_every_key_of_the_schema():
    keys = ref.schema_keys()
    rows = {m.group(1): line for line in CONFIG.splitlines() if (m := re.match(r"\| `([^`]+)` \|", line))}
    assert [k for k, _, _ in keys] == list(rows)
    for path, node, required in keys:
        assert ref.describe(path, node), f"configuration key {path} has no description (docs/_ext KEYS or the schema)"
        assert (" | yes | " in rows[path]) == required, path
    # every key of the schema, found by a plain walk of its "properties"
    def names(node, out):
        if isinstance(node, dict):
            for key, child in node.get("properties", {}).items():
                out.add(key)
                names(child, out)
            for child in node.values():
                names(child, out)
        elif isinstance(node, list):
            for child in node:
                names(child, out)
        return out
    assert names(SCHEMA, set()) == {k.rsplit(".", 1)[-1] for k, _, _ in keys}
    assert set(ref.KEYS) <= set(rows), f"KEYS describes keys the schema no longer has: {set(ref.KEYS) - set(rows)}"


def test_the_configuration_rows_give_type_default_and_example():
    rows = {m.group(1): line for line in CONFIG.splitlines() if (m := re.match(r"\| `([^`]+)` \|", line))}
    assert rows["analyses.*.negative_weights"].startswith("| `analyses.*.negative_weights` | one of `abs`, `keep`, "
                                                          "`zero` |  | `abs` |")
    assert "| `preselection` (hhnb.layout.DEFAULT_TREE) |" in rows["analyses.*.tree"]
    assert rows["analyses.*.samples[].cross_section"].startswith(
        "| `analyses.*.samples[].cross_section` | number (> 0) |")
    # examples from the shipped analyses.yaml where it sets the key
    assert rows["analyses.*.weight"].endswith("| `genWeight` |")
    assert rows["analyses.*.mhh_bins"].endswith("| `[200, 250, 300, 350, 400, 500]` |")
    assert rows["luminosity"].endswith("| `3000.0` |")


def test_every_public_module_has_an_api_page_entry():
    pages = ref.api_pages()
    text = "\n".join(pages.values())
    modules = [p for p in (ROOT / "hhnb").rglob("*.py") if not p.name.startswith("_")
               and p.parent.name != "notebooks"]
    for path in modules:
        dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        assert f"```{{eval-rst}}\n.. automodule:: {dotted}\n   :members:\n```" in text, dotted
    assert set(pages) == {"hhnb", *ref.STAGES}


def test_the_bench_page_gives_the_table_with_its_date_and_commit(tmp_path):
    csv = tmp_path / "bench.csv"
    csv.write_text("benchmark,hhnb,peer,reference,unit,ratio,goal,met,measured,file,commit\n"
                   "read + select vs uproot.iterate,847000.0,uproot,690000.0,events/s,1.2275,>= 0.8,yes,2026-12-03,"
                   "bench_generate,f54355b\n")
    text = ref.bench_markdown(csv)
    assert "commit f54355b" in text and "written 20" in text
    assert "| read + select vs uproot.iterate | 8.47e+05 | uproot | 6.9e+05 | events/s | 1.228 | >= 0.8 | yes | " \
           "2026-12-03 | f54355b |" in text
    stored = ref.bench_markdown(tmp_path / "missing.csv")
    assert "has not been run in this checkout" in stored and "make demo from a fresh clone" in stored
    assert "| measured | commit |" in stored  # each stored row names the commit it was measured at


@pytest.mark.parametrize(("text", "docname", "expected"), [
    ("see [physics](docs/physics.md#4-significance)", "own-ntuples", "see [physics](physics.md#4-significance)"),
    ("[the YAML](hhnb/config/analyses.yaml)", "own-ntuples", "[the YAML](_generated/files/hhnb/config/analyses.yaml)"),
    ("[toy](toy.md) and [web](https://example.org/docs/x.md)", "physics", "[toy](toy.md) and [web](https://example.org/docs/x.md)"),
    ("[physics](docs/physics.md)", "api/stats", "[physics](../physics.md)"),
])
def test_links_from_the_repository_root_work_in_the_site(text, docname, expected):
    hhnb_docs = importlib.import_module("hhnb_docs")
    assert hhnb_docs.rewrite_links(text, docname) == expected


def test_the_index_lists_existing_pages_and_every_other_page():
    hhnb_docs = importlib.import_module("hhnb_docs")
    text = "```{toctree}\n:maxdepth: 1\n\ngetting-started\nno-such-page\n```\n"
    out = hhnb_docs.index_toctrees(text)
    assert "no-such-page" not in out and "getting-started" in out
    more = out.split(":caption: More")[1]
    pages = {p.stem for p in (ROOT / "docs").glob("*.md")} - {"index", "getting-started"}
    assert set(more.split()) >= pages


def test_docstrings_keep_their_bars_and_wrapped_literals():
    """``|w|`` is an absolute value, not a substitution; a literal wrapped over two comment lines is one literal."""
    import doctest

    hhnb_docs = importlib.import_module("hhnb_docs")
    assert doctest.testmod(hhnb_docs).failed == 0
    lines = ['stored: ``{"tree": "Runs", "branch":', '"genEventSumw"}`` (summed) or |w|', "", ">>> abs(-1) | 2", "3"]
    hhnb_docs.process_docstring(None, "attribute", "x", None, {}, lines)
    assert lines == ['stored: ``{"tree": "Runs", "branch": "genEventSumw"}`` (summed) or \\|w\\|', "",
                     ">>> abs(-1) | 2", "3"]
