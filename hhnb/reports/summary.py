"""The summary notebook's report: every evaluated network of the run record, the best per analysis, Z vs lambda,
the headline Z with the background from control regions beside the MC-based one, and (``intervals``) the
kappa_lambda interval with either background."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from hhnb import layout
from hhnb.config import analyses as _config
from hhnb.io import artifacts, record
from hhnb.io.tables import text_table
from hhnb.plots import summary as summary_plots
from hhnb.reports import constraints as constraints_report
from hhnb.reports._common import save_all
from hhnb.studies import background, constraints, summary
from hhnb.studies import constraint_inputs as inputs


@dataclass(frozen=True)
class SummaryReport:
    """The evaluated networks, the best per analysis by ``metric``, the printable tables, the figure."""

    evaluations: pd.DataFrame
    best: pd.DataFrame
    table: pd.DataFrame  # rounded summary columns of every evaluated network
    best_table: pd.DataFrame
    significance: pd.DataFrame  # analysis, lambda, Z +- error, nbkg, simulated background events (text)
    background: pd.DataFrame  # the headline: Z with the background from control regions, MC-based beside (text)
    background_numbers: pd.DataFrame  # the same, numbers
    metric: str
    figures: dict[str, plt.Figure]
    outdir: Path
    written: list[Path]

    @property
    def empty(self) -> bool:
        return self.evaluations.empty


def make(record_path: str | Path | None = None, metric: str = "max_significance", outdir: str | Path | None = None,
         save: bool = True, models_dir: str | Path | None = None, region: str = "box") -> SummaryReport:
    """Read the run record; rank by ``metric``; draw AUC and Z against the training kappa_lambda; quote each
    network's Z at its recorded cut with the background from control regions (``region``, from the saved scores
    in ``models_dir``) beside the MC-based Z."""
    evals = summary.evaluations(record.read(record_path))
    best = summary.best_per_analysis(evals, metric)
    figures = {"metrics_vs_lambda": summary_plots.metrics_vs_lambda(evals)}
    out = layout.summary_dir(outdir)
    numbers = summary.background_numbers(evals, models_dir, region)
    tables = {"background_from_control_regions": numbers} if not numbers.empty else {}
    written = save_all(out, figures, tables) if save and not evals.empty else []
    return SummaryReport(evals, best, summary.table(evals), summary.table(best), summary.significance_table(evals),
                         summary.background_table(numbers), numbers, metric, figures, out, written)


@dataclass(frozen=True)
class IntervalReport:
    """kappa_lambda intervals of the networks trained at ``network``: rows = background and statistic, columns =
    categories and their combination; ``cr`` the control-region templates behind the first rows."""

    network: float
    table: pd.DataFrame
    cr: tuple[background.CRTemplates, ...]
    constraints: constraints_report.ConstraintsReport
    notes: tuple[str, ...]

    def closure_table(self) -> pd.DataFrame:
        """Per category: the closure of the estimate over all m_hh (with its error) and the f it gives."""
        return pd.DataFrame({"category": [c.category for c in self.cr],
                             "closure (MC)": [f"{c.estimate.closure:.2f} +- {c.estimate.closure_error:.2f}"
                                              for c in self.cr],
                             "non-closure": [round(c.nonclosure, 3) for c in self.cr],
                             "f (share of the background)": [round(c.f, 3) for c in self.cr]})


#: the row of the headline interval (the pyhf likelihood with the background from control regions)
HEADLINE = "bkg from CRs, pyhf (data-like stat. + non-closure)"


def intervals(analyses: Sequence[str], network: float = 1.0, config: str | Path | None = None,
              data_dir: str | Path | None = None, models_dir: str | Path | None = None, cut: float = constraints.CUT,
              points: int = 201, pyhf_points: int = 201, pyhf: bool = True, cl: float = constraints.CLS[0],
              estimated: tuple[str, ...] | None = background.ALL, with_systematics: bool = False,
              log: Callable[[str], None] = print) -> IntervalReport:
    """The kappa_lambda interval at ``cl`` with the background from control regions (headline) and from
    simulation (beside), for the HH -> 4b categories among ``analyses`` (networks trained at ``network``).

    The templates are the constraints report's (:func:`hhnb.reports.constraints.make`: it trains a missing network
    and generates missing basis samples, and says so through ``log``); the control-region background is
    :func:`hhnb.studies.background.cr_templates`. Rows, each labelled: the pyhf likelihood with the CR background
    (staterror: data-like; normsys: the measured non-closure), the study's chi2 with it (f = the non-closure, then
    f = 0), the pyhf likelihood and the chi2 with the MC background (the constraints study's), and the paper's.
    ``with_systematics``: the constraints report also carries the likelihood with the systematic variations
    (``ConstraintsReport.combined_with_systematics``).
    """
    cats = [a for a in analyses if _config.analysis(a, config).mhh_bins and a != "tthh"]
    rep = constraints_report.make(cats, (network,), config=config, data_dir=data_dir, models_dir=models_dir, cut=cut,
                                  systematics=(0.0,), pyhf_systematics=(0.0,) if pyhf else (), points=points,
                                  pyhf_points=pyhf_points, with_systematics=with_systematics, log=log)
    models = layout.models_dir(models_dir)
    crs = tuple(background.cr_templates(rep.templates[(network, a)],
                                        inputs.background(artifacts.read_scores(models, a, network)), cut=cut,
                                        estimated=estimated) for a in cats)
    kl, klp = np.linspace(-20, 20, points), np.linspace(-20, 20, pyhf_points)
    groups = [[c] for c in crs] + ([list(crs)] if len(crs) > 1 else [])
    names = [c.category for c in crs] + (["combined"] if len(crs) > 1 else [])
    rows: dict[str, dict[str, str]] = {}
    if pyhf:
        rows[HEADLINE] = {n: str(background.pyhf_scan(g, klp, name=n).interval(cl)) for g, n in zip(groups, names)}
    rows["bkg from CRs, chi2 (f = non-closure)"] = {n: str(background.chi2_scan(g, kl, name=n).interval(cl))
                                                     for g, n in zip(groups, names)}
    rows["bkg from CRs, chi2 (f = 0, statistics only)"] = {
        n: str(background.chi2_scan(g, kl, name=n, nonclosure=False).interval(cl)) for g, n in zip(groups, names)}
    combined = "combined" if len(crs) > 1 else cats[0]
    if pyhf:
        rows["MC bkg, pyhf (MC stat. profiled)"] = {
            n: str(rep.pyhf[(network, 0.0, n if n != combined or len(crs) > 1 else "combined")].interval(cl))
            for n in names}
    rows["MC bkg, chi2 (no MC error)"] = {n: str(rep.chi2[(network, 0.0, n)].interval(cl)) for n in names}
    published = constraints.PUBLISHED.get(network)
    if published and cl < 0.9:
        rows["paper (arXiv:2004.04240, MC bkg, chi2)"] = {n: f"[{published[n][0]:g}, {published[n][1]:g}]"
                                                          for n in names if n in published}
    table = pd.DataFrame(rows).T[names]
    return IntervalReport(float(network), table, crs, rep, rep.notes)


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
