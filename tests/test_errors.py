"""hhnb.errors: every user-error class in one module, listed in __all__, none defined or aliased elsewhere."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from hhnb import errors

PACKAGE = Path(errors.__file__).parent


def _error_classes() -> list[type]:
    return [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.HHNBError)]


def test_all_lists_every_error_class_and_message():
    assert sorted(errors.__all__) == sorted([c.__name__ for c in _error_classes()] + ["message"])


def test_every_error_is_also_the_builtin_it_stands_for():
    assert issubclass(errors.ConfigError, ValueError) and issubclass(errors.MissingInputFile, FileNotFoundError)
    assert issubclass(errors.UnwritableOutput, PermissionError) and issubclass(errors.SchedulerLost, errors.ClusterError)
    assert all(issubclass(c, errors.HHNBError) for c in _error_classes())


def test_no_module_defines_or_aliases_an_error_class():
    """No ``class X(SomeError)`` outside errors.py, and no ``Y = errors.X`` / ``Y = X`` second name."""
    names = {c.__name__ for c in _error_classes()}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                    (isinstance(b, ast.Name) and b.id in names) or (isinstance(b, ast.Attribute) and b.attr in names)
                    or (isinstance(b, ast.Name) and b.id.endswith(("Error", "Exception"))) for b in node.bases):
                found.append(f"{path.name}: class {node.name}")
            elif isinstance(node, ast.Assign) and isinstance(node.value, (ast.Name, ast.Attribute)):
                value = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
                if value in names:
                    found.append(f"{path.name}: {ast.unparse(node)}")
    assert found == []


def test_library_code_raises_no_bare_value_or_key_error():
    """User-facing failures are hhnb errors (one line from the command); the bare ones left are bugs' guards."""
    allowed = {("rootcopy.py", "TypeError"), ("rootcopy.py", "ValueError"), ("expressions.py", "TypeError"),
               ("onnx.py", "RuntimeError"),  # internal checks on arrays hhnb built itself, caught or a bug
               ("analyses.py", "ValueError"), ("layout.py", "ValueError")}  # a variation direction other than up or
    # down: hhnb's own loops pass layout.DIRECTIONS, so it can only be a bug
    bare = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
                name = node.exc.func.id
                if name in ("ValueError", "KeyError", "TypeError", "RuntimeError") and (path.name, name) not in allowed:
                    bare.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {name}")
    assert bare == []


@pytest.mark.parametrize("exc,text", [
    (errors.ConfigError("bad key\n  a: b"), "bad key; a: b"),
    (KeyError("no such column"), "no such column"),
    (errors.InputFileError("file x.root: tree 'Events' missing"), "file x.root: tree 'Events' missing"),
])
def test_message_is_one_line(exc, text):
    assert errors.message(exc) == text
