"""HEP styling shared by every figure, and saving as PNG + PDF."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import mplhep

from hhnb import layout
from hhnb.io.atomic import atomic_path


def use_style() -> None:
    """ATLAS-like HEP style for all following figures."""
    plt.style.use(mplhep.style.ATLAS)
    plt.rcParams.update({"figure.figsize": (7, 5.5), "savefig.bbox": "tight", "font.size": 14})


def label(ax, lumi: float | None = None, text: str = "Simulation") -> None:
    """Experiment-style label: 'Simulation', then ``layout.lumi_label`` (energy, and the analysis' luminosity if given)."""
    mplhep.label.exp_label(exp="hhnb", llabel=text, data=False, rlabel=layout.lumi_label(lumi), ax=ax, loc=0)


def figure(nrows: int = 1, ncols: int = 1, **kw):
    use_style()
    return plt.subplots(nrows, ncols, **kw)


def save(fig, outdir: str | Path, name: str) -> list[Path]:
    """Save ``fig`` as ``<outdir>/<name>.png`` and ``.pdf`` (atomically) and return the paths."""
    outdir = Path(outdir)
    out = []
    for ext in ("png", "pdf"):
        path = outdir / f"{name}.{ext}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext, dpi=100, metadata={"CreationDate": None} if ext == "pdf" else None)
        out.append(path)
    return out
