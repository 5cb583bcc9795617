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


def _write(path: Path, score, weight, istest=None) -> Path:
    arrays = {B: np.asarray(score, np.float32), "weight": np.asarray(weight, np.float64),
              T: np.asarray(istest if istest is not None else np.zeros(len(score)), np.int32)}
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
    res = C.cut([files / "*.root"], B, 0.75)
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
    res = C.cut([files / "*.root"], B, 0.5, signal=["ttbar*"])
    assert res.nsig == pytest.approx(5.0)  # ttbar 0.75, 0.74 with weights 1 + 4
    with pytest.raises(ValueError, match=r"missing branch\(es\) 'nnscore_resolved_SlfCoup_2.0_sig'"):
        C.cut([files / "*.root"], "nnscore_resolved_SlfCoup_2.0_sig", 0.5)


def test_command_prints_table_and_writes_csv(files, tmp_path, capsys):
    db = tmp_path / "r.sqlite"
    record.add({"analysis": "resolved", "lambda": 1.0, "best_cut": 0.75, "git_commit": ""}, db)
    out = tmp_path / "yields.csv"
    code = main(["cut", "--file", str(files / "*_withNNs.root"), "--branch", B, "--best", "--record", str(db),
                 "--csv", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "best cut from the run record" in text and "asimov_z" in text
    df = pd.read_csv(out).set_index("sample")
    assert df.loc["nsig", "yield_passed"] == pytest.approx(4.0)
    assert df.loc["nbkg", "yield_passed"] == pytest.approx(11.0)
    assert df.loc["qcd_4b", "passed"] == 1
    assert main(["cut", "--file", str(files / "*.root"), "--branch", B, "--best", "--record",
                 str(tmp_path / "empty.sqlite")]) == 2
