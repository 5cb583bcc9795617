"""hhnb.nn.model: class weights, hyper-parameter checks, fit / predict / save / load of a tiny network."""

from __future__ import annotations

import numpy as np
import pytest

from hhnb.nn import model
from hhnb.nn.model import HyperParameters


def test_class_balanced_weights_give_every_class_the_same_total():
    labels = np.array([0] * 3 + [1] * 5 + [2] * 2)
    w = model.class_balanced_weights(labels, np.array([1.0, 2, 3, 1, 1, 1, 1, 1, 50, 50]))
    totals = [w[labels == c].sum() for c in range(3)]
    assert totals == pytest.approx([totals[0]] * 3)
    assert w.mean() == pytest.approx(1.0)
    assert w[1] / w[0] == pytest.approx(2.0)  # within a class the physical weights keep their ratios


@pytest.mark.parametrize("kwargs,message", [
    ({"epochs": 0}, "epochs=0"), ({"dropout": 1.0}, "dropout=1.0"), ({"widths": (32, 0)}, "widths"),
    ({"batch_size": 2.5}, "an integer"), ({"steps_per_execution": 0}, "steps_per_execution=0"),
    ({"log_inputs": 1}, "log_inputs=1"),
])
def test_bad_hyper_parameters_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HyperParameters(**kwargs)


def test_hyper_parameters_as_dict_has_no_dead_fields():
    assert set(HyperParameters().as_dict()) == {"widths", "dropout", "learning_rate", "optimizer", "epochs",
                                                "batch_size", "patience", "steps_per_execution", "log_inputs"}


@pytest.mark.slow
def test_fit_predict_save_load(tmp_path):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(1, 1, (400, 2)), rng.normal(-1, 1, (400, 2))]).astype(np.float32) * 50 + 100
    y = np.repeat([0, 1], 400).astype(np.int32)
    w = np.ones(len(y))
    hyper = HyperParameters(widths=(8,), epochs=3, batch_size=64, learning_rate=1e-2)
    res = model.fit(x, y, w, x[::5], y[::5], w[::5], 2, hyper, seed=1)
    p = model.predict(res.model, x)
    assert p.shape == (800, 2) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert p[y == 0, 0].mean() > p[y == 1, 0].mean() + 0.3  # raw (unscaled) inputs: the scaling is inside
    path = model.save(res.model, tmp_path / "m.keras")
    again = model.load(path)
    assert np.allclose(model.predict(again, x), p, atol=1e-6)
    assert not hasattr(model, "_CACHE")  # the compiled predict lives on the model, not in the module
    assert model.predict(res.model, x[:0]).shape == (0, 2)
    # batches of 64 and a remainder of 32, then another size: one trace serves every number of events
    assert np.allclose(model.predict(res.model, x, batch_size=64), p, atol=1e-6)
    model.predict(res.model, x[:17])
    assert res.model._hhnb_predict.experimental_get_tracing_count() == 1
    # one end time per epoch, increasing; the steady epoch time excludes the first (tracing) epoch
    assert len(res.epoch_ends_s) == res.epochs_run == 3 and np.all(np.diff(res.epoch_ends_s) > 0)
    assert 0 < res.steady_epoch_s <= res.train_time_s


@pytest.mark.slow
def test_steps_per_execution_and_seed_leave_the_learned_weights_identical():
    """Same seed -> the same weights; steps_per_execution only changes how steps are dispatched.

    101 events at batch 10 give 11 steps, not a multiple of 4: the last, partial execution is covered.
    """
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (101, 3)).astype(np.float32) * 20 + 50
    y = (x[:, 0] > 50).astype(np.int32)
    w = rng.uniform(0.5, 2.0, 101)

    def weights(spe: int) -> list[np.ndarray]:
        hyper = HyperParameters(widths=(8, 8), epochs=2, batch_size=10, steps_per_execution=spe, patience=5)
        return model.fit(x, y, w, x[::4], y[::4], w[::4], 2, hyper, seed=7).model.get_weights()

    first, again, batched = weights(1), weights(1), weights(4)
    assert len(first) == len(again) == len(batched) > 0
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert all(np.array_equal(a, b) for a, b in zip(first, batched))
    assert not np.array_equal(first[-2], weights_other_seed(x, y, w)[-2])


def weights_other_seed(x, y, w) -> list[np.ndarray]:
    hyper = HyperParameters(widths=(8, 8), epochs=2, batch_size=10, steps_per_execution=4, patience=5)
    return model.fit(x, y, w, x[::4], y[::4], w[::4], 2, hyper, seed=8).model.get_weights()


