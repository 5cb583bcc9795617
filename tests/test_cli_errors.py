"""Every command that reads ROOT files answers a truncated or corrupt file with one line on stderr and exit 2."""

from __future__ import annotations

import json
import shutil

import pytest
from userfiles import truncate, write_config, write_ntuple

from hhnb import cli, layout


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


def test_samples(bad, capsys):
    _one_line_exit_2(capsys, ["samples", "--config", str(bad["cfg"]), "--analysis", "mine"],
                     str(bad["sig"]), "not a readable ROOT file")


def test_samples_missing_feature_branch_is_an_error(bad, capsys):
    write_ntuple(bad["sig"], 100, seed=3, branches=("x1", "w", "evt"))
    _one_line_exit_2(capsys, ["samples", "--config", str(bad["cfg"]), "--analysis", "mine"],
                     "missing branch(es) 'x2'")


def test_generate(bad, capsys):
    data = bad["dir"] / "data"
    for category in ("resolved", "intermediate", "boosted"):
        (data / category).mkdir(parents=True)
        shutil.copy(bad["sig"], data / category / layout.toy_file_name("hh", 1.0))
    _one_line_exit_2(capsys, ["generate", "--analyses", "resolved", "--lambdas", "1", "--events", "50",
                              "--data-dir", str(data), "--skip-existing", "--no-progress"],
                     "is not a readable toy ntuple")


def test_apply(bad, capsys):
    models = bad["dir"] / "models"
    models.mkdir()
    model = layout.model_path(models, "mine", 1.0)
    model.write_bytes(b"never loaded: the input is checked first")
    card = {"analysis": "mine", "lambda": 1.0, "features": ["x1", "x2"], "classes": ["signal", "background"],
            "tree": "Events", "event_branch": "evt"}
    layout.card_path(models, "mine", 1.0).write_text(json.dumps(card))
    _one_line_exit_2(capsys, ["apply", str(bad["sig"]), "--model", str(model), "--no-progress"],
                     str(bad["sig"]), "not a readable ROOT file")
    assert not layout.applied_path(bad["sig"]).exists()


def test_cut(bad, capsys):
    branch = layout.score_branches("mine", 1.0, ["signal", "background"])[0]
    _one_line_exit_2(capsys, ["cut", "--file", str(bad["sig"]), "--branch", branch, "--cut", "0.5",
                              "--tree", "Events", "--weight", "w", "--config", str(bad["cfg"])], str(bad["sig"]))


def test_roc(bad, capsys):
    _one_line_exit_2(capsys, ["roc", "--file", str(bad["sig"])], str(bad["sig"]))


def test_sweep(bad, capsys):
    _one_line_exit_2(capsys, ["sweep", "--config", str(bad["cfg"]), "--analyses", "mine", "--lambdas", "1",
                              "--no-progress"], str(bad["sig"]), "not a readable ROOT file")


def test_search(bad, capsys):
    _one_line_exit_2(capsys, ["search", "--config", str(bad["cfg"]), "--analysis", "mine", "--lambda", "1",
                              "--trials", "1", "--epochs", "1", "--storage", f"sqlite:///{bad['dir'] / 'o.sqlite'}",
                              "--data-dir", str(bad["dir"]), "--no-record"],
                     str(bad["sig"]), "not a readable ROOT file")


def test_anything_else_keeps_its_traceback(monkeypatch):
    from hhnb.commands import record

    def broken(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(record, "run", broken)
    with pytest.raises(ZeroDivisionError):
        cli.main(["record"])
