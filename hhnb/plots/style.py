"""HEP styling shared by every figure, the experiment label, data-driven axis ranges, saving as PNG + PDF.

Sizes are chosen to read at normal zoom in JupyterLab (figures at most about 13 inches wide,
two panels a row) and in the saved files.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import mplhep
import numpy as np

from hhnb import layout
from hhnb.io.atomic import atomic_path

PANEL = (6.4, 4.8)  # inches of one panel; two a row make a figure about as wide as a notebook cell
MAX_COLUMNS = 2


def use_style() -> None:
    """ATLAS-like HEP style for all following figures, with sizes that read at normal zoom."""
    plt.style.use(mplhep.style.ATLAS)
    plt.rcParams.update({"figure.figsize": (7, 5.5), "savefig.bbox": "tight", "font.size": 14,
                         "legend.fontsize": 11, "legend.frameon": False, "axes.labelsize": 14,
                         "xtick.labelsize": 12, "ytick.labelsize": 12, "figure.dpi": 100,
                         # plain tick labels (0.004): a "x10^-2" above the axis would collide with the experiment label
                         "axes.formatter.limits": (-5, 6)})


def label_text(lumi: float | None = None, text: str = "Simulation", energy: float = layout.ENERGY_TEV) -> str:
    """The one-line experiment label: ``hhnb Simulation   √s = 14 TeV, 3000 fb$^{-1}$`` (``layout.lumi_label``).

    The square root is the Unicode sign, not mathtext (mathtext's radical has no glyph in the HEP fonts).

    >>> label_text(3000)
    'hhnb Simulation   √s = 14 TeV, 3000 fb$^{-1}$'
    >>> label_text(None)
    'hhnb Simulation   √s = 14 TeV'
    """
    return f"hhnb {text}   {layout.lumi_label(lumi, energy)}"


def label(ax, lumi: float | None = None, text: str = "Simulation", energy: float = layout.ENERGY_TEV) -> None:
    """Experiment label above the axes, left-aligned on one line (so its parts can never overlap).

    ``lumi``: the analysis' luminosity in fb^-1 (None: the energy only).
    """
    ax.text(0.0, 1.015, label_text(lumi, text, energy), transform=ax.transAxes, ha="left", va="bottom",
            fontsize=12)


def figure(nrows: int = 1, ncols: int = 1, **kw):
    """``plt.subplots`` after :func:`use_style`."""
    use_style()
    return plt.subplots(nrows, ncols, **kw)


def grid_shape(n: int, ncols: int = MAX_COLUMNS) -> tuple[int, int]:
    """Rows and columns for ``n`` panels, at most ``ncols`` a row.

    >>> grid_shape(5), grid_shape(1), grid_shape(4, 3)
    ((3, 2), (1, 1), (2, 3))
    """
    ncols = max(1, min(ncols, n))
    return -(-n // ncols), ncols


def data_range(values: np.ndarray, weights: np.ndarray | None = None, lo: float = 0.005, hi: float = 0.995,
               pad: float = 0.05) -> tuple[float, float]:
    """Axis range holding the central ``hi - lo`` of the (weighted) entries, padded by ``pad`` of its width.

    >>> data_range(np.arange(1001.0), lo=0.0, hi=1.0, pad=0.0)
    (0.0, 1000.0)
    """
    v = np.asarray(values, float)
    w = np.ones_like(v) if weights is None else np.abs(np.asarray(weights, float))
    ok = np.isfinite(v) & np.isfinite(w)
    v, w = v[ok], w[ok]
    if len(v) == 0 or w.sum() <= 0:
        return 0.0, 1.0
    order = np.argsort(v)
    cum = np.cumsum(w[order]) / w.sum()
    a = float(v[order][min(np.searchsorted(cum, lo), len(v) - 1)])
    b = float(v[order][min(np.searchsorted(cum, hi), len(v) - 1)])
    if b <= a:
        a, b = a - 0.5, b + 0.5
    width = b - a
    return a - pad * width, b + pad * width


def unit_of(axis_label: str) -> str | None:
    """The unit in square brackets at the end of an axis label (``'$m_{hh}$ [GeV]'`` -> ``'GeV'``).

    >>> unit_of("$m_{hh}$ [GeV]"), unit_of("number of jets")
    ('GeV', None)
    """
    m = re.search(r"\[([^\[\]]+)\]\s*$", axis_label)
    return m.group(1) if m else None


def density_label(axis_label: str) -> str:
    """y label of a unit-area histogram of the quantity on x (``fraction of events / GeV``).

    >>> density_label("$p_T$ [GeV]"), density_label("number of b-tags")
    ('fraction of events / GeV', 'fraction of events / unit')
    """
    return f"fraction of events / {unit_of(axis_label) or 'unit'}"


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
