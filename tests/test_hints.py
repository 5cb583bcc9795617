"""Every hint true (issue 27, item 4): each ``hhnb ...`` command that the README, a docs page, a notebook or a
message of the package suggests parses with the real ``hhnb`` argument parser.

The commands are extracted from: README.md and docs/*.md (fenced code blocks, continuation lines joined, and
inline code spans), the committed notebooks (markdown cells and code cells) and every string literal under
hhnb/ (messages, f-strings with each ``{...}`` replaced by a sample value, docstrings). Each one is split like
a shell would (quotes, no globbing) and given to ``hhnb.cli.build_parser(argv).parse_args(argv)``: an unknown
option (``hhnb apply --file``, the hint train.ipynb once gave), a missing required option or a wrong choice
fails here. The few that are not meant as full commands are listed in :data:`EXCEPTIONS` with the reason.
The README's Python example is executed (slow) in ``tests/docs/test_readme.py``.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import re
import shlex
from pathlib import Path

import pytest

from hhnb import cli

ROOT = Path(__file__).resolve().parents[1]
SUBCOMMANDS = "|".join(cli.COMMANDS)
#: "hhnb <subcommand> ..." up to the end of the code, a comment, a parenthesis or a semicolon
COMMAND = re.compile(rf"(?<![\w./-])hhnb ((?:{SUBCOMMANDS})(?=\s|$)[^\n`#();]*)")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
INLINE = re.compile(r"`([^`\n]+)`")
F_VALUE = "1"  # what an f-string's {...} becomes: a valid value for every option the hints fill in

#: hint text (after "hhnb ") -> why it is not parsed as a full command
EXCEPTIONS = {
    "cut --best": "prose in evaluate.ipynb and summary.ipynb naming the option that takes the run record's best "
                  "cut; the full command (--file, --branch) is in the README and docs/getting-started.md",
    "search --epochs": "docs/architecture.md names the option whose default lives in hhnb.config.training",
}


def _from_markdown(text: str) -> list[str]:
    """Commands in fenced code blocks (continuation lines joined) and in inline code spans."""
    found = []
    for block in FENCE.findall(text):
        found += [m.group(1) for m in COMMAND.finditer(block.replace("\\\n", " "))]
    prose = FENCE.sub("", text)
    for span in INLINE.findall(prose):
        found += [m.group(1) for m in COMMAND.finditer(span)]
    return found


def _strings(tree: ast.AST) -> list[str]:
    """Every string of a module: literals, f-strings and ``"..." + str(x) + "..."`` sums, each value that is not
    literal text replaced by :data:`F_VALUE`; the parts of a larger string are not listed again on their own."""
    consumed: set[int] = set()

    def text(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(str(v.value) if isinstance(v, ast.Constant) else F_VALUE for v in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = text(node.left), text(node.right)
            if left is None and right is None:
                return None
            return (F_VALUE if left is None else left) + (F_VALUE if right is None else right)
        return None

    out = []
    for node in ast.walk(tree):  # outermost first: a sum is met before its parts
        if id(node) in consumed:
            continue
        value = text(node)
        if value is not None:
            out.append(value)
            consumed.update(id(n) for n in ast.walk(node))
    return out


def hints() -> list[tuple[str, str]]:
    """(where, command after "hhnb ") for every command suggested anywhere."""
    found: list[tuple[str, str]] = []
    pages = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
    for page in pages:
        found += [(str(page.relative_to(ROOT)), c) for c in _from_markdown(page.read_text())]
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
            text = "".join(cell["source"])
            where = f"{nb.relative_to(ROOT)} cell {i}"
            if cell["cell_type"] == "markdown":
                found += [(where, c) for c in _from_markdown(text)]
            else:
                found += [(where, m.group(1)) for m in COMMAND.finditer(text)]
    for module in sorted((ROOT / "hhnb").rglob("*.py")):
        for text in _strings(ast.parse(module.read_text())):
            # docstrings and messages quote commands as ``hhnb x`` or 'hhnb x' or plain: cut at quotes too
            for m in COMMAND.finditer(text):
                command = re.split(r"``|`|'(?=\s|$)|\"", m.group(1))[0]
                found.append((str(module.relative_to(ROOT)), command))
    return [(where, " ".join(c.split())) for where, c in found]


def parse(command: str) -> str | None:
    """None if ``hhnb <command>`` parses with the real parser, else what argparse said."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return f"not shell syntax: {exc}"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            cli.build_parser(argv).parse_args(argv)
        except SystemExit as exc:
            if exc.code not in (0, None):  # --help exits 0
                return err.getvalue().strip().splitlines()[-1]
    return None


HINTS = hints()


def test_the_extraction_finds_hints_in_every_kind_of_source():
    wheres = {w.split(" cell ")[0] for w, _ in HINTS}
    assert "README.md" in wheres and "docs/own-ntuples.md" in wheres
    assert any(w.startswith("notebooks/") for w in wheres)
    assert "hhnb/io/ntuples.py" in wheres  # the "generate the toy ntuples first (hhnb generate ...)" message
    assert ("hhnb/io/ntuples.py", f"generate --analyses {F_VALUE} --lambdas {F_VALUE}") in HINTS
    readme = [c for w, c in HINTS if w == "README.md"]
    assert "check --config my_analysis.yaml" in readme
    assert len(HINTS) > 60, len(HINTS)


def test_the_old_apply_file_hint_fails():
    """The hint train.ipynb once gave: hhnb apply has no --file (its files are positional)."""
    assert "unrecognized arguments: --file" in parse("apply --model models/nn_resolved_SlfCoup_1.0.json --file x.root")
    assert parse("apply --model models/nn_resolved_SlfCoup_1.0.json x.root") is None
    assert "the following arguments are required: --file, --branch" in parse("cut --best")
    assert parse("apply --help") is None


@pytest.mark.parametrize("command", sorted({c for _, c in HINTS}))
def test_every_suggested_command_parses(command):
    where = sorted({w for w, c in HINTS if c == command})
    if command in EXCEPTIONS:
        assert parse(command) is not None, f"'hhnb {command}' parses now: drop it from EXCEPTIONS"
        return
    if command in cli.COMMANDS:  # the command's name in prose ("`hhnb apply` writes ..."): it exists
        return
    problem = parse(command)
    assert problem is None, f"'hhnb {command}' (in {', '.join(where)}): {problem}"


def test_every_exception_is_still_there():
    commands = {c for _, c in HINTS}
    assert set(EXCEPTIONS) <= commands, set(EXCEPTIONS) - commands
