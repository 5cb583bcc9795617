"""The weights a network trains with: the negative-weight policy, then every class with the same total."""

from __future__ import annotations

import numpy as np

from hhnb.config.analyses import NEGATIVE_WEIGHTS
from hhnb.errors import UserArgumentError


def training_weights(weight: np.ndarray, policy: str = NEGATIVE_WEIGHTS[0]) -> np.ndarray:
    """The weights a network trains with, by the ``negative_weights`` policy (evaluation keeps the signs).

    ``abs`` (the default): |w|, the loss stays bounded below and the |w|-weighted density equals the physical
    one where the negative fraction does not depend on the features (docs/physics.md, "Negative weights");
    ``keep``: the signed weights; ``zero``: negative-weight events left out of the loss.

    >>> w = np.array([2.0, -1.0, 0.5])
    >>> [training_weights(w, p).tolist() for p in ("abs", "keep", "zero")]
    [[2.0, 1.0, 0.5], [2.0, -1.0, 0.5], [2.0, 0.0, 0.5]]
    """
    w = np.asarray(weight, np.float64)
    if policy == "abs":
        return np.abs(w)
    if policy == "zero":
        return np.where(w < 0, 0.0, w)
    if policy == "keep":
        return w
    raise UserArgumentError(f"negative_weights {policy!r}: expected one of {', '.join(NEGATIVE_WEIGHTS)}")


def class_balanced_weights(labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-event training weights: every class with the same total, scaled to mean 1.

    (Adam-type optimisers are invariant to the overall scale; mean 1 keeps the loss readable.) Signed
    weights pass as they are: the ``negative_weights`` policy is applied before (:func:`training_weights`).

    >>> w = class_balanced_weights(np.array([0, 0, 1]), np.array([1.0, 1.0, 5.0]))
    >>> [round(float(v), 3) for v in w]
    [0.75, 0.75, 1.5]
    """
    labels = np.asarray(labels)
    weights = np.asarray(weights, float)
    out = np.zeros_like(weights)
    for c in np.unique(labels):
        m = labels == c
        out[m] = weights[m] / weights[m].sum()
    return out / out.mean()
