"""Feature importance on synthetic data with known answers: a score built from one input ranks it first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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
    with pytest.raises(TypeError, match="Keras model"):
        imp.explain(one_input, x[:5], x[5:10], explainer="gradient")


def test_compare_and_rank_correlation():
    shap_rank = imp.ranking(np.array([[3.0, 1.0, 2.0]]), ["x", "y", "z"])
    perm = pd.DataFrame({"feature": ["x", "z", "y"], "auc_drop": [0.3, 0.2, 0.1], "rank": [1, 2, 3]})
    table = imp.compare(shap_rank, perm)
    assert list(table["feature"]) == ["x", "z", "y"]
    assert imp.rank_correlation(table) == pytest.approx(1.0)


def test_sample_events_is_seeded_and_split():
    df = pd.DataFrame({"is_test": np.arange(100) % 5 == 0, "v": np.arange(100)})
    ex, bg = imp.sample_events(df, n_explain=10, n_background=30, seed=1)
    ex2, _ = imp.sample_events(df, n_explain=10, n_background=30, seed=1)
    assert ex["is_test"].all() and not bg["is_test"].any()
    assert len(ex) == 10 and len(bg) == 30
    assert ex.index.equals(ex2.index)


@pytest.fixture(scope="module")
def one_input_keras():
    """A tiny Keras softmax model whose output depends on input 2 only (fixed weights, no training)."""
    from hhnb.nn.model import keras

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


@pytest.mark.slow
def test_make_writes_rankings(tiny_run, tmp_path):
    from hhnb.plots import importance as pi

    rep = pi.make("resolved", 1.0, models_dir=tiny_run.model_path.parent, outdir=tmp_path, n_explain=100,
                  n_background=50)
    csv = pd.read_csv(tmp_path / "shap_ranking.csv")
    assert list(csv.columns) == ["feature", "mean_abs_shap", "rank"]
    assert len(csv) == 20 and list(csv["rank"]) == list(range(1, 21))
    assert {"shap_beeswarm.png", "shap_vs_permutation.pdf", "permutation_importance.csv"} <= {
        p.name for p in rep.written}
    assert 0.5 < rep.permutation["auc_base"].iloc[0] <= 1.0
    assert rep.n_explain == 100
