"""A network parameterised in kappa_lambda (Baldi et al., EPJC 76 (2016) 235; docs/physics.md section 5).

One network per analysis takes kappa_lambda as its last input (``layout.PARAM_INPUT``, after the
ntuple features). By default only its morphing-aware head reads that input (:mod:`hhnb.nn.morphing`,
Brehmer et al. 2018): the signal odds are exactly a ratio of quadratics in kappa_lambda, as the
physics says; ``head="dense"`` is the plain network of Baldi et al. (kappa_lambda an input like the
features). It trains on the signal samples of many lambdas at once, each lambda's signal with
the same total training weight, against the background, whose events get lambda values drawn (seeded)
from the signal's training distribution (uniform over the training lambdas); it scores any lambda by
setting that input. One ``.keras`` file (or one ``.onnx`` file: a single input, the features then
kappa_lambda) scores raw inputs. Files carry the tag
``param`` (``nn_<analysis>_SlfCoup_param.keras`` + card); training is ``hhnb.nn.training.train`` with
``kl=layout.PARAM`` (:func:`hhnb.nn.training.train_parameterised`), so k-fold sets and ONNX export work as for any network.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hhnb import layout
from hhnb.config import lambdas as _lambdas
from hhnb.config.analyses import Analysis
from hhnb.errors import MissingArtifactError, UserArgumentError
from hhnb.io import ntuples as data
from hhnb.nn import morphing
from hhnb.nn.predict import predict
from hhnb.nn.saving import load as load_model
from hhnb.stats import metrics
from hhnb.toy import ondemand

#: Held out of the training grid in the comparison notebook (issue 15): the nearest dedicated network competes.
HELD_OUT = (-3.0, 1.5, 4.0, 15.0)


def check_lambdas(lambdas: str | Iterable[object] | None) -> tuple[float, ...]:
    """The training lambdas, sorted and each once (None or 'all': the study's grid); at least two.

    >>> check_lambdas("1,m5.0,1,10")
    (-5.0, 1.0, 10.0)
    """
    values = tuple(sorted(set(_lambdas.parse_list("all" if lambdas is None else lambdas))))
    if len(values) < 2:
        raise UserArgumentError(f"a parameterised network needs at least two training lambdas, got {list(values)}")
    return values


def check_head(head: str | None) -> str:
    """The network's head: ``"morphing"`` (None: the default, :mod:`hhnb.nn.morphing`) or ``"dense"`` (Baldi et al.).

    >>> check_head(None), check_head("dense")
    ('morphing', 'dense')
    """
    return morphing.check_head(morphing.DEFAULT_HEAD if head is None else head)


def head_card(head: str) -> dict[str, str]:
    """What the card says of the head: its reference and formula."""
    if check_head(head) == "morphing":
        return {"head_reference": morphing.REFERENCE,
                "head_formula": (f"signal logit log Q(x, k) - log N(k), k = kappa_lambda / {morphing.SCALE:g}, "
                                 "Q = (l0 + l1 k)^2 + (l2 k)^2 + eps with l0, l1, l2 outputs of the dense layers "
                                 "(which see the features only), N likewise with three trainable scalars, "
                                 f"eps = {morphing.EPSILON:g}; background logits depend on the features only; "
                                 "softmax over the classes")}
    return {"head_reference": "Baldi et al., EPJC 76 (2016) 235",
            "head_formula": "kappa_lambda a plain input of the dense layers; softmax over the classes"}


def with_lambda(x: np.ndarray, kl: float) -> np.ndarray:
    """The network's input: raw features with kappa_lambda ``kl`` appended as the last column (float32).

    >>> with_lambda(np.zeros((2, 1)), -5.0).tolist()
    [[0.0, -5.0], [0.0, -5.0]]
    """
    x = np.asarray(x, np.float32)
    return np.column_stack([x, np.full(len(x), _lambdas.parse(kl), np.float32)])


def predict_at(model: Any, x: np.ndarray, kl: float) -> np.ndarray:
    """Class probabilities of raw events ``x`` (n x features) with kappa_lambda set to ``kl`` (one Keras model)."""
    return predict(model, with_lambda(x, kl))


def nearest(kl: float, lambdas: Sequence[float]) -> float:
    """The training lambda nearest to ``kl`` (the lower one on a tie).

    >>> nearest(4.0, (3.0, 5.0)), nearest(15.0, (10.0, 20.0)), nearest(-3.0, (-5.0, -2.0))
    (3.0, 10.0, -2.0)
    """
    grid = np.asarray(sorted(lambdas), float)
    return float(grid[int(np.argmin(np.abs(grid - float(kl))))])


# -- events -----------------------------------------------------------------------------------------------

def draw_background_lambdas(n: int, lambdas: Sequence[float], seed: int) -> np.ndarray:
    """kappa_lambda values for ``n`` background events, drawn (seeded) from the signal's training distribution.

    Each training lambda's signal carries the same total training weight, so that distribution is
    uniform over ``lambdas``.

    >>> draw_background_lambdas(5, (1.0, 10.0), seed=1).tolist()
    [10.0, 1.0, 10.0, 10.0, 1.0]
    """
    return np.random.default_rng([int(seed), 11]).choice(np.asarray(lambdas, float), size=int(n))


def load_frame(ana: Analysis, lambdas: Sequence[float], data_dir: str | Path, n_classes: int | None = None,
               generate: bool = False, seed: int = 1) -> pd.DataFrame:
    """Signal at every lambda (sample ``layout.param_sample``) and the background once, with a ``kappa_lambda`` column."""
    frames = []
    for i, kl in enumerate(lambdas):
        if generate:
            ondemand.generate_missing(ana, kl, data_dir)
        df = data.load(ana, kl, data_dir, n_classes=n_classes, signal_only=i > 0)
        df["sample"] = df["sample"].astype(str)
        sig = (df["label"] == 0).to_numpy()
        df.loc[sig, "sample"] = [layout.param_sample(s, kl) for s in df.loc[sig, "sample"]]
        df[layout.PARAM_INPUT] = np.float64(kl)
        if i == 0:
            df.loc[~sig, layout.PARAM_INPUT] = draw_background_lambdas(int((~sig).sum()), lambdas, seed)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["sample"] = out["sample"].astype("category")
    return out


def lambda_balanced(weight: np.ndarray, kl: np.ndarray, signal: np.ndarray) -> np.ndarray:
    """Weights with each lambda's signal scaled to the same total (the background unchanged).

    >>> lambda_balanced(np.array([1.0, 1, 6, 5]), np.array([1.0, 1, 10, 10]), np.array([1, 1, 1, 0], bool)).tolist()
    [2.0, 2.0, 4.0, 5.0]
    """
    w = np.asarray(weight, float).copy()
    kl, signal = np.asarray(kl, float), np.asarray(signal, bool)
    values = np.unique(kl[signal])
    totals = {v: w[signal & (kl == v)].sum() for v in values}
    target = float(np.mean(list(totals.values())))
    for v, t in totals.items():
        m = signal & (kl == v)
        w[m] *= target / t if t else 0.0
    return w


def at_lambda(frame: pd.DataFrame, kl: float) -> np.ndarray:
    """Rows that describe kappa_lambda ``kl``: its own signal and every background event."""
    signal = (frame["label"] == 0).to_numpy()
    return ~signal | np.isclose(frame[layout.PARAM_INPUT].to_numpy(float), float(kl))


# -- trained networks -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Parameterised:
    """A trained parameterised network (or k-fold set) and its card: what scoring at any lambda needs."""

    models: tuple[Any, ...]
    card: dict[str, Any]

    @property
    def features(self) -> list[str]:
        return list(self.card["features"])

    @property
    def folds(self) -> int:
        return int(self.card.get("folds", 1))

    @property
    def lambdas(self) -> tuple[float, ...]:
        """The lambdas it was trained on."""
        return tuple(float(v) for v in self.card["lambdas"])

    def score(self, events: pd.DataFrame, kl: float, output: int = 0, event: str = "event") -> np.ndarray:
        """Output ``output`` (0 = signal) for the rows of ``events`` at kappa_lambda ``kl``.

        A k-fold set scores each row with the network blind to its fold (``events[event] % k``).
        """
        return scores_at(self.models, events[self.features].to_numpy(np.float32), kl,
                         events[event].to_numpy() if self.folds > 1 else None)[:, output]


def scores_at(models: Sequence[Any], x: np.ndarray, kl: float, event: np.ndarray | None = None) -> np.ndarray:
    """Probabilities of raw events at ``kl``: one model, or model ``event % k`` of a k-fold set for each event."""
    if len(models) == 1:
        return predict_at(models[0], x, kl)
    fold = np.mod(np.asarray(event, np.int64), len(models))
    out = None
    for i, model in enumerate(models):
        rows = np.flatnonzero(fold == i)
        probs = predict_at(model, x[rows], kl)
        if out is None:
            out = np.zeros((len(x), probs.shape[1]), np.float32)
        out[rows] = probs
    return out


def load(models_dir: str | Path | None, analysis: str) -> Parameterised:
    """The parameterised network of ``analysis`` in ``models_dir`` (every fold of a k-fold set)."""
    card_file = layout.card_path(layout.models_dir(models_dir), analysis, layout.PARAM)
    if not card_file.exists():
        raise MissingArtifactError(f"model card {card_file} does not exist: train the parameterised network first "
                                   f"(hhnb.nn.training.train_parameterised({analysis!r}) or papermill "
                                   f"notebooks/train.ipynb out.ipynb -p analysis {analysis} -p parameterised True)")
    card = json.loads(card_file.read_text())
    names = card.get("fold_models") or [layout.model_path("", analysis, layout.PARAM).name]
    return Parameterised(tuple(load_model(card_file.parent / n) for n in names), card)


def lambda_aucs(models: Sequence[Any], frame: pd.DataFrame, x: np.ndarray, mask: np.ndarray,
                lambdas: Sequence[float]) -> dict[str, float]:
    """Weighted AUC on the ``mask`` events at each lambda: its signal against all background, scored at that lambda."""
    event = frame["event"].to_numpy() if len(models) > 1 else None
    sig = (frame["label"] == 0).to_numpy()
    out = {}
    for kl in lambdas:
        m = mask & at_lambda(frame, kl)
        w = metrics.luminosity_weights(frame["weight"].to_numpy(float), frame["sample"].astype(str).to_numpy(), m)
        s = scores_at(models, x[m], kl, None if event is None else event[m])[:, 0]
        out[_lambdas.tag(kl)] = round(float(metrics.roc(sig[m].astype(int), s, w).area), 6)
    return out

