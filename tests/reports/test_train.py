"""hhnb.reports.train: a 2-fold set trained through the report, its fold table, lines and learning curves."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


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
