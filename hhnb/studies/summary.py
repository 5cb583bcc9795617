"""Across lambdas: the evaluated networks of the run record, the best one per analysis, a rounded table, and the
headline Z with the background from control regions (:mod:`hhnb.studies.background`) beside the MC-based one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hhnb import layout
from hhnb.errors import HHNBError, UserArgumentError
from hhnb.io import artifacts
from hhnb.stats import significance as _sig
from hhnb.studies import background as _background

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


def background_numbers(evals: pd.DataFrame, models_dir: str | Path | None = None, region: str = "box",
                       estimated: tuple[str, ...] | None = _background.ALL, n_boot: int = _sig.DEFAULT_N_BOOT,
                       seed: int = 1) -> pd.DataFrame:
    """Per evaluated network, at its recorded cut: Z with the background from control regions and the MC-based Z
    of the same signal-region events (:func:`hhnb.studies.background.quote_scores`), beside the run record's Z
    (MC background, no mass window). ``note`` says why a network has no control-region numbers (no masses, no
    scores, an empty region)."""
    rows = []
    models = layout.models_dir(models_dir)
    for _, ev in evals.iterrows():
        row = {"analysis": ev["analysis"], "lambda": float(ev["lambda"]), "cut": _number(ev, "best_cut"),
               "z_record": _number(ev, "max_significance"), "z_record_error": _number(ev, "significance_error"),
               "note": ""}
        if not np.isfinite(row["cut"]):
            rows.append({**row, "note": "no recorded cut"})
            continue
        try:
            q = _background.quote_scores(artifacts.read_scores(models, str(ev["analysis"]), float(ev["lambda"])),
                                         row["cut"], region, estimated, n_boot=n_boot, seed=seed)
        except HHNBError as exc:
            text = str(exc)
            rows.append({**row, "note": "no (m_h1, m_h2) plane in the scores" if "has no column" in text
                         else text.split(":")[0]})
            continue
        row.update({"z": q.z, "z_error": q.z_error, "z_stat": q.z_stat, "z_stat_error": q.z_stat_error, "s": q.s,
                    "s_error": q.s_error, "b": q.b, "sigma_b": q.sigma_b,
                    "data_like_error": q.estimated_data_error, "nonclosure": q.nonclosure, "closure": q.closure,
                    "closure_error": q.closure_error, "z_mc": q.z_mc, "z_mc_error": q.z_mc_error, "b_mc": q.b_mc,
                    "b_mc_error": q.b_mc_error})
        rows.append(row)
    return pd.DataFrame(rows)


def _number(row: pd.Series, col: str) -> float:
    """A run-record cell as a float (NaN where the column is missing or empty)."""
    value = row.get(col)
    return float(value) if value is not None and pd.notna(value) else float("nan")


def background_table(numbers: pd.DataFrame) -> pd.DataFrame:
    """The headline table: Z with the background from control regions (SR, sigma_b: data-like CR statistics and
    the measured non-closure), the same without the non-closure, then the MC-based Z of the same events and the
    run record's Z, all labelled.

    >>> background_table(pd.DataFrame({"analysis": ["resolved"], "lambda": [1.0], "cut": [0.9], "z": [0.2],
    ...     "z_error": [0.05], "z_stat": [0.9], "z_stat_error": [0.1], "s": [400.0], "b": [2e5], "sigma_b": [9e4],
    ...     "nonclosure": [0.46], "closure": [0.54],
    ...     "closure_error": [0.18], "z_mc": [0.005], "z_mc_error": [0.001], "b_mc": [4e5], "b_mc_error": [9e4],
    ...     "z_record": [0.004], "z_record_error": [0.001], "note": [""]})).iloc[0, 3:6].tolist()
    ['0.2 +- 0.05', '2e+05 +- 9e+04', '0.54 +- 0.18']
    """
    cols = ["analysis", "lambda", "cut", "Z, bkg from CRs (SR)", "b from CRs +- sigma_b", "closure (MC)",
            "Z, CRs without non-closure",
            "Z, MC bkg (SR)", "b MC +- MC error", "Z, MC bkg (all masses, record)"]
    if numbers.empty:
        return pd.DataFrame(columns=cols)
    out = []
    for _, r in numbers.iterrows():
        cr = pd.notna(r.get("z", np.nan))
        out.append([r["analysis"], r["lambda"], round(float(r["cut"]), 3),
                    f"{r['z']:.3g} +- {r['z_error']:.2g}" if cr else r["note"],
                    f"{r['b']:.3g} +- {r['sigma_b']:.2g}" if cr else "",
                    f"{r['closure']:.2f} +- {r['closure_error']:.2f}" if cr else "",
                    f"{r['z_stat']:.3g} +- {r['z_stat_error']:.2g}" if cr else "",
                    f"{r['z_mc']:.3g} +- {r['z_mc_error']:.2g}" if cr else "",
                    f"{r['b_mc']:.3g} +- {r['b_mc_error']:.2g}" if cr else "",
                    f"{r['z_record']:.3g} +- {r['z_record_error']:.2g}" if pd.notna(r["z_record_error"])
                    else f"{r['z_record']:.3g}"])
    return pd.DataFrame(out, columns=cols)
