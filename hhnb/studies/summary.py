"""Across lambdas: the evaluated networks of the run record, the best one per analysis, a rounded table."""

from __future__ import annotations

import pandas as pd

from hhnb.errors import UserArgumentError

COLUMNS = ("analysis", "lambda", "auc", "auc_error", "average_precision", "best_cut", "max_significance", "significance_error",
           "nsig", "nbkg", "nbkg_mc_events")


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
        raise UserArgumentError(f"cannot rank by {metric!r}: expected one of {', '.join(COLUMNS[2:])}")
    if evals.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    idx = evals.groupby("analysis", sort=True)[metric].idxmax()
    return evals.loc[idx.to_numpy()].reset_index(drop=True)


def table(evals: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The summary columns, rounded (no time or git columns: the printout is reproducible).

    AUC, cut and lambda to ``digits`` decimals; significances, yields and average precision (which
    span orders of magnitude) to ``digits`` significant figures.
    """
    out = evals[[c for c in COLUMNS if c in evals.columns]].copy()
    relative = ("auc_error", "average_precision", "max_significance", "significance_error", "nsig", "nbkg")
    for col in out.columns[1:]:
        values = pd.to_numeric(out[col])
        if col in relative:
            out[col] = [float(f"{v:.{digits}g}") if pd.notna(v) else v for v in values]
        else:
            out[col] = values.round(digits)
    return out.reset_index(drop=True)


def significance_table(evals: pd.DataFrame) -> pd.DataFrame:
    """Per network: AUC +- its bootstrap error, Z +- its bootstrap error (cut chosen on validation events, quoted on test events),
    the weighted background b and the simulated background events behind it (the demo's final table).

    >>> significance_table(pd.DataFrame({"analysis": ["resolved"], "lambda": [1.0], "auc": [0.9312],
    ...     "auc_error": [0.0042], "max_significance": [3.456], "significance_error": [0.41], "nbkg": [812.3],
    ...     "nbkg_mc_events": [57]})).iloc[0][["AUC", "Z"]].tolist()
    ['0.931 +- 0.0042', '3.46 +- 0.41']
    """
    cols = ["analysis", "lambda", "AUC", "Z", "nbkg", "simulated bkg events"]
    if evals.empty:
        return pd.DataFrame(columns=cols)
    err = evals["significance_error"] if "significance_error" in evals else pd.Series(float("nan"), evals.index)
    auc_err = evals["auc_error"] if "auc_error" in evals else pd.Series(float("nan"), evals.index)
    mc = evals["nbkg_mc_events"] if "nbkg_mc_events" in evals else pd.Series(float("nan"), evals.index)
    return pd.DataFrame({
        "analysis": evals["analysis"], "lambda": evals["lambda"],
        "AUC": [_pm(a, e, 3) for a, e in zip(pd.to_numeric(evals["auc"]), auc_err)],
        "Z": [f"{z:.3g} +- {e:.2g}" if pd.notna(e) else f"{z:.3g}" for z, e in zip(evals["max_significance"], err)],
        "nbkg": [f"{b:.4g}" for b in evals["nbkg"]],
        "simulated bkg events": ["" if pd.isna(n) else str(int(n)) for n in mc],
    }).reset_index(drop=True)


def _pm(value: float, error: float, decimals: int) -> str:
    """``value +- error`` with ``decimals`` decimals for the value, two significant figures for the error.

    >>> _pm(0.93124, 0.00421, 3), _pm(0.93124, float("nan"), 3)
    ('0.931 +- 0.0042', '0.931')
    """
    return f"{value:.{decimals}f} +- {error:.2g}" if pd.notna(error) else f"{value:.{decimals}f}"
