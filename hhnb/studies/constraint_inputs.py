"""Inputs of the kl constraints: basis signal samples scored by a network, background from saved scores.

Systematics (issue 25): :func:`varied_templates` reads every sample's nominal tree, each tree variation's
tree and each weight variation's branches (the analysis' ``systematics`` section), scores every event with
the scorer (a k-fold set: the fold network blind to the event number) and returns plain histograms
(:class:`VariedTemplates`) that the likelihood side turns into modifiers; :func:`to_templates` gives the
nominal as today's :class:`hhnb.studies.constraints.Templates`. The interface is in /work/notes/interface25.md.

A *scorer* is anything with ``parameterised: bool`` and ``__call__(frame, kl) -> p_sig``:
``hhnb.reports.constraints.NetworkScorer`` wraps one saved network (kl ignored); a parameterised
network plugs in with ``parameterised = True`` and is then evaluated at each scanned kl
(``templates_at`` rebuilds the templates per kl for it). Nothing here trains or generates: the
report (:mod:`hhnb.reports.constraints`) does that first when asked, and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from hhnb.config.analyses import Analysis, Sample
from hhnb.errors import BasisError, ConfigError, InputFileError, UserArgumentError
from hhnb.io import ntuples as data
from hhnb.stats import metrics
from hhnb.studies import basis as _basis
from hhnb.studies import constraints as _c


class Scorer(Protocol):
    parameterised: bool

    def __call__(self, frame: pd.DataFrame, kl: float) -> np.ndarray: ...


def background(scores: pd.DataFrame) -> pd.DataFrame:
    """Test-set background events of a scores table, weights scaled per sample by 1/test fraction."""
    test = scores["is_test"].to_numpy(bool)
    w = metrics.luminosity_weights(scores["weight"].to_numpy(), scores["sample"].astype(str).to_numpy(), test)
    out = scores[test].copy()
    out["weight"] = w
    return out[out["label"].to_numpy() != 0].reset_index(drop=True)


def signal_samples(ana: Analysis, basis: Sequence[float], data_dir: Path,
                   trained_on: Sequence[float] = ()) -> list[pd.DataFrame]:
    """The basis signal samples (features, masses, physical weights) read from ``data_dir``.

    For a kl a network trained on, only its test events are kept (weights scaled up), so
    no event the network saw enters the templates.
    """
    frames: dict[float, pd.DataFrame] = {}
    sample = ana.samples_of(ana.signal_class)[0]
    for kl in basis:
        try:
            files = data.sample_files(sample, data_dir, kl)
        except FileNotFoundError:
            continue
        df = data.read_sample(ana, sample, files, data.columns_for(ana))
        if any(abs(kl - t) < 1e-9 for t in trained_on):
            test = data.is_test(df["event"].to_numpy())
            df = df[test].assign(weight=df["weight"].to_numpy()[test] * df["weight"].sum() / df["weight"][test].sum())
        frames[float(kl)] = df.reset_index(drop=True)
    return _basis.require(frames, basis, f"analysis {ana.name!r}: basis signal sample")


def templates_at(ana: Analysis, scorer: Scorer, kl: float, bkg: pd.DataFrame, signal: Sequence[pd.DataFrame],
                 basis: Sequence[float], cut: float = _c.CUT, empty: str = "refuse") -> _c.Templates:
    """One category's templates with the scorer evaluated at hypothesis ``kl`` (saved scores for a fixed network)."""
    if scorer.parameterised:
        bkg = bkg.assign(score_sig=scorer(bkg, kl))
    scored = [s.assign(score_sig=scorer(s, kl)) for s in signal]
    t = _c.build_templates(ana.name, ana.mhh_bins, bkg, scored, basis, cut=cut)
    return _c.check_background(t, empty)


@dataclass(frozen=True)
class SampleHistograms:
    """One sample's m_hh (or score) histogram after the selection, at the luminosity."""

    yields: np.ndarray  # (bins,) sum of weights
    variances: np.ndarray  # (bins,) sum of weights^2
    mc_events: np.ndarray  # (bins,) raw simulated events


@dataclass(frozen=True)
class VariedTemplates:
    """One category's histograms: nominal and, per systematic source, (up, down); plain data for the likelihood.

    Keys of ``nominal`` and of each variation's dicts: the background sample names of the YAML and
    ``signal_<i>`` for the i-th basis sample (``basis[i]``).
    """

    category: str
    edges: np.ndarray
    basis: tuple[float, float, float]
    nominal: dict[str, SampleHistograms]
    variations: dict[str, tuple[dict[str, SampleHistograms], dict[str, SampleHistograms]]]
    norm_uncertainties: dict[str, float]

    @property
    def backgrounds(self) -> list[str]:
        return [k for k in self.nominal if not k.startswith(SIGNAL_PREFIX)]


