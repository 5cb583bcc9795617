"""Significance formulas (docs/physics.md section 4)."""

from __future__ import annotations

import numpy as np


def s_over_sqrt_b(s: float | np.ndarray, b: float | np.ndarray) -> np.ndarray:
    """Simple significance s / sqrt(b).

    >>> float(s_over_sqrt_b(50.0, 100.0))
    5.0
    """
    s, b = np.asarray(s, float), np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, s / np.sqrt(b), 0.0)


def asimov_z(s: float | np.ndarray, b: float | np.ndarray, sigma_b: float | np.ndarray = 0.0) -> np.ndarray:
    """Median discovery significance of the Asimov data set (Cowan, Cranmer, Gross, Vitells 2011, Eq. 97).

    With ``sigma_b`` (absolute background uncertainty) the profiled form is used.

    >>> round(float(asimov_z(50.0, 100.0, 7.0)), 2)
    3.72
    >>> round(float(asimov_z(50.0, 100.0)), 3)
    4.652
    """
    s, b, sb = (np.asarray(x, float) for x in (s, b, sigma_b))
    s, b, sb = np.broadcast_arrays(s, b, sb)
    out = np.zeros(np.broadcast(s, b).shape)
    ok = (b > 0) & (s >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        sb2 = sb**2
        plain = 2 * ((s + b) * np.log1p(s / b) - s)
        with_unc = 2 * (
            (s + b) * np.log((s + b) * (b + sb2) / (b**2 + (s + b) * sb2))
            - (b**2 / sb2) * np.log1p(sb2 * s / (b * (b + sb2)))
        )
        z2 = np.where(sb2 > 0, with_unc, plain)
    out[ok] = np.sqrt(np.clip(z2[ok], 0.0, None))
    return out
