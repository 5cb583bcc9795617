"""Inputs of the kl constraints: basis signal samples scored by a network, background from saved scores.

A *scorer* is anything with ``parameterised: bool`` and ``__call__(frame, kl) -> p_sig``:
``hhnb.reports.constraints.NetworkScorer`` wraps one saved network (kl ignored); a parameterised
network plugs in with ``parameterised = True`` and is then evaluated at each scanned kl
(``templates_at`` rebuilds the templates per kl for it). Nothing here trains or generates: the
report (:mod:`hhnb.reports.constraints`) does that first when asked, and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from hhnb.config.analyses import Analysis
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