SIGNAL_PREFIX = "signal_"
OBSERVABLES = ("m_hh", "score")


def histogram(frame: pd.DataFrame, edges: np.ndarray, cut: float, weight: str = "weight",
              observable: str = "m_hh") -> SampleHistograms:
    """The selected events' (score >= cut, signal region) histogram of ``observable`` with weights ``weight``.

    >>> f = pd.DataFrame({"m_hh": [260.0, 260.0, 320.0, 320.0], "h1_M": 125.0, "h2_M": [125.0, 125.0, 125.0, 60.0],
    ...                   "score_sig": [0.9, 0.5, 0.8, 0.9], "weight": [2.0, 2.0, -1.0, 3.0]})
    >>> h = histogram(f, np.array([200.0, 300.0, 400.0]), 0.75)
    >>> h.yields.tolist(), h.variances.tolist(), h.mc_events.tolist()
    ([2.0, -1.0], [4.0, 1.0], [1, 1])
    """
    sel = _c.selected(frame, "score_sig", cut)
    column = "m_hh" if observable == "m_hh" else "score_sig"
    x = frame[column].to_numpy(float)[sel]
    y, v = _basis.histogram(x, frame[weight].to_numpy(float)[sel], edges)
    mc, _ = np.histogram(x, edges)
    return SampleHistograms(np.asarray(y, float), np.asarray(v, float), mc.astype(np.int64))


def _with_masses(ana: Analysis, frame: pd.DataFrame) -> pd.DataFrame:
    """Columns named as the analysis' ``masses`` keys (m_hh, h1_M, h2_M) beside their expressions."""
    extra = {k: frame[e].to_numpy() for k, e in ana.masses.items() if k not in frame.columns and e in frame.columns}
    return frame.assign(**extra) if extra else frame


def _read(ana: Analysis, sample: Sample, files: list[str], tree: str | None, weights: dict[str, str]) -> pd.DataFrame:
    df = data.read_sample(ana, sample, files, data.columns_for(ana), tree=tree, weights=weights)
    missing = [k for k in ("m_hh", "h1_M", "h2_M") if k not in df.columns and k not in ana.masses]
    if missing:
        raise ConfigError(f"analysis {ana.name!r} (config {ana.source}): the templates need the masses "
                          f"{', '.join(missing)} (key 'masses', e.g. {{m_hh: mHH, h1_M: mH1, h2_M: mH2}})")
    return _with_masses(ana, df)


def _sample_histograms(ana: Analysis, scorer: Scorer, kl: float, sample: Sample, files: list[str],
                       edges: np.ndarray, cut: float, test_only: bool, observable: str
                       ) -> tuple[SampleHistograms, dict[str, tuple[SampleHistograms, SampleHistograms]]]:
    """One sample: the nominal histogram and (up, down) per variation, each event scored by ``scorer``.

    ``test_only``: only events with ``event % 5 == 0`` (the network never saw them), every version scaled by
    the nominal tree's sum of all selected weights over that of its test events (one factor per sample, so
    the variations move the yield as they would in the full sample).
    """
    syst = ana.systematics
    wcols = {f"weight:{v.name}:{d}": v.of(d) for v in syst.weights for d in ("up", "down")}
    nominal = _read(ana, sample, files, None, wcols)
    factor = 1.0
    if test_only:
        test = data.is_test(nominal["event"].to_numpy())
        total, part = nominal["weight"].sum(), nominal["weight"][test].sum()
        if not test.any() or part == 0:
            raise InputFileError(f"sample {sample.name!r} has no test events (event % {data.TEST_MODULUS} == 0) "
                                 f"after the selection ({', '.join(files)}): pass test_only=False for a k-fold set")
        factor = float(total / part)

    def scored(frame: pd.DataFrame) -> pd.DataFrame:
        if test_only:
            frame = frame[data.is_test(frame["event"].to_numpy())].reset_index(drop=True)
        columns = {"score_sig": scorer(frame, kl) if len(frame) else np.zeros(0), "weight": frame["weight"] * factor}
        columns |= {k: frame[k] * factor for k in wcols if k in frame.columns}
        return frame.assign(**columns)

    frame = scored(nominal)
    hist = histogram(frame, edges, cut, observable=observable)
    varied: dict[str, tuple[SampleHistograms, SampleHistograms]] = {}
    for v in syst.trees:
        pair = []
        for direction in ("up", "down"):
            try:
                shifted = _read(ana, sample, files, v.tree(sample.tree, direction), {})
            except InputFileError as exc:
                if "empty after the selection" not in str(exc):
                    raise
                shifted = frame.iloc[:0]  # every event left the selection
            pair.append(histogram(scored(shifted), edges, cut, observable=observable) if len(shifted)
                        else SampleHistograms(np.zeros(len(edges) - 1), np.zeros(len(edges) - 1),
                                              np.zeros(len(edges) - 1, np.int64)))
        varied[v.name] = (pair[0], pair[1])
    for v in syst.weights:
        varied[v.name] = tuple(histogram(frame, edges, cut, weight=f"weight:{v.name}:{d}", observable=observable)
                               for d in ("up", "down"))
    return hist, varied


