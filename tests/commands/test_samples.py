"""hhnb.commands.samples: events and weighted yields per sample (plain, normalised, unweighted), and one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
import uproot
from userfiles import write_config, write_ntuple

from hhnb import cli
from hhnb.commands import samples
from hhnb.config import analyses


@pytest.fixture
def files(tmp_path):
    write_ntuple(tmp_path / "sig.root", 300, seed=1, shift=1.0)  # weight w = 0.01 per event
    write_ntuple(tmp_path / "b1.root", 200, seed=2)
    write_ntuple(tmp_path / "b2.root", 100, seed=3)
    return tmp_path


def test_table_sums_events_and_weights_over_the_files(files, capsys):
    cfg = write_config(files / "cfg.yaml", [{"name": "sig", "class": "signal", "lambdas": [1], "files": "sig.root"},
                                            {"name": "bkg", "class": "background", "files": ["b1.root", "b2.root"]}])
    assert cli.main(["samples", "--config", str(cfg), "--analysis", "mine"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["analysis", "sample", "class", "events", "yield", "(300", "fb^-1)", "files"]
    assert lines[2].split()[:5] == ["mine", "sig", "signal", "300", "3"]
    assert lines[3].split()[:5] == ["mine", "bkg", "background", "300", "3"]
    assert f"{files / 'b1.root'}, {files / 'b2.root'}" in lines[3]


def test_sum_of_weights_normalises_and_no_weight_branch_means_cross_section_times_luminosity(files):
    with uproot.update(files / "b1.root") as f:
        f["Runs"] = {"genEventSumw": np.array([500.0, 700.0])}
    cfg = write_config(files / "norm.yaml", [
        {"name": "sig", "class": "signal", "lambdas": [1], "files": "sig.root"},
        {"name": "bkg", "class": "background", "files": "b1.root", "cross_section": 2.0,
         "sum_of_weights": {"tree": "Runs", "branch": "genEventSumw"}}])
    rows = samples.sample_rows(analyses.load(cfg).analysis("mine"), 1.0, files)
    key = "yield (300 fb^-1)"
    assert [r["events"] for r in rows] == [300, 200]
    assert rows[0][key] == pytest.approx(300 * 0.01)
    assert rows[1][key] == pytest.approx(200 * 0.01 * 2.0 * 300 / 1200)  # sum w x sigma x L / sum of gen weights
    cfg = write_config(files / "unweighted.yaml", [
        {"name": "sig", "class": "signal", "lambdas": [1], "files": "sig.root", "cross_section": 0.5},
        {"name": "bkg", "class": "background", "files": "b1.root", "cross_section": 2.0}], weight=None)
    rows = samples.sample_rows(analyses.load(cfg).analysis("mine"), 1.0, files)
    assert [r[key] for r in rows] == [pytest.approx(0.5 * 300), pytest.approx(2.0 * 300)]


def test_a_lambda_no_signal_sample_declares_is_one_line_exit_2(files, capsys):
    cfg = write_config(files / "cfg.yaml", [{"name": "sig", "class": "signal", "lambdas": [1], "files": "sig.root"},
                                            {"name": "bkg", "class": "background", "files": "b1.root"}])
    assert cli.main(["samples", "--config", str(cfg), "--analysis", "mine", "--lambda", "5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hhnb samples: error: analysis 'mine' has no signal sample for lambda 5.0: "
                          "available lambdas 1.0") and err.count("\n") == 1


def test_truncated_file_is_one_line_exit_2(bad, capsys, one_line_exit_2):
    one_line_exit_2(capsys, ["samples", "--config", str(bad["cfg"]), "--analysis", "mine"],
                    str(bad["sig"]), "not a readable ROOT file")


def test_samples_missing_feature_branch_is_an_error(bad, capsys, one_line_exit_2):
    write_ntuple(bad["sig"], 100, seed=3, branches=("x1", "w", "evt"))
    one_line_exit_2(capsys, ["samples", "--config", str(bad["cfg"]), "--analysis", "mine"],
                    "missing branch(es) 'x2'")
