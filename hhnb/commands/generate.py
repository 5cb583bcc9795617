"""``hhnb generate``: write the toy ntuples."""

from __future__ import annotations

import argparse

from hhnb import layout as paths
from hhnb.config import analyses as _config
from hhnb.config import lambdas
from hhnb.errors import UserArgumentError
from hhnb.io.tables import samples_table
from hhnb.toy.generate import LUMINOSITY, generate


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--analyses", default="all", help="comma list of resolved,intermediate,boosted,tthh (default all)")
    p.add_argument("--lambdas", default="1,10", help="signal kappa_lambda values: '1,10,m5.0' or 'all' (the grid)")
    p.add_argument("--events", type=int, default=20000, help="events per sample and category (default 20000)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--data-dir", default=None, help="output folder (default <project>/data)")
    p.add_argument("--skip-existing", action="store_true", help="keep files that are already there")
    p.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    analyses = None if args.analyses == "all" else [a.strip() for a in args.analyses.split(",")]
    toys = [name for name, ana in _config.load().analyses.items() if ana.toy]
    unknown = sorted(set(analyses or ()) - set(toys))
    if unknown:
        raise UserArgumentError(f"--analyses: unknown toy analysis {', '.join(unknown)}: expected {', '.join(toys)}")
    written = generate(paths.data_dir(args.data_dir), analyses=analyses, lambdas=lambdas.parse_list(args.lambdas),
                       events=args.events, seed=args.seed, progress=not args.no_progress,
                       skip_existing=args.skip_existing)
    print(samples_table(written, LUMINOSITY))
    return 0
