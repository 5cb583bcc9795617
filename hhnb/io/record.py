"""The run record: one row per trained and evaluated network, in SQLite (``runs/record.sqlite``).

Writes use ``BEGIN IMMEDIATE`` with a busy timeout, so notebooks finishing at the
same time queue up instead of losing rows.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from hhnb import layout as paths
from hhnb.errors import UserArgumentError

COLUMNS: dict[str, str] = {
    "id": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "time": "TEXT",
    "analysis": "TEXT",
    "lambda": "REAL",
    "tag": "TEXT",
    "architecture": "TEXT",
    "n_inputs": "INTEGER",
    "n_classes": "INTEGER",
    "learning_rate": "REAL",
    "batch_size": "INTEGER",
    "dropout": "REAL",
    "epochs": "INTEGER",
    "optimizer": "TEXT",
    "auc": "REAL",
    "auc_error": "REAL",  # bootstrap error of auc (test events)
    "average_precision": "REAL",
    "train_time_s": "REAL",
    "confusion": "TEXT",
    "best_cut": "REAL",
    "max_significance": "REAL",
    "nsig": "REAL",
    "nbkg": "REAL",
    "significance_error": "REAL",  # bootstrap error of max_significance
    "significance_no_mc": "REAL",  # Z without the background's MC statistics in sigma_b (labelled, not quoted)
    "significance_no_mc_error": "REAL",
    "nsig_error": "REAL",
    "nbkg_error": "REAL",
    "nbkg_mc_error": "REAL",  # sqrt(sum w^2) of the background at the cut
    "nbkg_mc_events": "INTEGER",  # simulated background events at the cut
    "min_bkg_mc": "INTEGER",
    "rel_unc": "REAL",
    "cut_chosen_on": "TEXT",  # events the cut was chosen on (validation)
    "quoted_on": "TEXT",  # events the numbers are quoted on (test)
    "average_precision_unweighted": "REAL",
    "seed": "INTEGER",
    "git_commit": "TEXT",
    "source": "TEXT",
    "notes": "TEXT",
}


def architecture(widths) -> str:
    """The record's text for a network's hidden layers, the same from every path that writes a row.

    >>> architecture([200, 200]), architecture((120,))
    ('200-200', '120')
    """
    return "-".join(str(int(w)) for w in widths)


def default_path() -> Path:
    return paths.record_path()


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=60.0, isolation_level=None)
    con.execute("PRAGMA busy_timeout = 60000")
    cols = ", ".join(f'"{k}" {v}' for k, v in COLUMNS.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS runs ({cols})")
    have = {r[1] for r in con.execute("PRAGMA table_info(runs)")}
    for k, v in COLUMNS.items():  # records written by an older hhnb: add the new columns (NULL in old rows)
        if k not in have:
            try:
                con.execute(f'ALTER TABLE runs ADD COLUMN "{k}" {v}')
            except sqlite3.OperationalError as exc:  # another process added it meanwhile
                if "duplicate column" not in str(exc):
                    raise
    return con


def git_commit(cwd: str | Path | None = None) -> str:
    """The project's current commit (short), or '' outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=cwd or Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def add(row: Mapping[str, Any], path: str | Path | None = None) -> int:
    """Append one row (unknown keys are refused) and return its id."""
    unknown = set(row) - set(COLUMNS)
    if unknown:
        raise UserArgumentError(f"unknown run-record column(s) {sorted(unknown)}: expected {', '.join(COLUMNS)}")
    values = dict(row)
    values.setdefault("time", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
    if "git_commit" not in values:
        values["git_commit"] = git_commit()
    for k, v in list(values.items()):
        if isinstance(v, (list, tuple, dict)):
            values[k] = json.dumps(v)
    con = _connect(Path(path) if path else default_path())
    try:
        con.execute("BEGIN IMMEDIATE")
        keys = [k for k in values if k != "id"]
        cur = con.execute(
            f"INSERT INTO runs ({', '.join(chr(34) + k + chr(34) for k in keys)}) VALUES ({', '.join('?' * len(keys))})",
            [values[k] for k in keys],
        )
        con.execute("COMMIT")
        return int(cur.lastrowid)
    except BaseException:
        con.execute("ROLLBACK") if con.in_transaction else None
        raise
    finally:
        con.close()


def read(path: str | Path | None = None, analysis: str | None = None, kl: float | None = None,
         sort: str | None = None, descending: bool = False) -> pd.DataFrame:
    """The record as a DataFrame, filtered by analysis and lambda, sorted by any column."""
    p = Path(path) if path else default_path()
    if not p.exists():
        return pd.DataFrame(columns=list(COLUMNS))
    con = _connect(p)
    try:
        df = pd.read_sql_query("SELECT * FROM runs ORDER BY id", con)
    finally:
        con.close()
    if analysis is not None:
        df = df[df["analysis"] == analysis]
    if kl is not None:
        df = df[(df["lambda"] - float(kl)).abs() < 1e-9]
    if sort:
        if sort not in df.columns:
            raise UserArgumentError(f"cannot sort the run record by {sort!r}: columns are {', '.join(df.columns)}")
        df = df.sort_values(sort, ascending=not descending, kind="stable")
    return df.reset_index(drop=True)
