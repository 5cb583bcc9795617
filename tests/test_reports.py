"""Each notebook's report (``hhnb.reports.*.make``) on tiny data: single networks and a 2-fold set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture(scope="module")
def kfold_models(tmp_path_factory, toy_dir):
    """A tiny resolved kl=1 2-fold set (one epoch, narrow), trained through the train report."""
    import os

    from hhnb.reports import train as rtrain

    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("HHNB_HOME")
    os.environ["HHNB_HOME"] = str(home)
    try:
        rep = rtrain.make("resolved", 1.0, data_dir=toy_dir, models_dir=home / "models", epochs=1, widths=(16, 16),
                          max_events=300, folds=2, seed=3)
    finally:
        if old is None:
            os.environ.pop("HHNB_HOME")
        else:
            os.environ["HHNB_HOME"] = old
    return rep


def test_train_report_kfold(kfold_models):
    rep = kfold_models
    assert rep.run.folds == 2 and len(rep.run.model_paths) == 2
    assert list(rep.folds_table["fold"]) == [0, 1]
    # one-epoch 16x16 networks on 300 events may sit near 0.5: the table must repeat the card's per-fold AUCs
    assert rep.folds_table["auc_own_fold"].between(0.0, 1.0).all()
    assert rep.folds_table["auc_own_fold"].tolist() == [round(p["test_auc"], 4) for p in rep.run.card["per_fold"]]
    lines = rep.lines()
    assert any("out-of-fold AUC" in line for line in lines)
    assert {"learning_curve.png", "learning_curve.pdf"} <= {p.name for p in rep.written}
    assert len(rep.figures["learning_curve"].axes[0].get_lines()) == 4  # training + validation per fold


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


def test_shap_report_kfold_per_fold_ranks(kfold_models, tmp_path):
    from hhnb.reports import shap

    models = kfold_models.run.card_path.parent
    rep = shap.make("resolved", 1.0, models_dir=models, outdir=tmp_path, n_explain=40, n_background=20,
                    n_permutation=300, repeats=2)
    assert rep.folds == 2 and rep.n_explain == 40
    assert list(rep.fold_ranks.columns) == ["feature", "combined", "fold 0", "fold 1"]
    assert sorted(rep.fold_ranks["fold 0"]) == list(range(1, 21))
    assert "never saw" in rep.population and "|weight|" in rep.population
    assert {"shap_rank_per_fold.csv", "shap_beeswarm.png", "permutation_importance.csv"} <= {
        p.name for p in rep.written}
    assert (rep.permutation["auc_drop_error"] >= 0).all()


def test_shap_report_single(tiny_run, tmp_path):
    from hhnb.reports import shap

    rep = shap.make("resolved", 1.0, models_dir=tiny_run.model_path.parent, outdir=tmp_path, n_explain=60,
                    n_background=30, n_permutation=300, repeats=2)
    csv = pd.read_csv(tmp_path / "shap_ranking.csv")
    assert list(csv.columns) == ["feature", "mean_abs_shap", "mean_abs_shap_error", "rank_low", "rank_high", "rank"]
    assert len(csv) == 20 and list(csv["rank"]) == list(range(1, 21))
    assert rep.fold_ranks is None and rep.folds == 1
    assert 0.5 < rep.permutation["auc_base"].iloc[0] <= 1.0


def test_correlations_report(tiny_run, tmp_path):
    from hhnb.reports import correlations

    rep = correlations.make("resolved", 1.0, models_dir=tiny_run.model_path.parent, outdir=tmp_path,
                            n_permutations=20)
    names = {p.name for p in rep.written}
    assert {"score_vs_m_hh.png", "score_vs_h1_M.pdf", "sculpting.png", "coefficients.csv"} <= names
    shown = rep.shown()
    assert list(shown.columns) == ["sample", "mass", "events", "n_eff", "pearson", "dcor2", "dcor_pvalue"]
    assert shown["dcor_pvalue"].between(0, 1).all() and shown["pearson"].between(-1, 1).all()
    assert rep.sculpting["bkg_efficiency"].between(0, 1).all()


def test_correlations_report_names_missing_scores_file(tmp_path):
    from hhnb.reports import correlations

    with pytest.raises(FileNotFoundError, match=r"nn_resolved_SlfCoup_1.0_scores.parquet.*train"):
        correlations.make("resolved", 1.0, models_dir=tmp_path, outdir=tmp_path)


def test_kinematics_report_groups_for_hh_and_tthh(toy_dir, tmp_path):
    from hhnb.reports import kinematics

    rep = kinematics.make("resolved", 1.0, data_dir=toy_dir, outdir=tmp_path / "r", overlay_lambdas=(1.0, 5.0))
    assert set(rep.figures) == {"kinematics_jets", "kinematics_higgs", "kinematics_event", "mhh_lambdas"}
    assert (tmp_path / "r" / "mhh_lambdas.pdf").exists()
    assert rep.title("kinematics_higgs") == "Higgs candidates"
    rep = kinematics.make("tthh", 1.0, data_dir=toy_dir, outdir=tmp_path / "t", save=False)
    assert set(rep.figures) == {"kinematics_jets", "kinematics_lepton", "kinematics_event"}
    assert rep.events["tthh"] > 0 and rep.written == []


def test_summary_report(tmp_path):
    from hhnb.io import record
    from hhnb.reports import summary

    path = tmp_path / "r.sqlite"
    empty = summary.make(path, outdir=tmp_path / "s")
    assert empty.empty and empty.written == []
    for kl, z in ((1.0, 2.5), (10.0, 4.0)):
        record.add({"analysis": "resolved", "lambda": kl, "auc": 0.9, "max_significance": z,
                    "significance_error": 0.3, "nbkg": 100.0, "nbkg_mc_events": 40, "nsig": 20.0,
                    "best_cut": 0.9, "source": "evaluate"}, path)
    rep = summary.make(path, outdir=tmp_path / "s")
    assert rep.best_table["lambda"].tolist() == [10.0]
    assert rep.significance["Z"].tolist() == ["2.5 +- 0.3", "4 +- 0.3"]
    assert rep.significance["simulated bkg events"].tolist() == ["40", "40"]
    assert "significance_error" in rep.table.columns and "nbkg_mc_events" in rep.table.columns
    assert (tmp_path / "s" / "metrics_vs_lambda.png").exists()
