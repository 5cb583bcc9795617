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


def test_train_report_passes_the_decorrelation_to_the_card(toy_dir, tmp_path, monkeypatch):
    """train.ipynb's ``decorrelation`` parameter: parsed once (config.training) and recorded on the card."""
    from hhnb.errors import UserArgumentError
    from hhnb.reports import train as rtrain

    monkeypatch.setenv("HHNB_HOME", str(tmp_path))
    rep = rtrain.make("resolved", 1.0, data_dir=toy_dir, models_dir=tmp_path / "models", epochs=1, widths=(8,),
                      max_events=300, folds=1, seed=3, save=False, decorrelation="disco:2")
    assert rep.run.card["decorrelation"]["method"] == "disco" and rep.run.card["decorrelation"]["strength"] == 2.0
    with pytest.raises(UserArgumentError, match="decorrelation 'disco:x': the strength must be a number"):
        rtrain.make("resolved", 1.0, data_dir=toy_dir, models_dir=tmp_path / "models", decorrelation="disco:x")
