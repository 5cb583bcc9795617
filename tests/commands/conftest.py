"""Fixtures the command tests share: a project whose signal ntuple is truncated, and the one-line-error check."""

from __future__ import annotations

import pytest
from userfiles import truncate, write_config, write_ntuple

from hhnb import cli


@pytest.fixture
def bad(tmp_path, monkeypatch):
    """A user config whose signal file is truncated, a truncated toy-style file, and an empty project."""
    monkeypatch.setenv("HHNB_HOME", str(tmp_path / "project"))
    sig = truncate(write_ntuple(tmp_path / "sig.root", 2000, seed=1, shift=1.0))
    write_ntuple(tmp_path / "bkg.root", 2000, seed=2)
    cfg = write_config(tmp_path / "cfg.yaml", [
        {"name": "sig", "class": "signal", "lambdas": [1], "files": "sig.root"},
        {"name": "bkg", "class": "background", "files": "bkg.root"}])
    return {"dir": tmp_path, "sig": sig, "cfg": cfg}


def _one_line_exit_2(capsys, argv: list[str], *expected: str) -> str:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"hhnb {argv[0]}: error: "), err
    for text in expected:
        assert text in err, err
    return err


@pytest.fixture
def one_line_exit_2():
    """``check(capsys, argv, *expected)``: ``hhnb argv`` exits 2 with one stderr line naming every ``expected``."""
    return _one_line_exit_2
