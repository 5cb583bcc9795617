"""Across lambdas: the evaluated networks of the run record, the best one per analysis, a rounded table."""

from __future__ import annotations

import pandas as pd

COLUMNS = ("analysis", "lambda", "auc", "average_precision", "best_cut", "max_significance", "nsig", "nbkg")


def evaluations(rec: pd.DataFrame) -> pd.DataFrame:
    """The latest evaluation of each (analysis, lambda): search rows and older re-runs left out."""
    if rec.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    rows = rec[(rec["source"].fillna("evaluate") != "search") & rec["max_significance"].notna()]
    rows = rows.sort_values("id", kind="stable").drop_duplicates(["analysis", "lambda"], keep="last")
    return rows.sort_values(["analysis", "lambda"], kind="stable").reset_index(drop=True)


def best_per_analysis(evals: pd.DataFrame, metric: str = "max_significance") -> pd.DataFrame:
    """For each analysis, the lambda-trained network with the highest ``metric``."""
    if metric not in COLUMNS:
        raise KeyError(f"cannot rank by {metric!r}: expected one of {', '.join(COLUMNS[2:])}")
    if evals.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    idx = evals.groupby("analysis", sort=True)[metric].idxmax()
    return evals.loc[idx.to_numpy()].reset_index(drop=True)


def table(evals: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The summary columns, rounded (no time or git columns: the printout is reproducible)."""
    out = evals[[c for c in COLUMNS if c in evals.columns]].copy()
    for col in out.columns[1:]:
        out[col] = pd.to_numeric(out[col]).round(digits)
    return out.reset_index(drop=True)
