"""Feature importance on synthetic data with known answers: a score built from one input ranks it first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hhnb.errors import UserArgumentError
from hhnb.studies import importance as imp

FEATURES = ["a", "b", "key", "d"]


@pytest.fixture
def toy():
    """Four inputs; the label depends only on ``key`` (column 2)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1500, 4)).astype(np.float32)
    y = (x[:, 2] + 0.3 * rng.normal(size=1500) > 0).astype(int)
    return x, y


def one_input(x):
    """A 'network' whose signal probability depends on input 2 only."""
    p = 1 / (1 + np.exp(-3 * np.asarray(x)[:, 2]))
    return np.stack([p, 1 - p], axis=1)


def test_permutation_importance_ranks_the_only_input_first(toy):
    x, y = toy
    out = imp.permutation_importance(one_input, x, y, np.ones(len(y)), FEATURES, seed=3)
    assert out["feature"].iloc[0] == "key"
    assert out["auc_drop"].iloc[0] > 0.3
    others = out[out["feature"] != "key"]
    assert np.allclose(others["auc_drop"], 0.0)
    assert list(out["rank"]) == [1, 2, 3, 4]


def test_permutation_explainer_on_plain_function(toy):
    x, _ = toy
    values = imp.explain(one_input, x[:40], x[100:150], explainer="permutation", seed=2)
    assert values.shape == (40, 4)
    rank = imp.ranking(values, FEATURES)
    assert rank["feature"].iloc[0] == "key"
    assert np.allclose(values[:, [0, 1, 3]], 0.0, atol=1e-6)


def test_unknown_explainer_and_function_for_gradient(toy):
    x, _ = toy
    with pytest.raises(ValueError, match="unknown explainer"):
        imp.explain(one_input, x[:5], x[5:10], explainer="kernel")
    with pytest.raises(UserArgumentError, match="Keras model"):
        imp.explain(one_input, x[:5], x[5:10], explainer="gradient")


def test_compare_and_rank_correlation():
    shap_rank = imp.ranking(np.array([[3.0, 1.0, 2.0]]), ["x", "y", "z"])
    perm = pd.DataFrame({"feature": ["x", "z", "y"], "auc_drop": [0.3, 0.2, 0.1], "rank": [1, 2, 3]})
    table = imp.compare(shap_rank, perm)
    assert list(table["feature"]) == ["x", "z", "y"]
    assert imp.rank_correlation(table) == pytest.approx(1.0)


def test_sample_events_is_seeded_and_split():
    n = 200
    df = pd.DataFrame({"is_test": np.arange(n) % 5 == 0, "is_val": np.arange(n) % 5 == 1, "v": np.arange(n),
                       "label": np.arange(n) % 2, "weight": np.r_[np.full(100, 1.0), np.full(100, 50.0)]})
    ex, bg = imp.sample_events(df, n_explain=10, n_background=30, seed=1)
    ex2, _ = imp.sample_events(df, n_explain=10, n_background=30, seed=1)
    assert ex["is_test"].all() and not bg["is_test"].any() and not bg["is_val"].any()
    assert len(ex) == 10 and len(bg) == 30
    assert ex.index.equals(ex2.index)
    assert (ex["label"] == 0).sum() == 5 and (bg["label"] == 0).sum() == 15  # classes balanced


def test_physical_draw_follows_the_weights_within_each_class():
    """Known answer: a class with two pT slices, equal simulated events, weights 1 : 99."""
    rng = np.random.default_rng(8)
    label = np.r_[np.zeros(1000, int), np.ones(2000, int)]
    weight = np.r_[rng.uniform(0.5, 1.5, 1000), np.full(1000, 1.0), np.full(1000, 99.0)]
    idx = imp.physical_draw(label, weight, 20000, seed=3)
    assert (label[idx] == 0).sum() == (label[idx] == 1).sum() == 10000  # balanced as in training
    heavy = (idx >= 2000).sum() / 10000
    assert heavy == pytest.approx(0.99, abs=0.004)  # binomial error 0.001
    assert np.array_equal(idx, imp.physical_draw(label, weight, 20000, seed=3))
    assert not np.array_equal(idx, imp.physical_draw(label, weight, 20000, seed=4))
    only_test = np.arange(3000) % 5 == 0
    assert only_test[imp.physical_draw(label, weight, 100, seed=1, mask=only_test)].all()
    with pytest.raises(ValueError, match="all weights are zero"):
        imp.physical_draw(label, np.r_[np.ones(1000), np.zeros(2000)], 10)


def test_physical_permutation_importance_has_a_noise_level(toy):
    x, y = toy
    label = 1 - y  # label 0 = signal
    w = np.where(label == 0, 0.01, 3.0)
    table = imp.physical_permutation_importance(one_input, x, label, w, FEATURES, n_events=1000, repeats=4, seed=2)
    assert table.loc[0, "feature"] == "key"
    assert table.loc[0, "auc_drop"] > 10 * table.loc[0, "auc_drop_error"] > 0
    others = table[table["feature"] != "key"]
    assert (others["auc_drop"].abs() < 1e-9).all()  # the function ignores them: no drop at all


def test_ranking_bootstrap_error():
    rng = np.random.default_rng(9)
    values = np.c_[rng.normal(0, 2.0, 500), rng.normal(0, 1.0, 500), rng.normal(0, 0.98, 500)]
    r = imp.ranking(values, ["big", "mid", "tie"], n_boot=300, seed=1)
    assert r.loc[0, "feature"] == "big" and r.loc[0, "rank_low"] == r.loc[0, "rank_high"] == 1
    # error of a mean of |N(0, 1)| over 500 events: sqrt(1 - 2/pi) / sqrt(500) = 0.027
    assert r.set_index("feature").loc["mid", "mean_abs_shap_error"] == pytest.approx(0.027, rel=0.2)
    assert set(r.loc[1:, "rank_low"]) == {2.0}  # mid and tie are within noise: both reach rank 2
    assert set(r.loc[1:, "rank_high"]) == {3.0}


@pytest.fixture(scope="module")
def one_input_keras():
    """A tiny Keras softmax model whose output depends on input 2 only (fixed weights, no training)."""
    from hhnb.nn.backend import keras

    k = keras()
    inputs = k.Input(shape=(4,))
    logits = k.layers.Dense(2, name="dense")(inputs)
    model = k.Model(inputs, k.layers.Activation("softmax")(logits))
    kernel = np.zeros((4, 2), np.float32)
    kernel[2] = [2.0, -2.0]
    model.get_layer("dense").set_weights([kernel, np.zeros(2, np.float32)])
    return model


@pytest.mark.slow
@pytest.mark.parametrize("explainer", ["gradient", "deep"])
def test_keras_explainers_rank_the_only_input_first(one_input_keras, toy, explainer):
    x, _ = toy
    values = imp.explain(one_input_keras, x[:200], x[500:600], explainer=explainer, seed=1)
    assert values.shape == (200, 4)
    assert imp.ranking(values, FEATURES)["feature"].iloc[0] == "key"
    assert np.abs(values[:, [0, 1, 3]]).max() < 1e-4 < np.abs(values[:, 2]).mean()
