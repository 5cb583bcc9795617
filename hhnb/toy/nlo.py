"""Negative generator weights of the toy's NLO-like backgrounds (as MC@NLO-type generators give them).

A next-to-leading-order generator matched to a parton shower (MC@NLO, Frixione & Webber 2002) writes a
fraction of its events with negative weights; only the sum of the weights at a point of phase space is
physical. The toy gives the HH->bbbb ``ttbar`` and the ttHH ``ttz`` samples such weights: each event is
negative with probability ``f(pT) = F0 + F1 pT / (pT + PT0)`` (more negative events where the hard system
recoils, where the NLO real-emission subtraction acts), and every weight is scaled by 1 / (1 - 2 f): the
expectation of every weighted distribution is unchanged (E[sign] / (1 - 2 f) = 1 at every pT), while the
effective number of events drops by (1 - 2 f)^2, as for a real NLO sample.
"""

from __future__ import annotations

import numpy as np

#: processes generated as at NLO, with negative weights
NLO_PROCESSES = ("ttbar", "ttz")
F0, F1, PT0 = 0.14, 0.12, 150.0  # negative fraction 14 % at rest, up to 26 % at large pT; about 20 % on average


def negative_fraction(pt: np.ndarray) -> np.ndarray:
    """The probability that an event of recoil ``pt`` (GeV) has a negative weight.

    >>> negative_fraction(np.array([0.0, 150.0])).round(3).tolist()
    [0.14, 0.2]
    """
    pt = np.maximum(np.asarray(pt, float), 0.0)
    return F0 + F1 * pt / (pt + PT0)


def sign_factors(pt: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per-event weight factors: -1 or +1 (negative with :func:`negative_fraction`) over 1 - 2 f, mean 1.

    >>> w = sign_factors(np.full(200_000, 150.0), np.random.default_rng(1))
    >>> round(float((w < 0).mean()), 2), round(float(w.mean()), 2)
    (0.2, 1.0)
    """
    f = negative_fraction(pt)
    sign = np.where(rng.random(len(f)) < f, -1.0, 1.0)
    return sign / (1.0 - 2.0 * f)
