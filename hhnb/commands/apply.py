"""``hhnb apply``: write network scores as new branches into copies of ntuples."""

from __future__ import annotations

import argparse
import os
import sys

import pandas as pd

from hhnb import layout as paths
from hhnb.commands import clusteropts
from hhnb.errors import UserArgumentError
from hhnb.io.tables import text_table
from hhnb.nn import apply as _apply
from hhnb.workflow import cluster, distributed_apply


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="input ROOT files or globs (quote globs: 'data/resolved/*.root')")
    p.add_argument("--analysis", default=None, help="analysis (or comma list) whose networks to apply")
    p.add_argument("--lambdas", default="1.0", help="'1,10,m5.0' or 'all' (every network found; default 1.0)")
    p.add_argument("--model", action="append", default=[], metavar="PATH",
                   help="a .keras model or .json card (a k-fold set: its card or any fold file); repeatable")
    p.add_argument("--parameterised", action="store_true",
                   help="apply the network parameterised in kappa_lambda (nn_<analysis>_SlfCoup_param) at --lambdas "
                        "('all': its training lambdas); a --model whose card says lambda 'param' is scored at --lambdas")
    p.add_argument("--models-dir", default=None, help="where the networks are (default <project>/models)")
    p.add_argument("--outdir", default=None, help="output folder (default: beside each input)")
    p.add_argument("--backend", choices=_apply.BACKENDS, default="keras",
                   help="keras (TensorFlow) or onnx (onnxruntime on the .onnx files of hhnb export; no TensorFlow)")
    p.add_argument("--jobs", type=int, default=1, help="files processed in parallel (default 1)")
    p.add_argument("--step", type=int, default=_apply.STEP, help=f"events per chunk (default {_apply.STEP})")
    p.add_argument("--force", action="store_true", help="rewrite outputs that already exist")
    p.add_argument("--in-place", action="store_true",
                   help="add the branches to the input files themselves (every object kept; the input is replaced "
                        "only when the new file is complete)")
    p.add_argument("--trees", default=None, metavar="NAMES",
                   help="trees to score: names or globs, comma-separated ('*__1up,*__1down'), or 'all' (every tree "
                        "that has the networks' inputs: systematic variations); default the networks' tree")
    p.add_argument("--no-progress", action="store_true")
    clusteropts.add_arguments(p)  # --scheduler / --cluster: one Dask task per file (--jobs workers or jobs)


def _check_inputs(files, nets, trees: str | None) -> None:
    """Every input opens and has the trees to score, before any output is written (one-line error if not)."""
    for path in files:
        _apply.trees_to_score(path, nets, trees)  # opens each tree it returns, or raises in one line


def run(args: argparse.Namespace) -> int:
    if args.cluster or args.scheduler:  # an unknown --cluster or bad job option fails first, in one line
        clusteropts.options(args, workers=args.jobs if args.jobs > 1 else None)
    nets = [_apply.network(m, args.backend, args.lambdas) for m in args.model]
    if args.analysis:
        nets += _apply.networks(args.analysis, args.lambdas, paths.models_dir(args.models_dir), args.backend,
                                args.parameterised)
    _apply.check_networks(nets)
    _check_inputs(_apply.expand(args.files), nets, args.trees)
    if args.cluster or args.scheduler:
        results = _on_dask(args, nets)
    else:
        results = _apply.apply(args.files, nets, outdir=args.outdir, jobs=args.jobs, force=args.force,
                               in_place=args.in_place, step=args.step, progress=not args.no_progress,
                               trees=args.trees)
    table = pd.DataFrame([{"input": str(r.input), "output": str(r.output), "status": r.status, "events": r.events,
                           "seconds": round(r.seconds, 2),
                           "events/s": round(r.events / r.seconds) if r.seconds > 0 and r.events else 0}
                          for r in results])
    print(f"networks: {', '.join(n.name for n in nets)}")
    print(text_table(table))
    failed = [r for r in results if r.status == "failed"]
    for r in failed:
        print(f"hhnb apply: failed: {r.error}", file=sys.stderr)
    return 1 if failed else 0


def _on_dask(args: argparse.Namespace, nets) -> list:
    """``--cluster``/``--scheduler``: one Dask task per file on ``--jobs`` workers (local) or batch jobs."""

    if args.in_place:
        raise UserArgumentError("--in-place is not available with --cluster/--scheduler: drop one of them")
    opts = clusteropts.options(args, workers=args.jobs if args.jobs > 1 else None)
    _apply.check_networks(nets)
    _apply.expand(args.files)  # a pattern matching nothing fails before any job is submitted
    with cluster.client_for(opts, args.scheduler, os.environ.get("HHNB_HOME") or str(paths.project_dir())) as client:
        return distributed_apply.apply(args.files, nets, client, outdir=args.outdir, force=args.force,
                                       step=args.step, progress=not args.no_progress, trees=args.trees)
