"""hhnb.reports.shap: SHAP ranks per fold and for a single network, permutation importance, files written."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


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
