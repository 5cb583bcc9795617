"""hhnb.commands.check: the table and exit 0 when usable, every problem on stderr with exit 1, --analysis and {data_dir}."""

from __future__ import annotations

import pytest
import yaml
from userfiles import write_config, write_ntuple

from hhnb import cli


@pytest.fixture
def two_analyses(tmp_path):
    """``mine`` reads {data_dir}/sig.root and bkg.root (both there); ``other`` also wants a missing file."""
    data = tmp_path / "data"
    write_ntuple(data / "sig.root", 250, seed=1, shift=1.0)
    write_ntuple(data / "bkg.root", 150, seed=2)
    cfg = write_config(tmp_path / "cfg.yaml", [
        {"name": "sig", "class": "signal", "lambdas": [1, 5], "files": "{data_dir}/sig.root"},
        {"name": "bkg", "class": "background", "files": "{data_dir}/bkg.root"}])
    spec = yaml.safe_load(cfg.read_text())
    other = yaml.safe_load(yaml.safe_dump(spec["analyses"]["mine"]))
    other["samples"][0]["lambdas"] = [1]
    other["samples"][1]["files"] = "{data_dir}/gone.root"
    spec["analyses"]["other"] = other
    cfg.write_text(yaml.safe_dump(spec))
    return cfg, data


def test_one_usable_analysis_prints_its_table(two_analyses, capsys):
    cfg, data = two_analyses
    assert cli.main(["check", "--config", str(cfg), "--analysis", "mine", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:6] == ["analysis", "sample", "class", "lambda", "files", "events"]
    assert lines[2].split()[:6] == ["mine", "sig", "signal", "1.0", "1", "250"]
    assert lines[3].split()[:6] == ["mine", "bkg", "background", "any", "1", "150"]
    assert "other" not in out
    assert out.rstrip().endswith(f"all files, trees, branches and selections of {cfg} are usable")


def test_every_problem_is_listed_on_stderr_with_exit_1(two_analyses, capsys):
    cfg, data = two_analyses
    assert cli.main(["check", "--config", str(cfg), "--data-dir", str(data)]) == 1
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert err[0] == f"hhnb check: 1 problem(s) in {cfg}:"
    assert len(err) == 2 and err[1].startswith("  - ") and str(data / "gone.root") in err[1]
    assert "other" in err[1] and captured.out == ""


def test_a_lambda_is_checked_alone(two_analyses, capsys):
    cfg, data = two_analyses
    assert cli.main(["check", "--config", str(cfg), "--analysis", "mine", "--lambda", "5", "--data-dir",
                     str(data)]) == 0
    assert cli.main(["check", "--config", str(cfg), "--analysis", "mine", "--lambda", "2", "--data-dir",
                     str(data)]) == 1
    assert "no signal sample for lambda 2.0: available lambdas 1.0, 5.0" in capsys.readouterr().err


def test_check_prints_the_systematic_variations(tmp_path, capsys):
    """A systematics section: one row per file and variation after the sample table; a missing tree is a problem."""
    data = tmp_path / "data"
    write_ntuple(data / "sig.root", 100, seed=1, shift=1.0)
    write_ntuple(data / "bkg.root", 100, seed=2)
    write_ntuple(data / "bkg_up.root", 100, seed=2, tree="Events_up")
    cfg = write_config(tmp_path / "cfg.yaml", [
        {"name": "sig", "class": "signal", "lambdas": [1], "files": "{data_dir}/sig.root"},
        {"name": "bkg", "class": "background", "files": "{data_dir}/bkg.root", "norm_uncertainty": 0.1}],
        systematics={"weights": {"wsame": {"up": "w", "down": "w"}}})
    assert cli.main(["check", "--config", str(cfg), "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out.splitlines()
    at = out.index("systematic variations (per file: the trees and weight branches the analysis' systematics name)")
    assert out[at + 1].split() == ["analysis", "sample", "file", "variation", "kind", "up", "down"]
    assert out[at + 3].split()[-6:] == ["wsame", "weight", "branch", "w", "branch", "w"]
    spec = yaml.safe_load(cfg.read_text())
    spec["analyses"]["mine"]["systematics"] = {"trees": {"JES": {"up": "{tree}_up", "down": "{tree}_down"}}}
    cfg.write_text(yaml.safe_dump(spec))
    assert cli.main(["check", "--config", str(cfg), "--data-dir", str(data)]) == 1
    err = capsys.readouterr().err
    assert f"file {data / 'sig.root'}: tree variation 'JES' up: no tree 'Events_up'; trees in the file: Events" in err


def test_a_bad_systematics_entry_is_one_line_exit_2(tmp_path, capsys, one_line_exit_2):
    write_ntuple(tmp_path / "sig.root", 50, seed=1)
    write_ntuple(tmp_path / "bkg.root", 50, seed=2)
    cfg = write_config(tmp_path / "cfg.yaml", [
        {"name": "sig", "class": "signal", "files": "sig.root"},
        {"name": "bkg", "class": "background", "files": "bkg.root"}],
        systematics={"trees": {"JES": {"up": "{tree}__JES__1up"}}, "normalisation": {"bkg": 0.1}})
    one_line_exit_2(capsys, ["check", "--config", str(cfg)], str(cfg),
                    "key analyses.mine.systematics.trees.JES: 'down' is a required property")
    spec = yaml.safe_load(cfg.read_text())
    spec["analyses"]["mine"]["systematics"] = {"normalisation": {"bgk": 0.1}}
    cfg.write_text(yaml.safe_dump(spec))
    one_line_exit_2(capsys, ["check", "--config", str(cfg)],
                    "key analyses.mine.systematics.normalisation.bgk: no sample 'bgk' in the analysis (did you mean 'bkg'?)")
