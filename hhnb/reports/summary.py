"""The summary notebook's report: every evaluated network of the run record, the best per analysis, Z vs lambda."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from hhnb import layout
from hhnb.io import record
from hhnb.io.tables import text_table
from hhnb.plots import summary as summary_plots
from hhnb.reports._common import save_all
from hhnb.studies import summary


@dataclass(frozen=True)
class SummaryReport:
    """The evaluated networks, the best per analysis by ``metric``, the printable tables, the figure."""

    evaluations: pd.DataFrame
    best: pd.DataFrame
    table: pd.DataFrame  # rounded summary columns of every evaluated network
    best_table: pd.DataFrame
    significance: pd.DataFrame  # analysis, lambda, Z +- error, nbkg, simulated background events (text)
    metric: str
    figures: dict[str, plt.Figure]
    outdir: Path
    written: list[Path]

    @property
    def empty(self) -> bool:
        return self.evaluations.empty


def make(record_path: str | Path | None = None, metric: str = "max_significance", outdir: str | Path | None = None,
         save: bool = True) -> SummaryReport:
    """Read the run record; rank by ``metric``; draw AUC and Z against the training kappa_lambda."""
    evals = summary.evaluations(record.read(record_path))
    best = summary.best_per_analysis(evals, metric)
    figures = {"metrics_vs_lambda": summary_plots.metrics_vs_lambda(evals)}
    out = layout.summary_dir(outdir)
    written = save_all(out, figures, {}) if save and not evals.empty else []
    return SummaryReport(evals, best, summary.table(evals), summary.table(best), summary.significance_table(evals),
                         metric, figures, out, written)


def explorer(report: SummaryReport):
    """An ipywidgets selector of the analysis that redraws the significance table and figure (JupyterLab).

    Returns the widget (displayed as the cell's value).
    """
    evals = report.evaluations
    options = ["all", *sorted(evals["analysis"].astype(str).unique())] if not evals.empty else ["all"]

    def show(analysis: str = "all") -> None:
        ev = evals if analysis == "all" else evals[evals["analysis"].astype(str) == analysis]
        print(text_table(summary.significance_table(ev)))
        if not ev.empty:
            fig = summary_plots.metrics_vs_lambda(ev)
            display(fig)
            plt.close(fig)

    return widgets.interactive(show, analysis=widgets.Dropdown(options=options, value="all", description="analysis"))
