"""``hhnb cut``: cut on a score branch and print weighted yields per sample, nsig, nbkg and significance."""

from __future__ import annotations

import argparse

from hhnb import layout
from hhnb.io import ntuples
from hhnb.io.atomic import atomic_path
from hhnb.io.tables import text_table
from hhnb.nn.apply import expand
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
    p.add_argument("--all-events", action="store_true",
                   help="count every event (default: only the test events, the _istest branch, scaled per sample "
                        "so the yields stay physical)")
    p.add_argument("--config", default=None, help="analyses config whose selection is applied (default: shipped)")
    p.add_argument("--no-selection", action="store_true", help="do not apply the analysis selection of the config")
    p.add_argument("--rel-unc", type=float, default=0.0,
                   help="relative background systematic in the Asimov Z, added to the MC error (default 0)")
    p.add_argument("--seed", type=int, default=1, help="bootstrap seed")
    p.add_argument("--csv", default=None, metavar="PATH", help="also write the table as CSV")


def run(args: argparse.Namespace) -> int:
    for path in expand(args.file):  # an unreadable input is named before anything else is looked up
        ntuples.open_file(str(path))
    value = _cut.best_cut(args.branch, args.record) if args.best else args.cut
    selection = None if args.no_selection else _cut.analysis_selection(args.branch, args.config)
    result = _cut.cut(args.file, args.branch, value, [s.strip() for s in args.signal.split(",") if s.strip()],
                      weight=args.weight, tree=args.tree, test_only=not args.all_events, selection=selection,
                      rel_unc=args.rel_unc, seed=args.seed)
    table = _cut.summary(result)
    print(f"cut: {args.branch} >= {value:g}" + (" (best cut from the run record)" if args.best else ""))
    print(f"selection: {selection or 'none'}; events: "
          + ("all (training ones included)" if args.all_events else "test only, scaled per sample to the full yield"))
    if result.significance is not None:
        print(result.significance.line())
    print(text_table(table.drop(columns=["cut"]).astype(object).fillna(""), ".6g"))
    if args.csv:
        with atomic_path(args.csv) as tmp:
            table.to_csv(tmp, index=False)
        print(f"written {args.csv}")
    return 0
