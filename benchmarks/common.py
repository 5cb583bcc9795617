"""Shared set-up for the benchmarks: toy ntuples generated once under benchmarks/results/."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

RESULTS = Path(__file__).resolve().parent / "results"
EVENTS = 20000


def data_dir(lambdas=(1.0, 10.0), analyses=("resolved", "boosted")) -> Path:
    """Toy ntuples for the benchmarks (20000 events per sample and category), made once."""
    from hhnb.toy.generate import generate

    d = RESULTS / "data"
    generate(d, analyses=list(analyses), lambdas=list(lambdas), events=EVENTS, seed=42, progress=False,
             skip_existing=True)
    return d


def commit() -> str:
    """The checkout's commit (``git rev-parse --short HEAD``, ``+dirty`` with uncommitted changes to tracked
    files), or "" outside a git checkout: stored beside a slow benchmark's date."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return head + ("+dirty" if dirty else "")


def store(out: Path, command: str, rows: list[dict], extra: dict | None = None) -> None:
    """Write a slow benchmark's rows with their date and commit to ``benchmarks/stored/`` (read back by
    ``make bench``); ``extra``: further details kept beside the rows."""
    import datetime as dt
    import json

    from hhnb.io.atomic import atomic_path

    with atomic_path(out) as t:
        t.write_text(json.dumps({"measured": dt.datetime.now(dt.UTC).isoformat(timespec="minutes"),
                                 "commit": commit(), "command": command, "rows": rows, **(extra or {})},
                                indent=1) + "\n")
    print(json.dumps(rows[0], indent=1))
