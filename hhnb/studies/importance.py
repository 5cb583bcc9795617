"""Feature importance of a trained network: SHAP values of the signal output and permutation importance.

SHAP (Lundberg & Lee 2017) attributes each event's signal probability (output 0, also of
three-class networks) to its inputs; permutation importance (Breiman 2001) is the drop of the weighted AUC when
one input is shuffled. Two different questions with usually the same answer,
hence shown side by side. Both use the physical population: events drawn with probability
proportional to |weight| within each class, classes balanced (``physical_draw``).
TensorFlow is imported only when a network is explained (:mod:`hhnb.nn.backend`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

with warnings.catch_warnings():  # tqdm's 'IProgress not found' would land in notebook outputs
    warnings.filterwarnings("ignore", message=".*IProgress not found.*")
    import shap

from hhnb import layout
from hhnb.errors import InputFileError, UserArgumentError
from hhnb.nn import backend
from hhnb.nn.predict import predict as keras_predict
from hhnb.stats import metrics, significance

EXPLAINERS = ("gradient", "deep", "permutation")


def merged_weights(x: np.ndarray, label: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Signed weights with identical events merged: the first event of each group with the same inputs and label
    carries the group's summed weight, the others 0.

    Only the sum of the weights at a point of phase space is physical (docs/physics.md, section 7), so a pair
    (x, +w), (x, -w) weighs 0 and is never drawn by |weight|, nor shuffled among the events.

    >>> x = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [5.0, 6.0], [5.0, 6.0]])
    >>> merged_weights(x, np.array([0, 0, 0, 1, 1]), np.array([1.0, 2.0, 0.5, 3.0, -3.0])).tolist()
    [1.5, 2.0, 0.0, 0.0, 0.0]
    """
    x = np.asarray(x, float).reshape(len(weight), -1)
    return significance.merged_weights(np.column_stack([x, np.asarray(label, float)]), weight)


