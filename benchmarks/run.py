"""``make bench``: run every ``benchmarks/bench_*.py`` and print one table of side-by-side ratios.

Each module defines ``rows() -> list[dict]`` with keys: ``benchmark``, ``hhnb`` (value),
``reference`` (value of the thing compared against), ``unit``, ``ratio`` (hhnb / reference,
>1 = better unless the row says otherwise) and ``goal`` (text). Optional keys: ``peer`` (what the
reference is), ``met`` (True/False/None: whether the goal is met), ``lower_is_better``, ``measured``
(date of a stored result), ``commit``, ``cpu`` (what the row's two sides obtained, when the module measures it).
Every row gets the commit it was measured at and the date; rows measured here also get ``cpu``: the cores the
benchmark module obtained (its process' and children's CPU seconds over wall seconds) and the load average
of the machine while it ran, so a ratio is read beside the CPU each side had. Rows measured outside
``make bench`` (too slow for it: ``make bench-large``, ``make demo`` from a fresh clone) are read from
``benchmarks/stored/*.json`` with their date.
The table is printed and written to ``runs/bench/bench.csv`` and ``bench.md`` (and
``benchmarks/results/latest.csv``).

    python benchmarks/run.py [name ...]     # only bench_<name>.py, e.g. train apply
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import sys
import time
import traceback
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # hhnb, and the benchmarks' common module

from common import commit  # noqa: E402

from hhnb import layout  # noqa: E402
from hhnb.io.atomic import atomic_path  # noqa: E402
from hhnb.io.tables import text_table  # noqa: E402

STORED = HERE / "stored"
COLUMNS = ["benchmark", "hhnb", "peer", "reference", "unit", "ratio", "goal", "met", "cpu", "measured", "commit",
           "file"]


def stored_rows() -> list[dict]:
    """Rows of results measured by the slow targets, each file ``{"measured": date, "rows": [...]}``."""
    out = []
    for path in sorted(STORED.glob("*.json")):
        doc = json.loads(path.read_text())
        out += [{"measured": doc.get("measured"), "commit": doc.get("commit") or "", "file": f"stored/{path.name}",
                 **row} for row in doc["rows"]]
    return out


def cpu_seconds() -> float:
    """CPU seconds of this process and its waited-for children (user + system)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def obtained(cpu0: float, wall0: float) -> str:
    """What a benchmark module obtained since (cpu0, wall0): cores used and the machine's 1-minute load.

    >>> obtained(cpu_seconds(), time.perf_counter()).startswith("cores ")
    True
    """
    wall = max(time.perf_counter() - wall0, 1e-9)
    return f"cores {(cpu_seconds() - cpu0) / wall:.2f}, load {os.getloadavg()[0]:.1f}"


def _met(v) -> str:
    return "" if v is None or (isinstance(v, float) and pd.isna(v)) else ("yes" if bool(v) else "NO")


def markdown(df: pd.DataFrame) -> str:
    """A GitHub Markdown table of the rows (numbers to 4 significant digits)."""
    def cell(v):
        if isinstance(v, float):
            return "" if pd.isna(v) else f"{v:.4g}"
        return "" if v is None else str(v).replace("|", "/")
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def main(names: list[str]) -> int:
    t_start = time.perf_counter()
    out = layout.bench_dir()  # resolved now: a benchmark may point HHNB_HOME at its own scratch project
    saved_env = dict(os.environ)
    rows, failed = [], []
    for path in sorted(HERE.glob("bench_*.py")):
        if names and path.stem.removeprefix("bench_") not in names:
            continue
        t0, c0 = time.perf_counter(), cpu_seconds()
        print(f"running {path.name} ...", flush=True)
        try:
            spec = importlib.util.spec_from_file_location(path.stem, path)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = mod  # as an import does: dataclasses and pickling look the module up there
            spec.loader.exec_module(mod)
            got = mod.rows()
            cpu = obtained(c0, t0)
            rows += [{"file": path.stem, "cpu": cpu, **row} for row in got]
            os.environ.clear()
            os.environ.update(saved_env)
        except Exception as exc:  # one broken benchmark must not hide the others' rows
            traceback.print_exc()
            failed.append(path.name)
            rows.append({"file": path.stem, "benchmark": f"{path.name} FAILED: {type(exc).__name__}: {exc}"[:160],
                         "met": False})
        print(f"  {path.name}: {time.perf_counter() - t0:.1f} s", flush=True)
    if not names:
        rows += stored_rows()
    total = time.perf_counter() - t_start
    what = "make bench" if not names else f"benchmarks/run.py {' '.join(names)}"
    rows.append({"file": "run", "benchmark": f"{what} wall time ({os.cpu_count()} cores)", "hhnb": total,
                 "peer": "budget", "reference": 900.0, "unit": "s", "ratio": total / 900.0, "goal": "<= 1",
                 "met": total <= 900.0, "lower_is_better": True})
    df = pd.DataFrame(rows)
    for c in COLUMNS:
        if c not in df.columns:
            df[c] = None
    df["measured"] = df["measured"].fillna(dt.date.today().isoformat())
    df["commit"] = df["commit"].fillna(commit())
    df["met"] = [_met(v) for v in df["met"]]
    df = df[COLUMNS + [c for c in df.columns if c not in COLUMNS]]
    print()
    print(text_table(df[["benchmark", "hhnb", "peer", "reference", "unit", "ratio", "goal", "met", "cpu"]], ".4g"))
    out.mkdir(parents=True, exist_ok=True)
    for name, text in (("bench.csv", df.to_csv(index=False)), ("bench.md", markdown(df[COLUMNS[:-1]]))):
        with atomic_path(out / name) as tmp:
            tmp.write_text(text)
    (HERE / "results").mkdir(exist_ok=True)
    df.to_csv(HERE / "results" / "latest.csv", index=False)
    print(f"\nwritten {out / 'bench.csv'} and {out / 'bench.md'}; {total:.0f} s in all")
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
