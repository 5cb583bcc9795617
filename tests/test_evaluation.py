"""hhnb.studies.evaluation: known answers on synthetic scores tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hhnb.errors import InputFileError, MissingArtifactError
from hhnb.studies import evaluation


def _scores(separated: bool, n: int = 5000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = np.repeat([0, 1], n)
    if separated:
        score = np.where(label == 0, rng.uniform(0.8, 1.0, 2 * n), rng.uniform(0.0, 0.6, 2 * n))
    else:
        score = rng.uniform(0.0, 1.0, 2 * n)
    event = np.arange(2 * n)
    return pd.DataFrame({"score_sig": score, "label": label, "sample": np.where(label == 0, "sig", "bkg"),
                         "weight": np.where(label == 0, 0.01, 1.0), "event": event, "is_test": event % 5 == 0,
                         "is_val": np.zeros(2 * n, bool)})


def test_perfect_separation():
    ev = evaluation.evaluate(_scores(True), cut=0.75)
    assert ev.auc == pytest.approx(1.0) and ev.average_precision == pytest.approx(1.0)
    # test weights stand for the whole sample: all 50 signal events (5000 x 0.01) pass the best cut
    assert ev.scan.best_nsig == pytest.approx(50.0, rel=1e-6)
    assert ev.confusion.sum() == 2000 and np.trace(ev.confusion) == 2000


def test_no_separation_gives_auc_one_half():
    ev = evaluation.evaluate(_scores(False))
    # 1000 signal and 1000 background test events: the AUC's standard error is about 0.013
    assert ev.auc == pytest.approx(0.5, abs=0.05)


def test_record_row_and_roc_csv_round_trip(tmp_path):
    ev = evaluation.evaluate(_scores(True))
    card = {"analysis": "resolved", "lambda": 1.0, "tag": "1.0", "features": ["a", "b"], "classes": ["hh", "bkg"],
            "hyperparameters": {"widths": [200, 200], "learning_rate": 5e-3}, "seed": 1}
    row = evaluation.record_row(ev, card)
    assert row["architecture"] == "200-200" and row["n_inputs"] == 2 and row["auc"] == pytest.approx(1.0)
    df = evaluation.read_roc_csv(evaluation.write_roc_csv(ev, tmp_path / "roc.csv"))
    assert df["significance"].max() == pytest.approx(ev.scan.best_z, rel=1e-6)
    assert f"Sign. = {ev.scan.best_z:.4f}" in evaluation.best_line(df)


def test_roc_csv_errors(tmp_path):
    with pytest.raises(MissingArtifactError, match="does not exist"):
        evaluation.read_roc_csv(tmp_path / "nope.csv")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputFileError, match="missing column"):
        evaluation.read_roc_csv(tmp_path / "bad.csv")