def test_heavy_tailed_inputs_enter_as_log_inside_the_model(tmp_path):
    """An exponential (pT-like) column is taken as log(1 + x) in the model; save/load keeps the layer and scores."""
    rng = np.random.default_rng(4)
    pt = np.concatenate([rng.exponential(50, 300), rng.exponential(120, 300)])
    eta = rng.normal(0, 1.5, 600)
    x = np.c_[pt, eta].astype(np.float32)
    y = np.repeat([0, 1], 300).astype(np.int32)
    assert model.heavy_tailed_columns(x) == (0,)
    assert np.allclose(model.log_columns(x, (0,))[:, 0], np.log1p(pt), rtol=1e-6)
    hyper = HyperParameters(widths=(8,), epochs=2, batch_size=64, learning_rate=1e-2)
    res = model.fit(x, y, np.ones(600), x[::5], y[::5], np.ones(120), 2, hyper, seed=1)
    assert model.logged_inputs(res.model) == [0]
    scaling = res.model.get_layer("scaling")
    assert np.isclose(float(np.ravel(scaling.mean)[0]), np.log1p(pt).mean(), rtol=1e-4)  # adapted on log(1 + pT)
    again = model.load(model.save(res.model, tmp_path / "m.keras"))
    assert model.logged_inputs(again) == [0]
    assert np.allclose(model.predict(again, x), model.predict(res.model, x), atol=1e-6)
    off = model.fit(x, y, np.ones(600), x[::5], y[::5], np.ones(120), 2,
                    HyperParameters(widths=(8,), epochs=1, batch_size=64, log_inputs=False), seed=1)
    assert model.logged_inputs(off.model) == []


def test_heavy_tailed_columns_use_scipy_skewness():
    """Columns kept: non-negative, > 50 distinct values, scipy.stats.skew > 1 (a chi2(1)-like column, skew 2.8)."""
    from scipy import stats

    rng = np.random.default_rng(5)
    chi2 = rng.normal(size=4000) ** 2
    mild = rng.gamma(9.0, size=4000)  # skewness 2 / sqrt(9) = 0.67: kept linear
    x = np.c_[mild, chi2, -chi2, np.zeros(4000), rng.integers(0, 4, 4000)]
    assert stats.skew(chi2) > 2 and stats.skew(mild) < 1
    assert model.heavy_tailed_columns(x) == (1,)
    assert model.heavy_tailed_columns(x, min_skew=0.5) == (0, 1)
    assert model.heavy_tailed_columns(x[:2]) == ()


def test_tensorflow_import_leaves_out_jax_and_sklearn_but_they_import_afterwards():
    """Hidden only during the import: ``import m`` fails inside the block and works after it."""
    import sys

    name = "hhnb_test_not_imported_yet"
    with model._without((name,)):
        with pytest.raises(ImportError):
            __import__(name)
    assert name not in sys.modules
    with model._without(("numpy",)):  # already imported: left alone
        import numpy  # noqa: F401


def test_default_learning_rate_is_the_batch_100_rate_scaled_to_the_batch():
    hp = HyperParameters.scaled(1e-3, batch_size=400)
    assert hp.batch_size == 400 and hp.learning_rate == pytest.approx(2e-3)
    assert HyperParameters().learning_rate == pytest.approx(5e-3 * 10 ** 0.5)
    assert HyperParameters.scaled(5e-3, batch_size=100).learning_rate == 5e-3


def test_validation_loss_is_what_keras_evaluate_reports():
    """The early-stopping loss (computed from predict) equals Keras' weighted evaluate on the same network."""
    rng = np.random.default_rng(6)
    x = rng.normal(0, 1, (300, 3)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(np.int32)
    w = rng.uniform(0.5, 2.0, 300)
    res = model.fit(x, y, w, x[::3], y[::3], w[::3], 2, HyperParameters(widths=(8,), epochs=2, batch_size=32), seed=2)
    keras_loss = res.model.evaluate(x[::3], y[::3], sample_weight=w[::3].astype(np.float32), batch_size=8192, verbose=0)
    # the network's final weights are those of the best epoch (restored) or of the last
    assert any(v == pytest.approx(keras_loss, rel=1e-5) for v in (min(res.history["val_loss"]), res.history["val_loss"][-1]))
    assert len(res.history["val_loss"]) == len(res.history["loss"]) == res.epochs_run == 2
