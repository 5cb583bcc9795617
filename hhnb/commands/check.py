"""``hhnb check``: open every file of every sample of a configuration and list every problem at once."""

from __future__ import annotations

import argparse
import sys

from hhnb import layout
from hhnb.config import analyses as _config
from hhnb.io.check import check
from hhnb.io.tables import text_table


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None, help="your analyses YAML (default: the shipped toy analyses)")
    p.add_argument("--analysis", default=None, help="only this analysis (comma list allowed)")
    p.add_argument("--lambda", dest="kl", default=None,
                   help="only this kappa_lambda (default: every lambda the signal samples declare)")
    p.add_argument("--data-dir", default=None, help="value of {data_dir} in file patterns (default <project>/data)")


def run(args: argparse.Namespace) -> int:
    cfg = _config.load(args.config)
    names = [a.strip() for a in args.analysis.split(",") if a.strip()] if args.analysis else None
    report = check(cfg, layout.data_dir(args.data_dir), names, args.kl)
    if not report.ok:
        print(f"hhnb check: {len(report.problems)} problem(s) in {cfg.path}:", file=sys.stderr)
        for p in report.problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print(text_table(report.table))
    if len(report.systematics):
        print("\nsystematic variations (per file: the trees and weight branches the analysis' systematics name)")
        print(text_table(report.systematics))
    print(f"\nall files, trees, branches and selections of {cfg.path} are usable")
    return 0
