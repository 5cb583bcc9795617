"""hhnb: neural-network selection of di-Higgs events (toy ntuples, training, evaluation, sweeps)."""

from __future__ import annotations

__version__ = "0.1.0"
