"""hhnb.reports.evaluate: a 2-fold set and a single network, fold AUCs, quoted Z, overtraining and the record row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def test_evaluate_report_kfold(kfold_models, tmp_path):
    from hhnb.reports import evaluate

    models = kfold_models.run.card_path.parent
    rep = evaluate.make("resolved", 1.0, models_dir=models, record_path=tmp_path / "r.sqlite", min_bkg_mc=1)
    assert rep.folds == 2 and rep.overtraining is None  # no training-set scores for a k-fold set
    assert "roc_folds" in rep.figures
    card = kfold_models.run.card["metrics"]
    assert rep.fold_aucs["auc"].tolist()[:2] == card["fold_auc"]
    assert rep.fold_aucs["auc"].iloc[-1] == card["oof_auc"]
    assert rep.quoted_line.startswith("Z = ") and "simulated background events" in rep.quoted_line
    assert rep.summary.index.str.contains("Z error \\(bootstrap\\)").any()
    assert not rep.summary.index.str.startswith("KS").any()  # not available for a k-fold set
    # weighted confusion: rows sum to the weighted yields of each true class on the quote-on events
    assert rep.confusion.to_numpy().sum() > 0 and rep.record_id == 1
    row = pd.read_sql("select * from runs", __import__("sqlite3").connect(tmp_path / "r.sqlite")).iloc[0]
    assert row["nbkg_mc_events"] >= 1 and np.isfinite(row["significance_error"])


def test_evaluate_report_single_has_overtraining(tiny_run, tmp_path, monkeypatch):
    from hhnb.reports import evaluate

    monkeypatch.setenv("HHNB_HOME", str(tmp_path))
    rep = evaluate.make("resolved", 1.0, models_dir=tiny_run.model_path.parent, record=False, min_bkg_mc=1)
    assert rep.folds == 1 and rep.fold_aucs is None and "roc_folds" not in rep.figures
    assert set(rep.overtraining["class"]) == {"signal", "qcd", "top"}
    assert rep.overtraining["ks_pvalue"].between(0, 1).all()
    assert rep.record_id is None


def test_variation_table_z_per_variation(kfold_models, toy_dir, tmp_path):
    """The toy's JES, JER and b-tag variations re-scored by the 2-fold set: one row each up and down, Z moves."""
    import shutil

    from hhnb.reports import evaluate

    data = tmp_path / "data"
    shutil.copytree(toy_dir, data)  # the basis samples at kl = 2.5 and 5.5 are generated here, not in the shared dir
    models = kfold_models.run.card_path.parent
    t = evaluate.variation_table("resolved", 1.0, 0.2, data_dir=data, models_dir=models, basis_events=300)
    assert list(t.index) == ["nominal"] + [f"{s} {d}" for s in ("JES", "JER", "btag") for d in ("up", "down")]
    assert t.loc["nominal", "Z shift"] == 0.0 and t.loc["nominal", "s"] > 0 and t.loc["nominal", "b"] > 0
    assert (t["s"].drop("nominal") != t.loc["nominal", "s"]).any()  # events move in and out of the selection
    assert t.loc["btag up", "b"] != t.loc["nominal", "b"]
