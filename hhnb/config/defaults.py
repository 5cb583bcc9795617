"""Default settings shared by the notebooks, the demo and the nbval set-up (kept small: seconds per run)."""

from __future__ import annotations

EVENTS = 5000  # toy events per sample and category
SEED = 42  # generator seed
TRAIN_SEED = 1
EPOCHS = 10
BATCH_SIZE = 100
DEMO_ANALYSES = ("resolved", "boosted")
DEMO_LAMBDAS = (1.0, 10.0)