def physical_draw(label: np.ndarray, weight: np.ndarray, n: int, seed: int = 1,
                  mask: np.ndarray | None = None) -> np.ndarray:
    """Indices of ``n`` events, classes balanced (as training balances them), drawn with probability
    proportional to |weight| within each class (with replacement): the physical population of each class.

    Simulated QCD has equal events per pT slice but weights that differ by orders of magnitude; a
    uniform draw would explain a population that does not exist.

    >>> idx = physical_draw(np.array([0, 0, 1, 1, 1]), np.array([1.0, 0.0, 5.0, 0.0, 0.0]), 4, seed=1)
    >>> sorted(idx.tolist())
    [0, 0, 2, 2]
    """
    label = np.asarray(label)
    w = np.abs(np.asarray(weight, float))
    ok = np.ones(len(label), bool) if mask is None else np.asarray(mask, bool)
    classes = np.unique(label[ok])
    if len(classes) == 0:
        raise InputFileError("no events to draw from")
    rng = np.random.default_rng(seed)
    per_class = [n // len(classes) + (1 if k < n % len(classes) else 0) for k in range(len(classes))]
    out = []
    for k, m in zip(classes, per_class, strict=True):
        pool = np.flatnonzero(ok & (label == k))
        p = w[pool]
        if p.sum() <= 0:
            raise InputFileError(f"class {k}: all weights are zero, cannot draw the physical population")
        out.append(rng.choice(pool, size=m, replace=True, p=p / p.sum()))
    return np.concatenate(out)


def sample_events(scores: pd.DataFrame, n_explain: int = 1000, n_background: int = 200,
                  seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded physical samples (``physical_draw``): test events to explain, training events as SHAP reference.

    Training events are those neither test nor validation. Rows may repeat (draws with replacement).
    """
    test = scores["is_test"].to_numpy(bool)
    val = scores["is_val"].to_numpy(bool) if "is_val" in scores else np.zeros(len(scores), bool)
    train = ~test & ~val
    if not test.any() or not train.any():
        raise InputFileError("the scores file needs both test (is_test) and training events to explain the network")
    label, w = scores["label"].to_numpy(), scores["weight"].to_numpy(float)
    explain = physical_draw(label, w, n_explain, seed, test)
    background = physical_draw(label, w, n_background, seed + 1, train)
    return scores.iloc[explain], scores.iloc[background]


def output_model(model: Any, output: int = 0) -> Any:
    """A Keras model that returns only column ``output`` of ``model`` (the signal probability by default)."""

    k = backend.keras()
    inputs = k.Input(shape=tuple(model.input_shape[1:]), name="features")
    out = k.layers.Lambda(lambda t: t[:, output:output + 1], name=f"output_{output}")(model(inputs))
    return k.Model(inputs, out, name=f"{model.name}_output_{output}")


def explain(model: Any, x: np.ndarray, background: np.ndarray, explainer: str = "gradient", output: int = 0,
            seed: int = 1, nsamples: int = 200) -> np.ndarray:
    """SHAP values (n_events, n_features) of one network output.

    ``explainer``: ``gradient`` (shap.GradientExplainer, expected gradients),
    ``deep`` (shap.DeepExplainer, DeepLIFT) need a Keras model; ``permutation``
    (shap.PermutationExplainer) takes a Keras model or any function
    f(x) -> array (n,) or (n, n_outputs).
    """
    if explainer not in EXPLAINERS:
        raise UserArgumentError(f"unknown explainer {explainer!r}: expected one of {', '.join(EXPLAINERS)}")
    x = np.asarray(x, np.float32)
    background = np.asarray(background, np.float32)
    is_keras = hasattr(model, "input_shape")
    if explainer == "permutation":
        fn = _predict_fn(model, output)
        masker = shap.maskers.Independent(background, max_samples=len(background))
        expl = shap.PermutationExplainer(fn, masker, seed=seed)
        return np.asarray(expl(x, max_evals=2 * x.shape[1] + 1, silent=True).values, float)
    if not is_keras:
        raise UserArgumentError(f"the {explainer!r} explainer needs a Keras model; for a plain function use 'permutation'")
    single = output_model(model, output)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*structure of `inputs`.*")
        warnings.filterwarnings("ignore", message=".*TensorFlow version is newer.*")
        if explainer == "gradient":
            values = shap.GradientExplainer(single, background, batch_size=len(x)).shap_values(
                x, nsamples=nsamples, rseed=seed)
        else:
            try:
                values = shap.DeepExplainer(single, background).shap_values(x)
            except Exception as exc:  # shap's TF graph surgery breaks with some TF/Keras versions
                raise UserArgumentError(
                    f"shap.DeepExplainer failed with this TensorFlow/Keras ({exc}); "
                    "use explainer='gradient' or 'permutation', which work with Keras 3") from exc
    values = np.asarray(values[0] if isinstance(values, list) else values, float)
    return values.reshape(len(x), x.shape[1])


def _predict_fn(model: Any, output: int) -> Callable[[np.ndarray], np.ndarray]:
    """A numpy function x -> output column, from a Keras model or a plain function."""
    if hasattr(model, "input_shape"):
        return lambda a: keras_predict(model, a)[:, output]

    def fn(a: np.ndarray) -> np.ndarray:
        out = np.asarray(model(np.asarray(a)), float)
        return out[:, output] if out.ndim == 2 else out

    return fn


def ranking(values: np.ndarray, features: list[str] | tuple[str, ...], n_boot: int = 200,
            seed: int = 1) -> pd.DataFrame:
    """Features ranked by mean |SHAP value| (rank 1 = most important), with its bootstrap error.

    ``mean_abs_shap_error``: standard deviation over ``n_boot`` resamplings of the explained events
    (Efron 1979); ``rank_low``/``rank_high``: the 16-84 % range of each feature's rank over them.

    >>> ranking(np.array([[0.1, -2.0], [0.3, 1.0]]), ["a", "b"])["feature"].tolist()
    ['b', 'a']
    """
    values = np.asarray(values, float)
    if values.shape[1] != len(features):
        raise UserArgumentError(f"SHAP values have {values.shape[1]} columns but {len(features)} features were given")
    a = np.abs(values)
    df = pd.DataFrame({"feature": list(features), "mean_abs_shap": a.mean(axis=0)})
    if n_boot > 1 and len(a) > 1:
        rng = np.random.default_rng(seed)
        boot = np.stack([a[rng.integers(0, len(a), len(a))].mean(axis=0) for _ in range(n_boot)])
        ranks = (-boot).argsort(axis=1).argsort(axis=1) + 1
        df["mean_abs_shap_error"] = boot.std(axis=0, ddof=1)
        df["rank_low"], df["rank_high"] = np.percentile(ranks, [15.865, 84.135], axis=0)
    df = df.sort_values("mean_abs_shap", ascending=False, kind="stable").reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    return df


def permutation_importance(predict: Any, x: np.ndarray, is_signal: np.ndarray, weight: np.ndarray | None,
                           features: list[str] | tuple[str, ...], seed: int = 1, repeats: int = 1,
                           output: int = 0) -> pd.DataFrame:
    """AUC drop when one input is shuffled (weighted ROC of the signal output), ranked (1 = largest drop).

    ``predict`` is a Keras model or a function f(x) -> (n,) or (n, n_outputs). Weights are signed; identical
    events are merged first (:func:`merged_weights`), so a pair (x, +w), (x, -w) changes nothing.
    """
    fn = _predict_fn(predict, output)
    x = np.asarray(x, np.float32)
    y = np.asarray(is_signal).astype(int)
    if weight is not None:  # identical events merged (``merged_weights``); those left with weight 0 dropped
        weight = merged_weights(x, y, weight)
        keep = weight != 0
        x, y, weight = x[keep], y[keep], weight[keep]
    base = metrics.roc(y, fn(x), weight).area
    rng = np.random.default_rng(seed)
    drops = np.zeros((repeats, x.shape[1]))
    for r in range(repeats):
        for j in range(x.shape[1]):
            shuffled = x.copy()
            shuffled[:, j] = x[rng.permutation(len(x)), j]
            drops[r, j] = base - metrics.roc(y, fn(shuffled), weight).area
    df = pd.DataFrame({"feature": list(features), "auc_drop": drops.mean(axis=0),
                       "auc_drop_std": drops.std(axis=0), "auc_base": base})
    df = df.sort_values("auc_drop", ascending=False, kind="stable").reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    return df


def physical_permutation_importance(predict: Any, x: np.ndarray, label: np.ndarray, weight: np.ndarray,
                                    features: list[str] | tuple[str, ...], n_events: int = 4000, repeats: int = 5,
                                    seed: int = 1, output: int = 0) -> pd.DataFrame:
    """Permutation importance (Breiman 2001) on the physical population: AUC drop of the signal output.

    Each repeat draws ``n_events`` with ``physical_draw`` (classes balanced, probability ~ |weight|), and
    each drawn event counts with the sign of its weight, so the AUC of the draw estimates the class-balanced
    signed-weight AUC (importance sampling with |w| as the proposal); then shuffles each input once. Identical
    events are merged first (:func:`merged_weights`), so a pair (x, +w), (x, -w) changes nothing.
    ``auc_drop_std`` is the spread over repeats (draw + shuffle noise); ``auc_drop_error`` = std / sqrt(repeats).
    """
    fn = _predict_fn(predict, output)
    x = np.asarray(x, np.float32)
    label = np.asarray(label)
    weight = merged_weights(x, label, weight)  # identical events merged: a cancelling pair is never drawn
    drops = np.zeros((repeats, x.shape[1]))
    base = np.zeros(repeats)
    for r in range(repeats):
        idx = physical_draw(label, weight, n_events, seed + r)
        xr, y, sign = x[idx], (label[idx] == 0).astype(int), np.sign(weight[idx])
        rng = np.random.default_rng(seed + 10_000 + r)
        base[r] = metrics.roc(y, fn(xr), sign).area
        for j in range(x.shape[1]):
            shuffled = xr.copy()
            shuffled[:, j] = xr[rng.permutation(len(xr)), j]
            drops[r, j] = base[r] - metrics.roc(y, fn(shuffled), sign).area
    std = drops.std(axis=0, ddof=1) if repeats > 1 else np.full(x.shape[1], np.nan)
    df = pd.DataFrame({"feature": list(features), "auc_drop": drops.mean(axis=0), "auc_drop_std": std,
                       "auc_drop_error": std / np.sqrt(repeats), "auc_base": base.mean()})
    df = df.sort_values("auc_drop", ascending=False, kind="stable").reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    return df


def compare(shap_rank: pd.DataFrame, perm_rank: pd.DataFrame) -> pd.DataFrame:
    """SHAP and permutation rankings side by side (ordered by the SHAP rank)."""
    out = shap_rank.rename(columns={"rank": "shap_rank"}).merge(
        perm_rank[["feature", "auc_drop", "rank"]].rename(columns={"rank": "perm_rank"}), on="feature", how="outer")
    return out.sort_values("shap_rank", kind="stable").reset_index(drop=True)


def rank_correlation(table: pd.DataFrame) -> float:
    """Spearman correlation of the SHAP and permutation ranks (1 = same order)."""

    return float(spearmanr(table["shap_rank"], table["perm_rank"]).statistic)


def output_dir(analysis: str, tag: str, root: str | Path | None = None) -> Path:
    """The SHAP output folder of one network (``layout.shap_dir``)."""

    return layout.shap_dir(analysis, tag, root)
