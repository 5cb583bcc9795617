"""Inputs of the kl constraints: basis signal samples scored by a network, background from saved scores.

A *scorer* is anything with ``parameterised: bool`` and ``__call__(frame, kl) -> p_sig``:
``NetworkScorer`` wraps one saved network (kl ignored); a parameterised network
(issue 15 item 1) plugs in with ``parameterised = True`` and is then evaluated at
each scanned kl (``templates_at`` rebuilds the templates per kl for it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from hhnb import layout
from hhnb.config.analyses import Analysis
from hhnb.io import ntuples as data
from hhnb.studies import basis as _basis
from hhnb.studies import constraints as _c
from hhnb.studies import metrics


class Scorer(Protocol):
    parameterised: bool

    def __call__(self, frame: pd.DataFrame, kl: float) -> np.ndarray: ...


@dataclass
class NetworkScorer:
    """p_sig of one saved network trained at ``kl`` (loaded on first use)."""

    models_dir: Path
    analysis: str
    kl: float
    parameterised: bool = False
    _model: Any = field(default=None, repr=False)

    def __call__(self, frame: pd.DataFrame, kl: float | None = None) -> np.ndarray:
        """p_sig of every event; for a k-fold set each event is scored by the network blind to its fold."""
        from hhnb.nn import apply

        if self._model is None:
            self._model = apply.network(layout.card_path(self.models_dir, self.analysis, self.kl))
        return apply.score_events(self._model, frame)[self._model.branches[0]]


def ensure_network(analysis: str, kl: float, data_dir: Path, models_dir: Path, epochs: int = 2,
                   max_events: int | None = 2000, seed: int = 1) -> bool:
    """Train the network at ``kl`` with small settings when its scores are missing; True if it trained."""
    if layout.scores_path(models_dir, analysis, kl).exists():
        return False
    from hhnb.nn.model import HyperParameters
    from hhnb.nn.training import train

    train(analysis, kl, data_dir=data_dir, models_dir=models_dir, seed=seed, max_events=max_events, generate=True,
          hyper=HyperParameters.scaled(5e-3, epochs=epochs))
    return True


def background(scores: pd.DataFrame) -> pd.DataFrame:
    """Test-set background events of a scores table, weights scaled per sample by 1/test fraction."""
    test = scores["is_test"].to_numpy(bool)
    w = metrics.luminosity_weights(scores["weight"].to_numpy(), scores["sample"].astype(str).to_numpy(), test)
    out = scores[test].copy()
    out["weight"] = w
    return out[out["label"].to_numpy() != 0].reset_index(drop=True)


def signal_samples(ana: Analysis, basis: Sequence[float], data_dir: Path, trained_on: Sequence[float] = (),
                   events: int | None = None, seed: int | None = None, generate: bool = True) -> list[pd.DataFrame]:
    """The basis signal samples (features, masses, physical weights); toy ones generated when missing.

    For a kl a network trained on, only its test events are kept (weights scaled up), so
    no event the network saw enters the templates.
    """
    frames: dict[float, pd.DataFrame] = {}
    sample = ana.samples_of(ana.signal_class)[0]
    for kl in basis:
        if generate and ana.toy:
            data.generate_missing_toys(ana, kl, data_dir, events=events, seed=seed)
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
