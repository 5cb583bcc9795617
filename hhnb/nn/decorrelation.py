"""Training that does not sculpt the mass: the DisCo penalty and the flattening of the background's mass.

``disco``: the loss gains lambda x dCor^2(p_sig, masses) over the background events of each batch, with their
weights (Kasieczka and Shih, PRL 125 (2020) 122001, arXiv:2001.05310; the weighted form of their code,
github.com/gkasieczka/DisCo). dCor^2 is the squared distance correlation of Szekely, Rizzo and Bakirov
(Ann. Statist. 35 (2007) 2769), the V-statistic: it is zero exactly when the score and the masses are
independent. ``flat``: the background events are reweighted in training so that their mass distribution
is flat (planing, arXiv:1908.08959; weaver-core's ``reweight_method: flat``). Both change the training only:
the network, its file, its ONNX export and how it is applied are those of a plain network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hhnb.nn import backend

#: events of the validation set on which the penalty of the validation loss is computed (n^2 memory)
VALIDATION_EVENTS = 2000
#: background events of a batch that enter its penalty: the first ones of the (randomly ordered) batch. The
#: n x n matrices cost n^2: at batch 1000 (about 800 background events) the whole batch made training 5x slower
#: (benchmarks/bench_decorrelation.py); a random subset of 256 estimates the same dCor^2 with more noise
PENALTY_EVENTS = 256


def distance_correlation_sqr(score: np.ndarray, mass: np.ndarray, weight: np.ndarray) -> float:
    """Weighted dCor^2 (V-statistic) of a score and one or more masses; events with weight 0 do not count.

    With unit weights it is ``dcor.distance_correlation_sqr``; an integer weight k counts as k copies.

    >>> x = np.linspace(0, 1, 50)
    >>> round(distance_correlation_sqr(x, x, np.ones(50)), 6), round(distance_correlation_sqr(x, 3 * x + 1, np.ones(50)), 6)
    (1.0, 1.0)
    """
    x = np.asarray(score, np.float64)
    y = np.asarray(mass, np.float64).reshape(len(x), -1)
    w = np.asarray(weight, np.float64)
    w = w * len(w) / max(w.sum(), 1e-300)
    a = np.abs(x[:, None] - x[None, :])
    b = np.sqrt(((y[:, None, :] - y[None, :, :]) ** 2).sum(-1))

    def centred(m: np.ndarray) -> np.ndarray:
        row = (m * w[None, :]).mean(axis=1)
        return m - row[:, None] - row[None, :] + (row * w).mean()

    def mean(m: np.ndarray) -> float:
        return float(((m * w[None, :]).mean(axis=1) * w).mean())

    big_a, big_b = centred(a), centred(b)
    denom = np.sqrt(max(mean(big_a * big_a) * mean(big_b * big_b), 0.0))
    return float(mean(big_a * big_b) / denom) if denom > 0 else 0.0


def batch_penalty(score: Any, mass: Any, weight: Any, events: int = PENALTY_EVENTS) -> Any:
    """dCor^2 of a batch's first ``events`` background events (weight > 0): the DisCo term of one step."""
    tf = backend.tensorflow()
    rows = tf.where(weight > 0)[:events, 0]
    return distance_correlation_sqr_tensor(tf.gather(score, rows), tf.gather(mass, rows), tf.gather(weight, rows))


def distance_correlation_sqr_tensor(score: Any, mass: Any, weight: Any) -> Any:
    """The same dCor^2 in TensorFlow, differentiable in ``score`` (the loss term of a batch)."""
    tf = backend.tensorflow()
    n = tf.cast(tf.shape(score)[0], tf.float32)
    w = weight * n / tf.maximum(tf.reduce_sum(weight), 1e-12)
    a = tf.abs(score[:, None] - score[None, :])
    d = mass[:, None, :] - mass[None, :, :]
    b = tf.sqrt(tf.reduce_sum(d * d, axis=-1) + 1e-12) - 1e-6  # sqrt(1e-12): the diagonal stays 0

    def centred(m):
        row = tf.reduce_mean(m * w[None, :], axis=1)
        return m - row[:, None] - row[None, :] + tf.reduce_mean(row * w)

    def mean(m):
        return tf.reduce_mean(tf.reduce_mean(m * w[None, :], axis=1) * w)

    big_a, big_b = centred(a), centred(b)
    return mean(big_a * big_b) / tf.sqrt(tf.maximum(mean(big_a * big_a) * mean(big_b * big_b), 1e-20))


@dataclass(frozen=True)
class Penalty:
    """What the training loop needs for DisCo: the strength, and per event the masses and the penalty weight
    (the event's |weight| for background, 0 for signal), for the training and the validation events."""

    strength: float
    mass: np.ndarray
    weight: np.ndarray
    val_mass: np.ndarray
    val_weight: np.ndarray

    def validation_term(self, p_sig: np.ndarray, seed: int = 0) -> float:
        """strength x dCor^2 on at most :data:`VALIDATION_EVENTS` background events of the validation set."""
        rows = np.flatnonzero(self.val_weight > 0)
        if len(rows) > VALIDATION_EVENTS:
            rows = np.sort(np.random.default_rng(seed).choice(rows, VALIDATION_EVENTS, replace=False))
        if len(rows) < 2:
            return 0.0
        return self.strength * distance_correlation_sqr(p_sig[rows], self.val_mass[rows], self.val_weight[rows])


def flat_weights(weight: np.ndarray, mass: np.ndarray, background: np.ndarray, labels: np.ndarray,
                 bins: int = 20) -> np.ndarray:
    """Training weights with each background class's mass distribution made flat (planing).

    The mass (one column, or several: a histogram in each, multiplied) is binned in ``bins`` quantile bins of the
    class's weighted events; each event is divided by its bin's weighted density, and the class keeps its total.
    Signal events keep their weights.

    >>> rng = np.random.default_rng(0)
    >>> m = rng.exponential(100.0, 4000)
    >>> w = flat_weights(np.ones(4000), m, np.ones(4000, bool), np.ones(4000, int), bins=10)
    >>> edges = np.quantile(m, np.linspace(0, 1, 11))
    >>> density = np.histogram(m, edges, weights=w)[0] / np.diff(edges)  # weighted events per GeV
    >>> bool(np.allclose(density, density.mean(), rtol=1e-6)), round(float(w.sum()), 6)
    (True, 4000.0)
    """
    weight = np.asarray(weight, np.float64)
    mass = np.asarray(mass, np.float64).reshape(len(weight), -1)
    out = weight.copy()
    for c in np.unique(np.asarray(labels)[background]):
        rows = np.flatnonzero(background & (np.asarray(labels) == c))
        w = np.abs(weight[rows])
        density = np.ones(len(rows))
        for j in range(mass.shape[1]):
            edges = np.unique(np.quantile(mass[rows, j], np.linspace(0, 1, bins + 1)))
            which = np.clip(np.searchsorted(edges, mass[rows, j], side="right") - 1, 0, len(edges) - 2)
            per_bin = np.bincount(which, weights=w, minlength=len(edges) - 1) / np.diff(edges)
            density *= per_bin[which] / per_bin.mean()
        new = weight[rows] / np.maximum(density, 1e-12)
        out[rows] = new * (weight[rows].sum() / new.sum())
    return out
