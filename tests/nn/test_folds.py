"""hhnb.nn.folds: the fold rule, validation masks, per-fold metrics and ROC curves (no network needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hhnb.errors import InputFileError
from hhnb.nn import folds as F


def test_fold_split_is_deterministic_and_disjoint():
    event = np.random.default_rng(1).permutation(10_000)
    k = 4
    a, b = F.fold_of(event, k), F.fold_of(event[::-1], k)[::-1]  # order of reading does not matter
    np.testing.assert_array_equal(a, b)
    masks = [a == i for i in range(k)]
    assert sum(m.sum() for m in masks) == len(event)  # each event in exactly one fold
    assert all(not (masks[i] & masks[j]).any() for i in range(k) for j in range(i + 1, k))
    assert [int(m.sum()) for m in masks] == [2500] * 4
    np.testing.assert_array_equal(a, event % 4)


def test_validation_inside_training_folds_only():
    event = np.arange(20_000)
    fold = F.fold_of(event, 3)
    for i in range(3):
        va = F.validation_mask(event, fold != i, seed=5, fold=i)
        assert not (va & (fold == i)).any()
        assert abs(va.sum() / (fold != i).sum() - 0.1) < 0.01
        np.testing.assert_array_equal(va, F.validation_mask(event, fold != i, seed=5, fold=i))
    # different folds draw different validation events, so none is kept out of every training
    v0, v1 = (F.validation_mask(event, np.ones(len(event), bool), 5, fold=i) for i in (0, 1))
    assert (v0 != v1).any()


def test_bad_fold_numbers_and_missing_event_branch():
    for bad in (0, -2, 2.5, "3", True, 101):
        with pytest.raises(ValueError, match=r"folds=.*expected 1 .* or an integer k with 2 <= k"):
            F.check_folds(bad)
    with pytest.raises(ValueError, match="a fold rule needs k >= 2"):
        F.fold_of(np.arange(3), 1)
    with pytest.raises(InputFileError, match=r"analysis 'mine' \(config x.yaml\): no event branch .*entry_as_event=True"):
        F.event_numbers(None, 3, False, "analysis 'mine' (config x.yaml)")
    assert "entry % 3" in F.event_numbers(None, 3, True, "x")
    assert F.event_numbers("eventNumber", 3, False, "x") is None
    assert F.rule("eventNumber", 3) == "eventNumber % 3" and F.rule(None, 1) == "entry % 5 == 0"


def _scores(n=6000, k=3, seed=2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    score = np.clip(rng.normal(0.35 + 0.3 * (label == 0), 0.2), 0, 1)
    return pd.DataFrame({"score_sig": score, "label": label, "weight": rng.uniform(0.5, 2, n),
                         "sample": pd.Categorical(np.where(label == 0, "hh", "qcd")), "fold": np.arange(n) % k})


def test_fold_metrics_and_rocs_agree():
    from hhnb.stats import metrics

    s = _scores()
    fm = F.fold_metrics(s)
    assert len(fm.aucs) == 3 and fm.events == (2000, 2000, 2000)
    m = s["fold"].to_numpy() == 1
    y = (s["label"].to_numpy()[m] == 0).astype(int)
    w = metrics.luminosity_weights(s["weight"].to_numpy(), s["sample"].astype(str).to_numpy(), m)
    assert fm.aucs[1] == pytest.approx(metrics.roc(y, s["score_sig"].to_numpy()[m], w).area, abs=1e-12)
    assert fm.mean == pytest.approx(np.mean(fm.aucs)) and fm.std == pytest.approx(np.std(fm.aucs, ddof=1))
    assert 0.8 < fm.oof_auc < 0.9 and abs(fm.oof_auc - fm.mean) < 0.01
    r = F.fold_rocs(s, points=101)
    assert r.tpr.shape == (3, 101) and r.aucs == fm.aucs
    assert r.mean[0] >= 0 and r.mean[-1] == pytest.approx(1.0) and (np.diff(r.mean) >= -1e-12).all()
    # the interpolated curves integrate to the exact areas within the grid's resolution
    assert np.trapezoid(r.tpr[0], r.fpr) == pytest.approx(fm.aucs[0], abs=2e-3)
    view = F.fold_view(s, 2)
    assert view["is_test"].sum() == 2000 and not view.loc[view["is_test"], "fold"].ne(2).any()
    with pytest.raises(ValueError, match="no 'fold' column"):
        F.fold_metrics(s.drop(columns="fold"))
