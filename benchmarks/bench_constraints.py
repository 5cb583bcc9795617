"""Issue 15: a 201-point kappa_lambda scan of the three categories and their combination (goal <= 20 s on 2 cores).
Issue 25: the same scan with all systematics (JES, JER, b-tag as histosys + normsys shared by every sample and
category, a normsys per sample, staterror), each category its own profile fit at each kl (goal <= 30 s), and
the impacts; the machine's load (/proc/loadavg) is in the row, the machine being shared.

pyhf rows: ``constraints.category_scans`` (jax backend, autodiff gradients; the combination fitted once per kl
and each category read off its best fit), and beside it the former way (numpy backend, finite-difference
gradients, the four models fitted one by one) on the same templates in the same run.

Templates: the toy's truth m_hh spectrum (``hhnb.toy.physics.mhh_density``) in the config's bins for the
three basis samples, scaled to a few hundred signal events, over a falling background with 2 % MC errors.
"""

from __future__ import annotations

import time

import numpy as np

from hhnb.config import analyses as config
from hhnb.studies import basis, constraints, systematics
from hhnb.toy import physics

GOAL_S = 20.0
GOAL_SYST_S = 30.0


def _templates() -> list[constraints.Templates]:
    rng = np.random.default_rng(15)
    out = []
    for name in ("resolved", "intermediate", "boosted"):
        edges = np.asarray(config.analysis(name).mhh_bins)
        grid = [np.linspace(lo, hi, 50) for lo, hi in zip(edges[:-1], edges[1:])]
        sig = np.array([[np.trapezoid(physics.mhh_density(g, kl), g) for g in grid] for kl in basis.DEFAULT_BASIS])
        sig *= 300.0 / sig[0].sum()
        bkg = 2.0e4 * np.exp(-(edges[:-1] - 200.0) / 150.0) * rng.uniform(0.8, 1.2, len(grid))
        out.append(constraints.Templates(name, edges, bkg, (0.02 * bkg) ** 2, np.full(len(bkg), 2500), basis.DEFAULT_BASIS,
                                         sig, (0.03 * sig) ** 2))
    return out


def _varied() -> list[systematics.Varied]:
    """The templates above with two backgrounds (multijet, ttbar), three variation sources with a rate and a
    tilt across the bins, and the toy analyses' normalisation uncertainties (30 % multijet, 6 % ttbar)."""
    from hhnb.studies.constraint_inputs import SampleHistograms, VariedTemplates  # noqa: PLC0415 - bench only

    def h(y, rel):
        return SampleHistograms(y, (rel * y) ** 2, np.full(len(y), 2500))

    out = []
    for t in _templates():
        x = np.linspace(-1.0, 1.0, len(t.background))
        nominal = {"qcd": h(0.7 * t.background, 0.02), "ttbar": h(0.3 * t.background, 0.04)}
        nominal |= {f"signal_{i}": h(t.signal[i], 0.03) for i in range(3)}
        variations = {src: tuple({k: h(v.yields * (1 + sign * size) * (1 + sign * tilt * x), 0.02)
                                  for k, v in nominal.items()} for sign in (+1, -1))
                      for src, size, tilt in (("JES", 0.03, 0.02), ("JER", 0.01, 0.03), ("btag", 0.05, 0.0))}
        out.append(VariedTemplates(t.category, t.edges, t.basis, nominal, variations,
                                   {"qcd": 0.3, "ttbar": 0.06}))
    return out


def _load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def systematics_rows() -> list[dict]:
    """Issue 25: the 201-point scan with all systematics, its three levels, and the impacts."""
    vs = _varied()
    kl = np.linspace(-20, 20, 201)
    out = []
    t0 = time.perf_counter()
    model = systematics.CompiledModel.from_spec(systematics.workspace_spec(vs))
    scans = systematics.level_scans(vs, kl, systematics.ALL, model=model)
    dt = time.perf_counter() - t0
    out.append({"benchmark": "profile scan with all systematics, 201 kl, 3 categories (own fits) + combined",
                "hhnb": dt, "reference": GOAL_SYST_S, "peer": "budget", "unit": f"s (load {_load()})",
                "ratio": GOAL_SYST_S / dt, "goal": "<= 30 s (ratio >= 1)", "met": dt <= GOAL_SYST_S,
                "combined": str(scans[-1].interval())})
    t0 = time.perf_counter()
    systematics.all_levels(vs, kl)
    imp = systematics.impacts(model)
    dt = time.perf_counter() - t0
    out.append({"benchmark": "three levels (stat, + MC stat, + all) x 201 kl x 4 curves, and the impacts",
                "hhnb": dt, "reference": GOAL_SYST_S, "peer": "budget", "unit": f"s (load {_load()})",
                "ratio": GOAL_SYST_S / dt, "goal": "<= 30 s (ratio >= 1)", "met": dt <= GOAL_SYST_S,
                "top impact": f"{imp.table.index[0]} {imp.table['impact'].iloc[0]:.3f}"})
    return out


def rows() -> list[dict]:
    ts = _templates()
    kl = np.linspace(-20, 20, 201)
    groups = [[t] for t in ts] + [ts]
    out = []
    t0 = time.perf_counter()
    for f in constraints.SYSTEMATICS:
        for g in groups:
            constraints.chi2_scan(g, kl, f=f)
    dt = time.perf_counter() - t0
    out.append({"benchmark": "chi2 scan, 201 kl x 4 (3 categories + combined) x 5 f", "hhnb": dt, "reference": GOAL_S,
                "peer": "budget", "unit": "s (vs 20 s goal)", "ratio": GOAL_S / dt, "goal": "<= 20 s (ratio >= 1)",
                "met": dt <= GOAL_S})
    times = {}
    for f in (0.0, 0.003, 0.05):
        t0 = time.perf_counter()
        constraints.category_scans(ts, kl, f=f)  # pyhf on jax: one profile fit of the combination per kl
        times[f] = dt = time.perf_counter() - t0
        out.append({"benchmark": f"pyhf profile scan, 201 kl, 3 categories + combined, f = {100 * f:g} %", "hhnb": dt,
                    "reference": GOAL_S, "unit": "s (vs 20 s goal)", "ratio": GOAL_S / dt,
                    "goal": "<= 20 s (ratio >= 1)", "met": dt <= GOAL_S})
    t0 = time.perf_counter()
    constraints.profile_scans(groups, kl, f=0.003, backend="numpy")  # before: 4 models fitted one by one, numpy
    dt = time.perf_counter() - t0
    out.append({"benchmark": "pyhf scan f = 0.3 %: jax + combined fit vs numpy + 4 separate fits (same run)",
                "hhnb": times[0.003], "peer": "numpy, 4 models", "reference": dt, "unit": "s",
                "ratio": dt / times[0.003], "goal": "speed-up (ratio > 1)", "met": dt > times[0.003]})
    return out + systematics_rows()


if __name__ == "__main__":
    import sys

    for r in (systematics_rows() if "--systematics" in sys.argv else rows()):
        print(r)
