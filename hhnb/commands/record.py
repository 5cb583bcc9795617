"""``hhnb record``: print the run record in the older hyperparameterRecord.py layout."""

from __future__ import annotations

import argparse

from hhnb.config import lambdas
from hhnb.io import record
from hhnb.io.atomic import atomic_path
from hhnb.io.tables import text_table

LAYOUT = {  # record column -> printed header
    "id": "Run", "time": "Date", "analysis": "Analysis", "tag": "Lambda", "architecture": "Layers",
    "n_inputs": "Inputs", "learning_rate": "LR", "batch_size": "Batch", "dropout": "Dropout", "epochs": "Epochs",
    "auc": "AUC", "average_precision": "AP", "train_time_s": "Time[s]", "best_cut": "Score",
    "max_significance": "Sign.", "significance_error": "+-", "significance_no_mc": "Sign.noMCstat",
    "nsig": "nsig.", "nbkg": "nbkg.", "nbkg_mc_events": "nbkgMC", "seed": "Seed", "git_commit": "Commit",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--analysis", help="only this analysis")
    p.add_argument("--lambda", dest="kl", help="only this kappa_lambda (10, -5, m5.0 ...)")
    p.add_argument("--sort", help=f"sort by a column ({', '.join(record.COLUMNS)})")
    p.add_argument("--desc", action="store_true", help="sort descending")
    p.add_argument("--path", help="record file (default <project>/runs/record.sqlite)")
    p.add_argument("--csv", help="also write the selected rows to this CSV file")


def format_record(df) -> str:
    """The record rows with the older script's headers, numbers rounded."""
    out = df[[c for c in LAYOUT if c in df.columns]].rename(columns=LAYOUT).copy()
    if "Date" in out:
        out["Date"] = out["Date"].astype(str).str.slice(0, 16).str.replace("T", " ")
    return text_table(out, ".4g")


def run(args: argparse.Namespace) -> int:
    kl = lambdas.parse(args.kl) if args.kl is not None else None
    df = record.read(args.path, analysis=args.analysis, kl=kl, sort=args.sort, descending=args.desc)
    print(format_record(df))
    if args.csv:
        with atomic_path(args.csv) as tmp:
            df.to_csv(tmp, index=False)
    return 0
