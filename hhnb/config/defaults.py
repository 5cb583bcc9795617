"""The toy's and the demo's settings (kept small: seconds per run); training defaults are hhnb.config.training."""

from __future__ import annotations

EVENTS = 5000  # toy events per sample and category
SEED = 42  # generator seed
DEMO_ANALYSES = ("resolved", "boosted")
DEMO_LAMBDAS = (1.0, 10.0)
