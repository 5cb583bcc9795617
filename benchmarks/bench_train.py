"""Issue 3: network AUC against XGBoost on the same split, and training throughput against a bare model.fit."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import data_dir  # noqa: E402

from hhnb.config import analyses as config
from hhnb.nn.model import HyperParameters, fit, keras, predict  # noqa: E402
from hhnb.nn.training import training_arrays  # noqa: E402
from hhnb.studies import metrics  # noqa: E402


def _arrays(analysis: str, kl: float, d):
    ana = config.analysis(analysis)
    a = training_arrays(ana, kl, d)
    w_te = metrics.luminosity_weights(a.weight, a.frame["sample"].astype(str).to_numpy(), a.test)
    return ana, a.x, a.y, a.sample_weight, a.train, a.val, a.test, w_te


def _auc_rows(analysis: str, kl: float, d) -> dict:
    from xgboost import XGBClassifier

    ana, x, y, sw, tr, va, te, w_te = _arrays(analysis, kl, d)
    hyper = HyperParameters(learning_rate=ana.learning_rate, epochs=20, batch_size=100)
    res = fit(x[tr], y[tr], sw[tr], x[va], y[va], sw[va], len(ana.classes), hyper, seed=1)
    auc_nn = metrics.roc((y[te] == 0).astype(int), predict(res.model, x[te])[:, 0], w_te).area
    xgb = XGBClassifier(n_estimators=400, max_depth=6, learning_rate=0.05, n_jobs=2, random_state=1,
                        early_stopping_rounds=30, eval_metric="mlogloss")
    xgb.fit(x[tr], y[tr], sample_weight=sw[tr], eval_set=[(x[va], y[va])], sample_weight_eval_set=[sw[va]],
            verbose=False)
    auc_xgb = metrics.roc((y[te] == 0).astype(int), xgb.predict_proba(x[te])[:, 0], w_te).area
    return {"benchmark": f"test AUC {analysis} kl={kl:g} (20 epochs) vs XGBoost", "hhnb": auc_nn,
            "reference": auc_xgb, "unit": "weighted AUC", "ratio": auc_nn / auc_xgb,
            "goal": "AUC >= XGBoost - 0.005"}


def _throughput_row(d) -> dict:
    ana, x, y, sw, tr, va, te, _ = _arrays("resolved", 1.0, d)
    epochs, batch = 5, 100
    hyper = HyperParameters(epochs=epochs, batch_size=batch, patience=100)
    n = int(tr.sum())
    t0 = time.perf_counter()
    fit(x[tr], y[tr], sw[tr], x[va], y[va], sw[va], 3, hyper, seed=1)
    t_hhnb = time.perf_counter() - t0

    k = keras()
    k.utils.set_random_seed(1)
    inputs = k.Input(shape=(x.shape[1],))
    h = k.layers.Dense(200, activation="relu")(inputs)
    h = k.layers.Dropout(0.3)(h)
    h = k.layers.Dense(200, activation="relu")(h)
    bare = k.Model(inputs, k.layers.Dense(3, activation="softmax")(h))
    bare.compile(optimizer=k.optimizers.Adamax(5e-3), loss="sparse_categorical_crossentropy")
    xs = (x[tr] - x[tr].mean(0)) / (x[tr].std(0) + 1e-6)
    t0 = time.perf_counter()
    bare.fit(xs, y[tr], sample_weight=sw[tr], epochs=epochs, batch_size=batch, verbose=0)
    t_bare = time.perf_counter() - t0
    return {"benchmark": f"training throughput ({n} events x {epochs} epochs, whole train())",
            "hhnb": n * epochs / t_hhnb, "reference": n * epochs / t_bare,
            "unit": "events x epochs / s (vs bare model.fit)", "ratio": t_bare / t_hhnb, "goal": ">= 0.9"}


def rows() -> list[dict]:
    d = data_dir()
    return [_auc_rows("resolved", 1.0, d), _auc_rows("boosted", 10.0, d), _throughput_row(d)]
