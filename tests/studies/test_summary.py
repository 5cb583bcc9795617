"""hhnb.studies.summary: the latest evaluation per point of the run record, the best per analysis, the table."""

import pytest

from hhnb.errors import UserArgumentError
from hhnb.io import record
from hhnb.studies import summary


@pytest.fixture
def rec(small_record):
    return small_record  # tests/conftest.py


def test_latest_evaluation_per_point(rec):
    ev = summary.evaluations(rec)
    assert list(zip(ev["analysis"], ev["lambda"], ev["auc"])) == [
        ("boosted", 1.0, 0.90), ("resolved", 1.0, 0.96), ("resolved", 10.0, 0.97)]


def test_best_per_analysis(rec):
    best = summary.best_per_analysis(summary.evaluations(rec))
    assert dict(zip(best["analysis"], best["lambda"])) == {"boosted": 1.0, "resolved": 10.0}
    best_auc = summary.best_per_analysis(summary.evaluations(rec), metric="auc")
    assert dict(zip(best_auc["analysis"], best_auc["auc"])) == {"boosted": 0.90, "resolved": 0.97}
    with pytest.raises(UserArgumentError, match="cannot rank by 'colour'"):
        summary.best_per_analysis(summary.evaluations(rec), metric="colour")


def test_table(rec):
    ev = summary.evaluations(rec)
    tab = summary.table(ev, digits=1)
    assert "time" not in tab and "git_commit" not in tab
    assert list(tab["auc"]) == [0.9, 1.0, 1.0]


def test_empty_record(tmp_path):
    ev = summary.evaluations(record.read(tmp_path / "none.sqlite"))
    assert ev.empty and summary.best_per_analysis(ev).empty


def _scores(n: int = 40_000, seed: int = 4):
    """A scores table of a mass-independent background score: the control regions close."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    sig = np.arange(n) < 2000
    m1, m2 = rng.uniform(60, 180, n), rng.uniform(60, 180, n)
    m1[sig], m2[sig] = 120.0, 120.0
    return pd.DataFrame({"score_sig": np.where(sig, rng.uniform(0.6, 1.0, n), rng.uniform(size=n)),
                         "sample": np.where(sig, "hh", np.where(np.arange(n) % 4 == 0, "ttbar", "qcd_4b")),
                         "label": np.where(sig, 0, 1), "weight": np.where(sig, 0.1, 1.0), "event": np.arange(n),
                         "is_test": True, "is_val": np.arange(n) % 2 == 0, "h1_M": m1, "h2_M": m2})


def test_background_numbers_quote_the_control_regions_beside_the_mc(tmp_path):
    import numpy as np

    from hhnb import layout
    from hhnb.io import artifacts
    from hhnb.studies import background

    scores = _scores()
    artifacts.write_scores(layout.scores_path(tmp_path, "resolved", 1.0), scores)
    record.add({"analysis": "resolved", "lambda": 1.0, "auc": 0.9, "max_significance": 0.5, "significance_error": 0.1,
                "best_cut": 0.8, "source": "evaluate"}, tmp_path / "r.sqlite")
    record.add({"analysis": "boosted", "lambda": 1.0, "auc": 0.9, "max_significance": 0.3, "best_cut": 0.8,
                "source": "evaluate"}, tmp_path / "r.sqlite")
    rec = summary.evaluations(record.read(tmp_path / "r.sqlite"))
    nums = summary.background_numbers(rec, tmp_path, n_boot=50)
    res = nums.set_index("analysis").loc["resolved"]
    q = background.quote_scores(scores, 0.8, n_boot=50)
    assert (res["z"], res["z_mc"], res["b"], res["closure"]) == (q.z, q.z_mc, q.b, q.closure)
    assert abs(res["closure"] - 1) < 3 * res["closure_error"]  # an independent score closes
    assert res["z_record"] == 0.5 and res["z_record_error"] == 0.1
    assert nums.set_index("analysis").loc["boosted", "note"] == (
        f"scores file {layout.scores_path(tmp_path, 'boosted', 1.0)} does not exist")
    assert np.isnan(nums.set_index("analysis").loc["boosted", "z"])
    table = summary.background_table(nums).set_index("analysis")
    assert table.loc["resolved", "Z, bkg from CRs (SR)"] == f"{q.z:.3g} +- {q.z_error:.2g}"
    assert table.loc["resolved", "Z, MC bkg (SR)"] == f"{q.z_mc:.3g} +- {q.z_mc_error:.2g}"
    assert table.loc["resolved", "Z, MC bkg (all masses, record)"] == "0.5 +- 0.1"
    assert table.loc["boosted", "Z, bkg from CRs (SR)"] == nums.set_index("analysis").loc["boosted", "note"]


def test_background_numbers_without_masses_or_cut(tmp_path, small_record):
    from hhnb import layout
    from hhnb.io import artifacts

    artifacts.write_scores(layout.scores_path(tmp_path, "resolved", 1.0), _scores().drop(columns=["h1_M", "h2_M"]))
    record.add({"analysis": "resolved", "lambda": 1.0, "auc": 0.9, "max_significance": 0.5, "best_cut": 0.8,
                "source": "evaluate"}, tmp_path / "r2.sqlite")
    rec = summary.evaluations(record.read(tmp_path / "r2.sqlite"))
    assert summary.background_numbers(rec, tmp_path)["note"].tolist() == ["no (m_h1, m_h2) plane in the scores"]
    no_cut = summary.background_numbers(summary.evaluations(small_record), tmp_path)
    assert set(no_cut["note"]) == {"no recorded cut"}
    assert summary.background_table(no_cut.iloc[0:0]).empty
