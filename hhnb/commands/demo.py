"""``hhnb demo`` (``make demo``): toy ntuples, the notebook chain over the default grid, the results table."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import papermill

import hhnb.workflow.papermill_lambda  # noqa: F401 - registers the translator of -p lambda (a keyword)
from hhnb import layout as paths
from hhnb.commands import sweep as sweep_cmd
from hhnb.config import defaults, lambdas
from hhnb.io import record
from hhnb.io.tables import samples_table, text_table
from hhnb.reports import summary as summary_report
from hhnb.studies import summary
from hhnb.toy.generate import LUMINOSITY, generate
from hhnb.workflow.sweep import QUIET_KERNEL


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--analyses", default=",".join(defaults.DEMO_ANALYSES), help="default %(default)s")
    p.add_argument("--lambdas", default=",".join(lambdas.tag(k) for k in defaults.DEMO_LAMBDAS),
                   help="default %(default)s")
    p.add_argument("--events", type=int, default=defaults.EVENTS, help="toy events per sample and category")
    p.add_argument("--workers", type=int, default=None, help="local Dask workers (default one per core)")
    p.add_argument("--force", action="store_true", help="re-run points that are already complete")
    p.add_argument("--folds", type=int, default=None, help="networks per point (default: hhnb's, hhnb.config.training.FOLDS)")


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    project = paths.project_dir()
    kls = lambdas.parse_list(args.lambdas)
    analyses = [a.strip() for a in args.analyses.split(",") if a.strip()]
    print(f"== 1. toy ntuples in {paths.data_dir()} (lambda {', '.join(lambdas.tag(k) for k in kls)})", flush=True)
    written = generate(paths.data_dir(), analyses=analyses, lambdas=kls, events=args.events, seed=defaults.SEED,
                       progress=sys.stderr.isatty(), skip_existing=True)
    print(samples_table(written, LUMINOSITY), flush=True)

    print(f"\n== 2. notebooks train -> evaluate -> correlations -> shap for {', '.join(analyses)} x "
          f"lambda {', '.join(lambdas.tag(k) for k in kls)} (Dask)", flush=True)
    sweep_args = sweep_cmd.build_namespace(analyses=",".join(analyses), lambdas=args.lambdas, workers=args.workers,
                                           force=args.force, progress=sys.stderr.isatty(),
                                           folds=getattr(args, "folds", None))
    status = sweep_cmd.run(sweep_args)

    print("\n== 3. summary across lambdas", flush=True)
    summary = _run_summary(project)
    print(_results_table(), flush=True)

    print("\n== 4. the kappa_lambda interval the networks buy (m_hh after the network cut, Asimov data at kl = 1); "
          "headline: the background from control regions", flush=True)
    print(_interval_table(analyses, kls), flush=True)
    print(f"\nplots and tables:\n  summary notebook    {summary}\n"
          f"  per network         {paths.run_dir(analyses[0], kls[0])}/ and the like "
          "(ROC, PR, significance, executed notebooks)\n"
          f"  score vs mass       {project / 'correlation_plots'}/\n"
          f"  SHAP importance     {project / 'shap_values'}/\n"
          f"  models              {project / 'models'}/\n"
          f"  run record          hhnb record   ({paths.record_path()})\n"
          f"\ndemo finished in {time.perf_counter() - t0:.0f} s", flush=True)
    return status


def _results_table() -> str:
    """The headline first: each evaluated network's Z at its cut with the background from control regions
    (signal region; sigma_b: the control regions' statistics as data would have them and the measured
    non-closure), the MC-based Z of the same events beside it; then the evaluation's table (AUC, the MC-based Z
    without a mass window, the simulated background events behind it)."""

    evals = summary.evaluations(record.read())
    table = summary.significance_table(evals)
    if table.empty:
        return "no evaluated network in the run record"
    headline = summary.background_table(summary.background_numbers(evals))
    return ("Headline: Z with the background from control regions (ABCD in the (m_h1, m_h2) plane, signal region "
            "90-140 GeV; sigma_b: the control regions' statistics as data at the luminosity and the measured "
            "non-closure), +- its bootstrap error; beside it the MC-based Z of the same events\n"
            + text_table(headline)
            + "\n\nMC-based, as evaluated (no mass window): Z: Asimov significance with the background MC error in "
              "sigma_b, +- its bootstrap error; cut chosen on validation events, quoted on test events\n"
            + text_table(table))


def _interval_table(analyses: list[str], kls: list[float]) -> str:
    """68 % CL intervals from the networks at the first lambda: with the background from control regions (pyhf,
    the headline, and the study's chi2) and with the MC background (pyhf, chi2), beside the paper's; last, the
    combined interval with all systematic uncertainties (``hhnb.studies.systematics``)."""

    cats = [a for a in analyses if a != "tthh"]  # the HH -> bbbb categories carry m_hh bins
    if not cats:
        return "no HH -> bbbb category in the demo: no kappa_lambda interval"
    rep = summary_report.intervals(cats, kls[0], pyhf_points=201, with_systematics=True,
                                   log=lambda line: print(line, flush=True))
    lines = [f"68 % CL, networks trained at kl = {kls[0]:g}; headline: {summary_report.HEADLINE}\n"
             f"{text_table(rep.table.reset_index(names='background, statistic'))}",
             f"closure of the control-region estimate on the simulation (its non-closure is the normalisation "
             f"uncertainty f):\n{text_table(rep.closure_table())}"]
    lines += [note for note in rep.notes if "merged" in note]
    lines.append(f"\nwith the systematic uncertainties (JES, JER, b-tagging, cross sections, MC or control-region "
                 f"statistics, non-closure):\n{rep.constraints.combined_with_systematics()}")
    return "\n".join(lines)


def _run_summary(project: Path) -> Path:
    nb = paths.notebook("summary")
    out = paths.summary_notebook(project)
    out.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(str(nb), str(out), kernel_name="python3", progress_bar=False, log_output=False,
                               extra_arguments=QUIET_KERNEL)
    return out
