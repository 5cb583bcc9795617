"""hhnb.commands.cut: the header lines, the config's selection or none, the yields table and CSV, one-line errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import uproot
from userfiles import write_config

from hhnb import layout
from hhnb.cli import main

B = "nnscore_mine_SlfCoup_1.0_signal"


def _write(path, score, weight, x2):
    arrays = {B: np.asarray(score, np.float32), "w": np.asarray(weight, np.float64), "x2": np.asarray(x2, np.float64)}
    with uproot.recreate(path) as f:
        f.mktree("Events", {k: v.dtype for k, v in arrays.items()})
        f["Events"].extend(arrays)


@pytest.fixture
def scored(tmp_path):
    """Hand-made scored files of the user analysis ``mine``: a signal (one event fails x2 > 0) and a background."""
    _write(tmp_path / "hh_sig_withNNs.root", [0.9, 0.8, 0.5, 0.1], [2.0] * 4, [1, -1, 1, 1])
    _write(tmp_path / "bkg_withNNs.root", [0.95, 0.7, 0.2], [10.0, 20.0, 30.0], [1, 1, 1])
    cfg = write_config(tmp_path / "cfg.yaml", [{"name": "sig", "class": "signal", "lambdas": [1], "files": "hh_sig.root"},
                                               {"name": "bkg", "class": "background", "files": "bkg.root"}],
                       selection="x2 > 0")
    return tmp_path, cfg


def _argv(d, *extra):
    return ["cut", "--file", str(d / "*_withNNs.root"), "--branch", B, "--cut", "0.75", "--all-events",
            "--tree", "Events", "--weight", "w", *extra]


def test_the_config_selection_is_applied_and_written_to_csv(scored, capsys):
    d, cfg = scored
    assert main(_argv(d, "--config", str(cfg), "--csv", str(d / "y.csv"))) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"cut: {B} >= 0.75"
    assert lines[1] == "selection: x2 > 0; events: all (training ones included)"
    assert lines[2].startswith("Z = ") and "simulated background events 1" in lines[2]
    assert lines[-1] == f"written {d / 'y.csv'}"
    t = pd.read_csv(d / "y.csv").set_index("sample")
    # signal: 0.8 fails x2 > 0, so 0.9 alone passes (weight 2); background: 0.95 (weight 10)
    assert t.loc["hh_sig", "events"] == 3 and t.loc["hh_sig", "yield_passed"] == pytest.approx(2.0)
    assert t.loc["nsig", "yield_passed"] == pytest.approx(2.0) and t.loc["nbkg", "yield_passed"] == pytest.approx(10.0)
    assert t.loc["s/sqrt(b)", "yield_passed"] == pytest.approx(2.0 / math.sqrt(10.0))


def test_no_selection_counts_every_event(scored, capsys):
    d, _ = scored
    assert main(_argv(d, "--no-selection")) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1] == "selection: none; events: all (training ones included)"
    rows = [line.split() for line in out.splitlines()[5:]]
    assert ["hh_sig", "True", "hh_sig_withNNs.root", "4", "2", "8", "4"] in rows  # events, passed, yield, passed yield
    assert ["nsig", "4"] in rows and ["nbkg", "10"] in rows


def test_a_missing_input_is_named_first(tmp_path, capsys):
    assert main(["cut", "--file", str(tmp_path / "nope.root"), "--branch", B, "--cut", "0.5"]) == 2
    assert capsys.readouterr().err == f"hhnb cut: error: file {tmp_path / 'nope.root'} does not exist\n"


def test_cut(bad, capsys, one_line_exit_2):
    branch = layout.score_branches("mine", 1.0, ["signal", "background"])[0]
    one_line_exit_2(capsys, ["cut", "--file", str(bad["sig"]), "--branch", branch, "--cut", "0.5",
                             "--tree", "Events", "--weight", "w", "--config", str(bad["cfg"])], str(bad["sig"]))
