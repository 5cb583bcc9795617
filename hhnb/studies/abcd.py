"""The multijet background of the signal region from control regions, and how well it closes.

A 4b analysis takes its multijet background from data: the events of a control region (CR) around the signal
region (SR) of the (m_h1, m_h2) plane give the fraction that passes the network cut, and the SR events that
fail it give the normalisation. With A = SR & pass, B = SR & fail, C = CR & pass, D = CR & fail, the ABCD
estimate is A_est = B x C / D (the transfer factor C / D; ATLAS HH -> 4b, arXiv:1804.06174 section 6, uses the
same idea with a fitted reweighting). It holds when the score is independent of the masses within SR + CR,
which a mass-sculpting network breaks. On simulation, where A is known, the closure ratio A_est / A_true
measures it. The yields are weighted (luminosity weights, signed); their statistical errors come from the
sums of squared weights, the four regions being disjoint (independent).

Regions: ``box`` (default): SR 90 < m_h1, m_h2 < 140 GeV, the window of the kappa_lambda study
(:data:`hhnb.studies.constraints.SIGNAL_REGION`), CR: 60-180 GeV on both, outside the SR. ``ellipse``: the
X_hh < 1.6 region of ATLAS (arXiv:1804.06174, eq. 2: centres 120 and 110 GeV, widths 0.1 m), CR: within
45 GeV of (1.05 x 120, 1.05 x 110) and outside the SR (our radius, between the paper's 33 and 58 GeV).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hhnb.errors import InputFileError, UserArgumentError
from hhnb.studies.constraints import SIGNAL_REGION

REGIONS = ("box", "ellipse")
#: the box control region: both masses in this window, outside the signal region (GeV)
BOX_CONTROL = (60.0, 180.0)
#: ATLAS's X_hh signal region (arXiv:1804.06174): centres (GeV), relative width, cut
XHH_CENTRES, XHH_WIDTH, XHH_CUT = (120.0, 110.0), 0.1, 1.6
#: the elliptical analysis' control region: radius (GeV) around the shifted centres
ELLIPSE_CONTROL_RADIUS, ELLIPSE_CONTROL_SHIFT = 45.0, 1.05
#: the multijet samples of the toy's HH -> 4b categories: the background a 4b analysis estimates from data
MULTIJET = ("qcd_4b", "qcd_2b2j")


def x_hh(m1: np.ndarray, m2: np.ndarray) -> np.ndarray:
    """ATLAS's X_hh = sqrt(((m1 - 120) / (0.1 m1))^2 + ((m2 - 110) / (0.1 m2))^2).

    >>> float(x_hh(np.array([120.0]), np.array([110.0]))[0]), round(float(x_hh(np.array([132.0]), np.array([110.0]))[0]), 4)
    (0.0, 0.9091)
    """
    m1, m2 = np.asarray(m1, float), np.asarray(m2, float)
    c1, c2 = XHH_CENTRES
    return np.sqrt(((m1 - c1) / (XHH_WIDTH * m1)) ** 2 + ((m2 - c2) / (XHH_WIDTH * m2)) ** 2)


def regions(m1: np.ndarray, m2: np.ndarray, kind: str = "box") -> tuple[np.ndarray, np.ndarray]:
    """(in the signal region, in the control region): disjoint masks.

    >>> sr, cr = regions(np.array([100.0, 150.0, 300.0]), np.array([120.0, 120.0, 120.0]))
    >>> sr.tolist(), cr.tolist()
    ([True, False, False], [False, True, False])
    """
    m1, m2 = np.asarray(m1, float), np.asarray(m2, float)
    if kind == "box":
        lo, hi = SIGNAL_REGION
        sr = (m1 > lo) & (m1 < hi) & (m2 > lo) & (m2 < hi)
        clo, chi = BOX_CONTROL
        cr = (m1 > clo) & (m1 < chi) & (m2 > clo) & (m2 < chi) & ~sr
    elif kind == "ellipse":
        sr = x_hh(m1, m2) < XHH_CUT
        c1, c2 = (ELLIPSE_CONTROL_SHIFT * c for c in XHH_CENTRES)
        cr = (np.hypot(m1 - c1, m2 - c2) < ELLIPSE_CONTROL_RADIUS) & ~sr
    else:
        raise UserArgumentError(f"region {kind!r}: expected one of {', '.join(REGIONS)}")
    return sr, cr


@dataclass(frozen=True)
class Estimate:
    """The four regions' weighted yields (and sums of w^2), the SR-pass estimate and its closure."""

    yields: dict[str, float]  # A, B, C, D
    sumw2: dict[str, float]
    estimate: float  # B x C / D
    estimate_error: float  # from B, C, D's sums of w^2
    true: float  # A
    true_error: float
    closure: float  # estimate / true
    closure_error: float

    @property
    def pulls(self) -> float:
        """(closure - 1) in units of its error: how many sigma the estimate is off."""
        return (self.closure - 1.0) / self.closure_error if self.closure_error > 0 else float("inf")

    def data_like_error(self) -> float:
        """The estimate's error if B, C, D were data counts at the luminosity (Poisson: variance = yield)."""
        y = self.yields
        return self.estimate * float(np.sqrt(sum(1.0 / max(y[k], 1e-300) for k in "BCD")))


def estimate(score: np.ndarray, m1: np.ndarray, m2: np.ndarray, weight: np.ndarray, cut: float,
             kind: str = "box") -> Estimate:
    """The ABCD estimate of the background passing ``score >= cut`` in the SR, from the CR, and its closure.

    Events pass when ``score >= cut``, the convention of :func:`hhnb.stats.significance.yields` and of the
    constraints' templates, so that the estimate and the yields it replaces select the same events.

    Error propagation (first order): (dA_est / A_est)^2 = sum over B, C, D of sum w^2 / yield^2; the closure
    ratio adds A's. Known answers: a score independent of the masses closes within its error; a score made of
    the masses does not (tests/studies/test_abcd.py).

    >>> rng = np.random.default_rng(1)
    >>> m1, m2 = rng.uniform(60, 180, 40000), rng.uniform(60, 180, 40000)
    >>> e = estimate(rng.uniform(size=40000), m1, m2, np.ones(40000), cut=0.8)
    >>> abs(e.closure - 1) < 3 * e.closure_error
    True
    """
    score, weight = np.asarray(score, float), np.asarray(weight, float)
    sr, cr = regions(m1, m2, kind)
    passed = score >= cut
    masks = {"A": sr & passed, "B": sr & ~passed, "C": cr & passed, "D": cr & ~passed}
    y = {k: float(weight[m].sum()) for k, m in masks.items()}
    s2 = {k: float((weight[m] ** 2).sum()) for k, m in masks.items()}
    empty = [k for k in "ABCD" if y[k] <= 0]
    if empty:
        raise InputFileError(f"ABCD regions {', '.join(empty)} have no (positive) background yield at cut {cut:g} "
                             f"({kind} regions): loosen the cut or use more simulated events")
    est = y["B"] * y["C"] / y["D"]
    rel_est = float(np.sqrt(sum(s2[k] / y[k] ** 2 for k in "BCD")))
    rel_true = float(np.sqrt(s2["A"])) / y["A"]
    closure = est / y["A"]
    return Estimate(y, s2, est, est * rel_est, y["A"], y["A"] * rel_true, closure, closure * float(np.hypot(rel_est,
                                                                                                            rel_true)))
