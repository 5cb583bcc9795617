"""Small helpers the reports share: saving a report's figures and tables, the relative output folder."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from hhnb import layout
from hhnb.io.atomic import write_text
from hhnb.plots import style


def save_all(outdir: Path, figures: dict[str, plt.Figure], tables: dict[str, pd.DataFrame]) -> list[Path]:
    """Write each figure as PNG + PDF and each table as CSV under ``outdir``; the paths written."""
    written: list[Path] = []
    for name, fig in figures.items():
        written += style.save(fig, outdir, name)
    for name, table in tables.items():
        written.append(write_text(outdir / f"{name}.csv", table.to_csv(index=False, float_format="%.6g")))
    return written


def shown(path: Path) -> str:
    """A folder as the notebooks print it: relative to the project when inside it (stable across machines)."""

    project = layout.project_dir()
    return str(path.relative_to(project)) if path.is_relative_to(project) else path.name
