"""``hhnb cut``: cut on a score branch and print weighted yields per sample, nsig, nbkg and significance."""

from __future__ import annotations

import argparse

from hhnb import layout
from hhnb.io.atomic import atomic_path
from hhnb.io.tables import text_table
from hhnb.studies import cut as _cut


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--file", action="append", required=True, metavar="PATH",
                   help=f"a *{layout.APPLIED_SUFFIX}.root file or glob; repeatable (one sample per file)")
    p.add_argument("--branch", required=True, help=f"score branch, e.g. {layout.score_branches('resolved', 1, [])[0]}")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--cut", type=float, help="keep events with score >= CUT")
    which.add_argument("--best", action="store_true", help="the best cut recorded for this network (run record)")
    p.add_argument("--record", default=None, help="run record file (default <project>/runs/record.sqlite)")
    p.add_argument("--signal", default=",".join(_cut.DEFAULT_SIGNAL),
                   help="comma list of file-name globs that are signal (default 'hh_*,tthh*')")
    p.add_argument("--weight", default="weight", help="event weight branch (default weight; '' = unweighted)")
    p.add_argument("--tree", default=layout.DEFAULT_TREE, help="tree name (default %(default)s)")
    p.add_argument("--test-only", action="store_true",
                   help="count only events the network never trained on (the _istest branch), scaled per sample")
    p.add_argument("--csv", default=None, metavar="PATH", help="also write the table as CSV")


def run(args: argparse.Namespace) -> int:
    value = _cut.best_cut(args.branch, args.record) if args.best else args.cut
    result = _cut.cut(args.file, args.branch, value, [s.strip() for s in args.signal.split(",") if s.strip()],
                      weight=args.weight, tree=args.tree, test_only=args.test_only)
    table = _cut.summary(result)
    print(f"cut: {args.branch} >= {value:g}" + (" (best cut from the run record)" if args.best else ""))
    print(text_table(table.drop(columns=["cut"]).astype(object).fillna(""), ".6g"))
    if args.csv:
        with atomic_path(args.csv) as tmp:
            table.to_csv(tmp, index=False)
        print(f"written {args.csv}")
    return 0
