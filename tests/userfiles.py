"""Tiny user-style ntuples written with uproot's mktree, and configs that point at them (shared by tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import uproot
import yaml


def write_ntuple(path: Path, n: int, seed: int, shift: float = 0.0, tree: str = "Events",
                 branches: tuple[str, ...] = ("x1", "x2", "w", "evt")) -> Path:
    """A flat tree with features x1, x2 (x1 shifted by ``shift``), weight w and event number evt."""
    rng = np.random.default_rng(seed)
    data = {"x1": rng.normal(shift, 1.0, n), "x2": rng.normal(0.0, 1.0, n), "w": np.full(n, 0.01),
            "evt": np.arange(n, dtype=np.int64) + 1000 * seed}
    path.parent.mkdir(parents=True, exist_ok=True)
    with uproot.recreate(path) as f:
        f.mktree(tree, {b: data[b].dtype for b in branches})
        f[tree].extend({b: data[b] for b in branches})
    return path


def truncate(path: Path) -> Path:
    """Cut a file to half its bytes (what an interrupted copy leaves)."""
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    return path


def write_config(path: Path, samples: list[dict], **analysis) -> Path:
    """A one-analysis config ``mine`` with features x1, x2, weight w, event evt, classes signal/background."""
    spec = {"tree": "Events", "weight": "w", "event": "evt", "features": ["x1", "x2"], "masses": {"m": "x1"},
            "classes": ["signal", "background"], "samples": samples, **analysis}
    path.write_text(yaml.safe_dump({"luminosity": 300.0, "analyses": {"mine": spec}}))
    return path
