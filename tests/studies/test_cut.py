"""hhnb.studies.cut and ``hhnb cut``: yields after a score cut against a hand computation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import uproot

from hhnb.cli import main
from hhnb.errors import MissingArtifactError
from hhnb.io import record
from hhnb.studies import cut as C

B = "nnscore_resolved_SlfCoup_1.0_sig"
T = "nnscore_resolved_SlfCoup_1.0_istest"


SEL = "(met_Et < 150) & (h1_M > 50)"


def _write(path: Path, score, weight, istest=None, met=None) -> Path:
    n = len(score)
    arrays = {B: np.asarray(score, np.float32), "weight": np.asarray(weight, np.float64),
              T: np.asarray(istest if istest is not None else np.zeros(n), np.int32),
              "met_Et": np.asarray(met if met is not None else np.full(n, 20.0), np.float32),
              "h1_M": np.full(n, 125.0, np.float32)}
    with uproot.recreate(path) as f:
        f.mktree("preselection", {k: v.dtype for k, v in arrays.items()})
        f["preselection"].extend(arrays)
    return path


@pytest.fixture
def files(tmp_path):
    """One signal and two background files with scores and weights chosen by hand."""
    _write(tmp_path / "hh_SlfCoup_1.0_withNNs.root", [0.9, 0.8, 0.5, 0.1], [2.0, 2.0, 2.0, 2.0], [1, 0, 1, 0])
    _write(tmp_path / "qcd_4b_withNNs.root", [0.95, 0.7, 0.2], [10.0, 20.0, 30.0], [1, 1, 0])
    _write(tmp_path / "ttbar_withNNs.root", [0.75, 0.74, 0.3, 0.1, 0.0], [1.0, 4.0, 8.0, 16.0, 32.0])
    return tmp_path


def test_yields_against_hand_computation(files):
    res = C.cut([files / "*.root"], B, 0.75, test_only=False)
    t = res.table.set_index("sample")
    assert list(t.index) == ["hh_SlfCoup_1.0", "qcd_4b", "ttbar"]
    assert t["signal"].tolist() == [True, False, False]
    assert t["passed"].tolist() == [2, 1, 1]  # score >= 0.75: 0.9, 0.8 | 0.95 | 0.75
    assert t["yield"].tolist() == pytest.approx([8.0, 60.0, 61.0])
    assert t["yield_passed"].tolist() == pytest.approx([4.0, 10.0, 1.0])
    assert (res.nsig, res.nbkg) == pytest.approx((4.0, 11.0))
    assert res.s_over_sqrt_b == pytest.approx(4.0 / np.sqrt(11.0))
    z = np.sqrt(2 * ((4 + 11) * np.log(1 + 4 / 11) - 4))
    assert res.asimov_z == pytest.approx(z)


def test_test_only_scales_test_events_to_the_sample(files):
    res = C.cut([files / "hh_*.root", files / "qcd_4b_withNNs.root"], B, 0.75, test_only=True)
    t = res.table.set_index("sample")
    # hh: test events 0.9 and 0.5 (weights 2, 2); passing 2 of test weight 4, sample total 8 -> 4
    assert t.loc["hh_SlfCoup_1.0", "events"] == 2 and t.loc["hh_SlfCoup_1.0", "yield_passed"] == pytest.approx(4.0)
    # qcd: test events 0.95, 0.7 (10, 20); passing 10 of 30, total 60 -> 20
    assert t.loc["qcd_4b", "yield_passed"] == pytest.approx(20.0)


def test_best_cut_from_record(files, tmp_path):
    db = tmp_path / "record.sqlite"
    with pytest.raises(MissingArtifactError, match="no best cut recorded for analysis 'resolved' lambda 1.0"):
        C.best_cut(B, db)
    record.add({"analysis": "resolved", "lambda": 1.0, "best_cut": 0.5, "git_commit": ""}, db)
    record.add({"analysis": "resolved", "lambda": 10.0, "best_cut": 0.1, "git_commit": ""}, db)
    record.add({"analysis": "resolved", "lambda": 1.0, "best_cut": 0.72, "git_commit": ""}, db)
    assert C.best_cut(B, db) == pytest.approx(0.72)
    assert C.parse_branch("nnscore_boosted_SlfCoup_m5.0_qcd") == ("boosted", -5.0)
    with pytest.raises(ValueError, match="not a score branch"):
        C.parse_branch("weight")


def test_signal_patterns_and_errors(files):
    assert C.is_signal("hh_SlfCoup_1.0_withNNs.root") and C.is_signal("tthh_withNNs.root")
    assert not C.is_signal("ttbar_withNNs.root")
    with pytest.raises(ValueError, match="no input file is a signal sample"):
        C.cut([files / "qcd_4b_withNNs.root"], B, 0.5)
    res = C.cut([files / "*.root"], B, 0.5, signal=["ttbar*"], test_only=False)
    assert res.nsig == pytest.approx(5.0)  # ttbar 0.75, 0.74 with weights 1 + 4
    with pytest.raises(ValueError, match=r"missing branch\(es\) 'nnscore_resolved_SlfCoup_2.0_sig'"):
        C.cut([files / "*.root"], "nnscore_resolved_SlfCoup_2.0_sig", 0.5)
    with pytest.raises(ValueError, match="no test events"):
        C.cut([files / "*.root"], B, 0.5)  # ttbar has no test events


def test_command_prints_table_and_writes_csv(files, tmp_path, capsys):
    db = tmp_path / "r.sqlite"
    record.add({"analysis": "resolved", "lambda": 1.0, "best_cut": 0.75, "git_commit": ""}, db)
    out = tmp_path / "yields.csv"
    code = main(["cut", "--file", str(files / "*_withNNs.root"), "--branch", B, "--best", "--record", str(db),
                 "--csv", str(out), "--all-events", "--no-selection"])
    assert code == 0
    text = capsys.readouterr().out
    assert "best cut from the run record" in text and "asimov_z" in text
    df = pd.read_csv(out).set_index("sample")
    assert df.loc["nsig", "yield_passed"] == pytest.approx(4.0)
    assert df.loc["nbkg", "yield_passed"] == pytest.approx(11.0)
    assert df.loc["qcd_4b", "passed"] == 1
    assert main(["cut", "--file", str(files / "*.root"), "--branch", B, "--best", "--record",
                 str(tmp_path / "empty.sqlite")]) == 2
    # by default: the config's selection (the files lack most of its branches: one clear line, status 2)
    assert main(["cut", "--file", str(files / "*.root"), "--branch", B, "--cut", "0.5"]) == 2
    assert "cannot evaluate the selection" in capsys.readouterr().err


def test_selection_test_events_and_quoted_errors(tmp_path):
    rng = np.random.default_rng(3)
    n = 2000
    for name, loc, w in (("hh_SlfCoup_1.0_withNNs.root", 0.8, 0.01), ("qcd_4b_withNNs.root", 0.3, 2.0)):
        _write(tmp_path / name, np.clip(rng.normal(loc, 0.2, n), 0, 1), np.full(n, w), np.arange(n) % 5 == 0,
               met=np.where(np.arange(n) % 10 == 3, 300.0, 20.0))  # 10 % fail the met_Et selection
    res = C.cut([tmp_path / "*.root"], B, 0.6, selection=SEL, n_boot=200)
    t = res.table.set_index("sample")
    # test events only (every 5th), none of them fail the selection (every 10th + 3): 400 counted
    assert t.loc["qcd_4b", "events"] == 400
    assert t.loc["qcd_4b", "yield"] == pytest.approx(1800 * 2.0)  # selected sample yield, all events
    q = res.significance
    assert q.n_bkg_mc == t.loc["qcd_4b", "passed"] and q.b == pytest.approx(res.nbkg)
    assert q.b_mc_error == pytest.approx(np.sqrt(q.n_bkg_mc) * 2.0 * 4.5)  # weight 2 x (1800 / 400 test events)
    assert q.z < q.z_no_mc and q.z_error > 0
    assert C.analysis_selection(B).startswith("(met_Et < 150)")
    every = C.cut([tmp_path / "*.root"], B, 0.6, selection=SEL, test_only=False, n_boot=10)
    assert every.table.set_index("sample").loc["qcd_4b", "events"] == 1800


def test_kfold_file_counts_every_event(tmp_path):
    """A file scored by a k-fold set (fold branch, no _istest): every event is out-of-fold and counts unscaled."""
    fold = "nnscore_resolved_SlfCoup_1.0_fold"
    for name, score, weight in (("hh_SlfCoup_1.0_withNNs.root", [0.9, 0.8, 0.5, 0.1], [2.0, 2.0, 2.0, 2.0]),
                                ("qcd_4b_withNNs.root", [0.95, 0.7, 0.2], [10.0, 20.0, 30.0])):
        arrays = {B: np.asarray(score, np.float32), "weight": np.asarray(weight, np.float64),
                  fold: np.arange(len(score), dtype=np.int32) % 3}
        with uproot.recreate(tmp_path / name) as f:
            f.mktree("preselection", {k: v.dtype for k, v in arrays.items()})
            f["preselection"].extend(arrays)
    res = C.cut([tmp_path / "*.root"], B, 0.75, test_only=True)
    t = res.table.set_index("sample")
    assert t["events"].tolist() == [4, 3]  # every event, no test-only subset
    assert t["yield_passed"].tolist() == pytest.approx([4.0, 10.0])
