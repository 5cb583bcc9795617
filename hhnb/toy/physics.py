"""Physics inputs of the toy: the gg->HH cross section versus kappa_lambda and the m_hh spectrum.

References are in docs/physics.md (section 1 for gg->HH, sections 2-3 for the
backgrounds). Cross sections are in fb.
"""

from __future__ import annotations

import numpy as np

M_H = 125.0  # GeV
BR_BB = 0.5824  # H -> bb (LHC Higgs WG, m_H = 125 GeV)
SIGMA_SM_14TEV = 36.69  # fb, gg->HH NNLO FTapprox at kl = 1, 14 TeV

# Parton-luminosity shape L(m) = beta^a (m/250)^-p exp(-m/m0), fitted once so that
# the toy's sigma(kl)/sigma(1) reproduces the NNLO formula (test_physics checks it).
_LUMI_A, _LUMI_P, _LUMI_M0 = 4.29675848, 5.61215622, 115.39730183
_MHH_GRID = np.linspace(2 * M_H, 3000.0, 6001)[1:]


def sigma_hh_nnlo(kl: float | np.ndarray) -> float | np.ndarray:
    """gg->HH cross section at 13 TeV in fb, NNLO FTapprox (LHC Higgs WG).

    >>> round(float(sigma_hh_nnlo(1.0)), 2)
    31.04
    """
    kl = np.asarray(kl, dtype=float)
    return 70.3874 - 50.4111 * kl + 11.0595 * kl**2


def matrix_element_sq(mhh: np.ndarray, kl: float) -> np.ndarray:
    """Heavy-top-limit Born |M|^2 of gg->HH up to a constant: (2/3 - 2x)^2 s^2.

    x = m_H^2 kl / (s - m_H^2) (POWHEG-BOX ggHH ``ME2born_htl``). It vanishes at
    m_hh = m_H sqrt(1 + 3 kl): 250 GeV for kl = 1.

    >>> float(matrix_element_sq(np.array([250.0]), 1.0)[0])
    0.0
    """
    s = np.asarray(mhh, dtype=float) ** 2
    x = M_H**2 * kl / (s - M_H**2)
    return (2.0 / 3.0 - 2.0 * x) ** 2 * s**2


def parton_luminosity(mhh: np.ndarray) -> np.ndarray:
    """Falling gg luminosity times phase space, calibrated against the NNLO sigma(kl)."""
    m = np.asarray(mhh, dtype=float)
    beta = np.sqrt(np.clip(1.0 - 4.0 * M_H**2 / m**2, 0.0, None))
    return beta**_LUMI_A * (m / 250.0) ** (-_LUMI_P) * np.exp(-m / _LUMI_M0)


def mhh_density(mhh: np.ndarray, kl: float) -> np.ndarray:
    """Unnormalised d sigma / d m_hh of the toy at kappa_lambda ``kl``."""
    return parton_luminosity(mhh) * matrix_element_sq(mhh, kl)


def _integral(kl: float) -> float:
    return float(np.trapezoid(mhh_density(_MHH_GRID, kl), _MHH_GRID))


def sigma_ratio_toy(kl: float) -> float:
    """The toy generator's sigma(kl)/sigma(1), from its own m_hh spectrum."""
    return _integral(kl) / _integral(1.0)


def sigma_hh(kl: float) -> float:
    """Toy gg->HH cross section at 14 TeV in fb: the SM value times the toy's sigma(kl)/sigma(1)."""
    return SIGMA_SM_14TEV * sigma_ratio_toy(kl)


def sample_mhh(kl: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` values of m_hh (GeV) from the toy spectrum at kappa_lambda ``kl``."""
    pdf = mhh_density(_MHH_GRID, kl)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(_MHH_GRID))])
    cdf /= cdf[-1]
    return np.interp(rng.random(n), cdf, _MHH_GRID)


# Background cross sections in fb (docs/physics.md sections 2 and 3). QCD in slices of leading-jet pT.
QCD_SLICES_GEV = ((20.0, 200.0), (200.0, 500.0), (500.0, 1000.0), (1000.0, 2000.0))
XSEC_FB = {
    "qcd_4b": (65.302e3, 2.8203e3, 0.04227e3, 0.00055e3),
    "qcd_2b2j": (22659.0e3, 1538.8e3, 35.262e3, 0.72362e3),
    "ttbar": (532.64e3,),
    "tthh": (0.33,),
    "tth": (204.0,),
    "ttz": (89.7,),
    "ttbb": (1950.0,),
}


def _normalised_pdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (values[1:] + values[:-1]) * np.diff(_MHH_GRID))])
    return values / cdf[-1], cdf / cdf[-1]


def sample_mhh_biased(kl: float, n: int, rng: np.random.Generator, hard_fraction: float = 0.5
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Draw m_hh from a mixture of the kl spectrum and a hard one; return values and weights p/q.

    The hard component (the kl = 2.4 spectrum tilted by (m/250)^4) fills the
    boosted category at every kl; the weights (mean 1) restore the kl spectrum.
    """
    p, p_cdf = _normalised_pdf(mhh_density(_MHH_GRID, kl))
    h, h_cdf = _normalised_pdf(mhh_density(_MHH_GRID, 2.4) * (_MHH_GRID / 250.0) ** 4)
    hard = rng.random(n) < hard_fraction
    u = rng.random(n)
    m = np.where(hard, np.interp(u, h_cdf, _MHH_GRID), np.interp(u, p_cdf, _MHH_GRID))
    q = (1 - hard_fraction) * np.interp(m, _MHH_GRID, p) + hard_fraction * np.interp(m, _MHH_GRID, h)
    return m, np.interp(m, _MHH_GRID, p) / q