def varied_templates(ana: Analysis, scorer: Scorer, kl: float, data_dir: Path, edges: Sequence[float] | None = None,
                     cut: float = _c.CUT, basis: Sequence[float] = _basis.DEFAULT_BASIS,
                     trained_on: Sequence[float] = (), test_only: bool = True,
                     observable: str = "m_hh") -> VariedTemplates:
    """One category's histograms for the nominal and every systematic variation of the analysis.

    Every background sample and the three basis signal samples are read from their nominal tree, from each
    tree variation's tree (its own events: they enter and leave the selection) and with each weight
    variation's weight; each version is scored by ``scorer`` at ``kl`` (a fixed network ignores ``kl``;
    a k-fold set scores each event by the fold that never saw its event number), then the analysis
    selection, the signal region and ``score >= cut`` select, and ``observable`` (``m_hh`` or ``score``) is
    histogrammed in ``edges`` (default: the analysis' ``mhh_bins``).

    ``test_only`` (a network trained on one split): backgrounds keep their test events only, weights scaled
    per sample; signal samples at a kl in ``trained_on`` likewise, other signal samples keep every event.
    Pass ``test_only=False`` for a k-fold set (every event has a blind network).
    """
    if observable not in OBSERVABLES:
        raise UserArgumentError(f"observable={observable!r}: expected one of {', '.join(OBSERVABLES)}")
    edges = np.asarray(edges if edges is not None else ana.mhh_bins, float)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise UserArgumentError(f"analysis {ana.name!r}: bin edges {edges.tolist()} must be at least two increasing values")
    basis = tuple(float(b) for b in basis)
    if len(basis) != 3 or len(set(basis)) != 3:
        raise BasisError(f"basis {list(basis)!r}: expected three different kappa_lambda values")
    nominal: dict[str, SampleHistograms] = {}
    per_sample: dict[str, dict[str, tuple[SampleHistograms, SampleHistograms]]] = {}
    jobs: list[tuple[str, Sample, list[str], bool]] = []
    for i, b in enumerate(basis):
        signal = [s for s in ana.samples_of(ana.signal_class) if s.provides(b)]
        if not signal:
            raise BasisError(f"analysis {ana.name!r}: no signal sample provides the basis kappa_lambda {b:g}")
        sample = signal[0]
        files = data.sample_files(sample, data_dir, b if sample.is_lambda_dependent else None)
        blind = test_only and any(abs(b - t) < 1e-9 for t in trained_on)
        jobs.append((f"{SIGNAL_PREFIX}{i}", sample, files, blind))
    for sample in ana.samples:
        if sample.klass != ana.signal_class:
            jobs.append((sample.name, sample, data.sample_files(sample, data_dir), test_only))
    for key, sample, files, blind in jobs:
        nominal[key], per_sample[key] = _sample_histograms(ana, scorer, kl, sample, files, edges, cut, blind,
                                                           observable)
    variations = {name: ({k: per_sample[k][name][0] for k in nominal}, {k: per_sample[k][name][1] for k in nominal})
                  for name in ana.systematics.names}
    norm = dict(ana.systematics.normalisation)
    for key, sample, _, _ in jobs:  # a signal sample's normalisation under its basis key
        if key.startswith(SIGNAL_PREFIX) and sample.name in ana.systematics.normalisation:
            norm[key] = ana.systematics.normalisation[sample.name]
    return VariedTemplates(ana.name, edges, basis, nominal, variations, norm)


def to_templates(v: VariedTemplates, empty: str = "refuse") -> _c.Templates:
    """The nominal of ``v`` as :class:`hhnb.studies.constraints.Templates` (backgrounds summed), checked for
    empty background bins as :func:`hhnb.studies.constraints.check_background` does."""
    bkg = [v.nominal[k] for k in v.backgrounds]
    sig = [v.nominal[f"{SIGNAL_PREFIX}{i}"] for i in range(3)]
    t = _c.Templates(v.category, np.asarray(v.edges, float), np.sum([h.yields for h in bkg], axis=0),
                     np.sum([h.variances for h in bkg], axis=0), np.sum([h.mc_events for h in bkg], axis=0),
                     tuple(v.basis), np.array([h.yields for h in sig]), np.array([h.variances for h in sig]))
    return _c.check_background(t, empty)
