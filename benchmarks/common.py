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


def store(out: Path, command: str, rows: list[dict]) -> None:
    """Write a slow benchmark's rows with their date to ``benchmarks/stored/`` (read back by ``make bench``)."""
    import datetime as dt
    import json

    from hhnb.io.atomic import atomic_path

    with atomic_path(out) as t:
        t.write_text(json.dumps({"measured": dt.datetime.now(dt.UTC).isoformat(timespec="minutes"),
                                 "command": command, "rows": rows}, indent=1) + "\n")
    print(json.dumps(rows[0], indent=1))
