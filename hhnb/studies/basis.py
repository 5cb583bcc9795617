"""Signal at any kappa_lambda from three samples (basis reweighting, physics.md section 1).

|A_box + kl A_tri|^2 is a quadratic in kl at every point of phase space, so a
histogram after any selection obeys N(kl) = sum_i c_i(kl) N(kl_i) with the
Lagrange polynomials c_i of the three basis points. The Monte Carlo error
propagates as var N(kl) = sum_i c_i(kl)^2 var N(kl_i) (independent samples).

What decides a good basis is not the raw c_i (they multiply yields that differ by
two orders of magnitude between kl = 2.5 and kl = 20) but the share of the target
yield each sample carries, d_i = c_i sigma(kl_i) / sigma(kl): |d_i| >> 1 means large
cancellations and a Monte Carlo error inflated by sqrt(sum d_i^2) against a direct
sample of the same size. ``DEFAULT_BASIS`` minimises max |d_i| over [-20, 20].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from hhnb.config import lambdas as _lambdas
from hhnb.errors import BasisError

#: kl = 1 (the SM: exact, no combination error), 2.5 (near the cross-section minimum) and 5.5:
#: max |d_i| over [-20, 20] is 1.00 (the CMS choice 0, 1, 5 gives 3.9), see ``coefficient_table``.
DEFAULT_BASIS: tuple[float, float, float] = (1.0, 2.5, 5.5)
#: The CMS HH inference tools' samples: kl = 0, 1, 2.45, 5 (any three of them form a basis).
CMS_BASIS: tuple[float, float, float] = (0.0, 1.0, 5.0)
SCAN_RANGE: tuple[float, float] = (-20.0, 20.0)


def coefficients(basis: Sequence[float], kl: float | np.ndarray) -> np.ndarray:
    """Lagrange coefficients c_i(kl) with N(kl) = sum_i c_i(kl) N(kl_i), shape (..., 3).

    >>> coefficients((0.0, 1.0, 5.0), 1.0).tolist() == [0.0, 1.0, 0.0]
    True
    >>> [round(float(c), 3) for c in coefficients((0.0, 1.0, 5.0), 2.0)]
    [-0.6, 1.5, 0.1]
    """
    b = np.asarray(basis, float)
    if b.shape != (3,) or len(np.unique(b)) != 3:
        raise BasisError(f"basis {list(basis)!r}: expected three different kappa_lambda values")
    x = np.asarray(kl, float)[..., None]
    out = np.ones(x.shape[:-1] + (3,))
    for i in range(3):
        for j in range(3):
            if i != j:
                out[..., i] *= (x[..., 0] - b[j]) / (b[i] - b[j])
    return out


def combine(values: np.ndarray, variances: np.ndarray, basis: Sequence[float], kl: float | np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Histogram and its MC variance at ``kl`` from the three basis histograms (rows of ``values``).

    ``kl`` may be an array: the result then has one row per kl.

    >>> v, e = combine(np.array([[1.0], [2.0], [5.0]]), np.ones((3, 1)), (0, 1, 2), 3.0)
    >>> float(v[0]), float(e[0])
    (10.0, 19.0)
    """
    c = coefficients(basis, kl)
    values, variances = np.asarray(values, float), np.asarray(variances, float)
    if values.shape[0] != 3 or variances.shape != values.shape:
        raise BasisError(f"expected three basis histograms of equal shape, got {values.shape} and {variances.shape}")
    return c @ values, (c**2) @ variances


def yield_shares(basis: Sequence[float], kl: np.ndarray, sigma: Callable[[float], float]) -> np.ndarray:
    """d_i(kl) = c_i(kl) sigma(kl_i) / sigma(kl): each basis sample's share of the target yield."""
    kl = np.asarray(kl, float)
    s_basis = np.array([sigma(float(b)) for b in basis])
    s_kl = np.array([sigma(float(k)) for k in np.ravel(kl)]).reshape(kl.shape)
    return coefficients(basis, kl) * s_basis / s_kl[..., None]


@dataclass(frozen=True)
class BasisQuality:
    """How far a basis is from cancelling over a kl range."""

    basis: tuple[float, float, float]
    max_abs_coefficient: float  # max |c_i|
    max_abs_share: float  # max |d_i|
    max_error_inflation: float  # max sqrt(sum d_i^2): MC error against a direct sample of the same size


def quality(basis: Sequence[float], sigma: Callable[[float], float], kl_range: tuple[float, float] = SCAN_RANGE,
            points: int = 401) -> BasisQuality:
    """Coefficient sizes of ``basis`` over ``kl_range`` (sigma: cross section versus kl)."""
    kl = np.linspace(*kl_range, points)
    d = yield_shares(basis, kl, sigma)
    return BasisQuality(tuple(float(b) for b in basis), float(np.abs(coefficients(basis, kl)).max()),
                        float(np.abs(d).max()), float(np.sqrt((d**2).sum(-1)).max()))


def coefficient_table(bases: Mapping[str, Sequence[float]], sigma: Callable[[float], float],
                      kl_range: tuple[float, float] = SCAN_RANGE):
    """One row per named basis: max |c|, max |d| and the worst MC-error inflation over ``kl_range``."""

    rows = []
    for name, b in bases.items():
        q = quality(b, sigma, kl_range)
        rows.append({"basis": name, "kl points": ", ".join(f"{x:g}" for x in q.basis),
                     "max |c_i|": q.max_abs_coefficient, "max |d_i| (yield share)": q.max_abs_share,
                     "max MC error inflation": q.max_error_inflation})
    return pd.DataFrame(rows).set_index("basis")


def require(available: Mapping[float, object], basis: Sequence[float], what: str = "basis sample") -> list[object]:
    """The three basis items in basis order, or a one-line error naming the missing kl values."""
    found = {round(float(k), 9): v for k, v in available.items()}
    missing = [b for b in basis if round(float(b), 9) not in found]
    if missing:
        have = ", ".join(_lambdas.tag(k) for k in sorted(found)) or "none"
        raise BasisError(
            f"{what} missing at kappa_lambda {', '.join(_lambdas.tag(m) for m in missing)} "
            f"(basis {', '.join(_lambdas.tag(b) for b in basis)}; available: {have})"
        )
    return [found[round(float(b), 9)] for b in basis]


def histogram(values: np.ndarray, weights: np.ndarray, edges: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Weighted histogram and its MC variance sum(w^2) per bin (values outside the edges dropped).

    >>> h, v = histogram(np.array([1.0, 1.5, 2.5, 9.0]), np.array([1.0, 2.0, 3.0, 4.0]), [1, 2, 3])
    >>> h.tolist(), v.tolist()
    ([3.0, 3.0], [5.0, 9.0])
    """
    edges = np.asarray(edges, float)
    h, _ = np.histogram(values, edges, weights=weights)
    v, _ = np.histogram(values, edges, weights=np.asarray(weights, float) ** 2)
    return h, v


def agreement(values: np.ndarray, variances: np.ndarray, ref: np.ndarray, ref_variances: np.ndarray
              ) -> tuple[float, int, float]:
    """chi2, number of bins and p-value of two independent histograms agreeing within their MC errors."""

    var = np.asarray(variances) + np.asarray(ref_variances)
    ok = var > 0
    chi2 = float((((np.asarray(values) - np.asarray(ref)) ** 2)[ok] / var[ok]).sum())
    ndf = int(ok.sum())
    return chi2, ndf, float(stats.chi2.sf(chi2, ndf))
