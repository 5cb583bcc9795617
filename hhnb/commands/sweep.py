"""``hhnb sweep``: the notebook chain over analyses x lambdas on a local Dask cluster, a scheduler or a batch system."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from hhnb import layout as paths
from hhnb.commands import clusteropts
from hhnb.config import lambdas
from hhnb.errors import UserArgumentError
from hhnb.io.tables import text_table
from hhnb.workflow import cluster, sweep
from hhnb.workflow.lock import project_lock
from hhnb.workflow.sweep import CHAIN

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--analyses", default="resolved,boosted", help="comma list or 'all' (default resolved,boosted)")
    p.add_argument("--lambdas", default="1,10", help="kappa_lambda list '1,10,m5.0' or 'all' (the physics grid)")
    p.add_argument("--notebooks", default=",".join(_chain()), help="chain to run per point (default %(default)s)")
    p.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE",
                   help="notebook parameter, repeatable (epochs=2, max_events=2000; boosted:epochs=5 for one analysis)")
    p.add_argument("--force", action="store_true", help="re-run points whose outputs are complete")
    p.add_argument("--workers", type=int, default=None, help="local workers (default one per core)")
    p.add_argument("--scheduler", default=None, help="address of a running Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--cluster", default="local", metavar="{local,slurm,htcondor}", help="where to run")
    p.add_argument("--jobs", type=int, default=2, help="batch jobs to submit with --cluster (default 2)")
    p.add_argument("--cores", type=int, default=1, help="cores per batch job (default 1)")
    p.add_argument("--memory", default="4GB", help="memory per batch job (default 4GB)")
    p.add_argument("--walltime", default="02:00:00", help="SLURM wall time per job")
    p.add_argument("--queue", default=None, help="SLURM partition")
    clusteropts.add_extra_arguments(p)  # --directive, --env, --log-dir
    p.add_argument("--notebook-dir", default=None, help="folder of the chain's notebooks (default: notebooks/)")
    p.add_argument("--dry-run", action="store_true", help="print the batch job script (or the points) and exit")
    p.add_argument("--config", default=None, help="analysis YAML (passed to the notebooks too)")
    p.add_argument("--folds", type=int, default=None,
                   help="networks per point, each blind to one fold (default: hhnb's, hhnb.config.training.FOLDS; "
                        "1 = single split)")
    p.add_argument("--timeout", type=int, default=None, help="seconds allowed per notebook cell")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def build_namespace(**overrides) -> argparse.Namespace:
    """The sweep's arguments with their defaults, for callers such as ``hhnb demo``."""
    p = argparse.ArgumentParser()
    add_arguments(p)
    args = p.parse_args([])
    progress = overrides.pop("progress", True)
    for key, value in overrides.items():
        setattr(args, key, value)
    args.no_progress = not progress
    return args


def _chain() -> tuple[str, ...]:
    return CHAIN


def run(args: argparse.Namespace) -> int:
    opts = clusteropts.options(args, workers=args.workers)  # an unknown --cluster fails here, in one line
    points = sweep.grid(args.analyses, args.lambdas, args.config)
    params = sweep.parse_params(args.param)
    if args.config:
        params.setdefault("config", str(Path(args.config).resolve()))
    if getattr(args, "folds", None) is not None:
        params.setdefault("folds", args.folds)
    nbdir = Path(args.notebook_dir).resolve() if args.notebook_dir else paths.notebooks_dir()
    wanted = [n.strip() for n in args.notebooks.split(",") if n.strip()]
    notebooks, missing = sweep.present_notebooks(wanted, nbdir)
    for name in missing:
        print(f"warning: notebooks/{name}.ipynb does not exist: skipped", file=sys.stderr)
    if not notebooks:
        raise UserArgumentError(f"none of the notebooks {wanted} exists in {nbdir}")
    project = paths.project_dir()
    home = os.environ.get("HHNB_HOME")
    if args.cluster != "local" and args.dry_run:
        batch = cluster.batch_cluster(args.cluster, args.cores, args.memory, args.walltime, args.queue,
                                      home or str(project), opts.directives, opts.env, opts.python, args.log_dir)
        print(batch.job_script())
        batch.close()
        return 0
    if args.dry_run:
        for pt in points:
            print(f"{pt.analysis} lambda {pt.tag}: {' -> '.join(notebooks)}")
        return 0
    sweep.preflight(points, args.config, params.get("data_dir"))
    print(f"sweep: {len(points)} points x {' -> '.join(notebooks)}; outputs under {project}", flush=True)

    def report(res) -> None:
        where = f"{res.point.analysis} lambda {lambdas.tag(res.point.kl)}"
        if res.status == "failed":
            print(f"FAILED {where}: {res.error}", file=sys.stderr, flush=True)
        elif res.status == "done":
            print(f"done {where} in {res.seconds:.1f} s", flush=True)

    with project_lock(project), cluster.client_for(opts, args.scheduler, home or str(project)) as client:
        results = sweep.sweep(points, notebooks, client, params, force=args.force, nbdir=nbdir, project=project,
                              on_result=report, progress=not args.no_progress, timeout=args.timeout)
    print()
    print(text_table(sweep.results_table(results)))
    skipped = sum(r.status == "skipped" for r in results)
    if skipped:
        print(f"\n{skipped} point(s) were complete and skipped (--force re-runs them)")
    failed = [r for r in results if r.status == "failed"]
    if failed:
        print(f"\n{len(failed)} point(s) failed:", file=sys.stderr)
        for r in failed:
            rel = r.failed_notebook or "(no executed notebook)"
            print(f"  {r.point.analysis} lambda {lambdas.tag(r.point.kl)}: {r.error}\n    see {rel}", file=sys.stderr)
        return 1
    return 0
