"""Evaluate a trained network from its saved scores: ROC, PR, overtraining, significance scan.

Reads only the scores table (no TensorFlow); ``record_row`` turns the result into a
run-record row and ``roc_table`` into the ROC CSV that ``hhnb roc`` reads back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hhnb.errors import InputFileError, MissingArtifactError
from hhnb.io import record
from hhnb.io.atomic import atomic_path
from hhnb.studies import metrics


@dataclass(frozen=True)
class Evaluation:
    """Headline numbers of one network on its test set, at the analysis luminosity."""

    score: str
    auc: float
    average_precision: float
    ks_signal: float
    ks_background: float
    cut: float
    confusion: np.ndarray
    scan: metrics.Scan
    scan_simple: metrics.Scan
    roc: metrics.Curve
    pr: metrics.Curve


def evaluate(scores: pd.DataFrame, score: str = "score_sig", cut: float = 0.75, rel_unc: float = 0.0,
             min_bkg: float = 10.0, bins: int = 100_000, method: str = "asimov", min_bkg_mc: int = 0) -> Evaluation:
    """Evaluate ``score`` on the test events (weights scaled to the full luminosity)."""
    if score not in scores:
        raise KeyError(f"scores table has no column {score!r}: columns are {', '.join(scores.columns)}")
    test = scores["is_test"].to_numpy(bool)
    train = ~test & ~scores.get("is_val", pd.Series(False, index=scores.index)).to_numpy(bool)
    sig = scores["label"].to_numpy() == 0
    s = scores[score].to_numpy(float)
    w = metrics.luminosity_weights(scores["weight"].to_numpy(), scores["sample"].astype(str).to_numpy(), test)
    y = sig[test].astype(int)
    roc = metrics.roc(y, s[test], w)
    pr = metrics.precision_recall(y, s[test], w)
    scan = metrics.significance_scan(s[test], sig[test], w, bins=bins, min_bkg=min_bkg, rel_unc=rel_unc,
                                     method=method, min_bkg_mc=min_bkg_mc)
    simple = metrics.significance_scan(s[test], sig[test], w, bins=bins, min_bkg=min_bkg, method="simple",
                                       min_bkg_mc=min_bkg_mc)
    return Evaluation(
        score=score, auc=roc.area, average_precision=pr.area,
        ks_signal=metrics.ks_overtraining(s[train & sig], s[test & sig]),
        ks_background=metrics.ks_overtraining(s[train & ~sig], s[test & ~sig]),
        cut=cut, confusion=metrics.confusion(y, s[test], cut), scan=scan, scan_simple=simple, roc=roc, pr=pr,
    )


def summary(ev: Evaluation, digits: int = 4) -> pd.DataFrame:
    """The headline numbers as a one-column table (rounded, for printing)."""
    rows = {
        "AUC": ev.auc, "average precision": ev.average_precision,
        "KS p-value signal (train vs test)": ev.ks_signal, "KS p-value background": ev.ks_background,
        "best cut": ev.scan.best_cut, f"max significance ({ev.scan.method})": ev.scan.best_z,
        "nsig": ev.scan.best_nsig, "nbkg": ev.scan.best_nbkg,
        "background MC events at the best cut": ev.scan.best_nbkg_mc,
        "max s/sqrt(b)": ev.scan_simple.best_z,
    }
    return pd.DataFrame({"value": {k: float(np.format_float_positional(v, precision=digits, fractional=False))
                                   for k, v in rows.items()}})


def record_row(ev: Evaluation, card: dict[str, Any], source: str = "evaluate") -> dict[str, Any]:
    """One run-record row from an evaluation and the model's card."""
    hp = card.get("hyperparameters", {})
    return {
        "analysis": card["analysis"], "lambda": float(card["lambda"]), "tag": card.get("tag"),
        "architecture": record.architecture(hp.get("widths", [])), "n_inputs": len(card["features"]),
        "n_classes": len(card["classes"]), "learning_rate": hp.get("learning_rate"),
        "batch_size": hp.get("batch_size"), "dropout": hp.get("dropout"), "epochs": card.get("epochs_run"),
        "optimizer": hp.get("optimizer"), "auc": round(ev.auc, 6), "average_precision": round(ev.average_precision, 6),
        "train_time_s": card.get("training_time_s"), "confusion": ev.confusion.astype(int).tolist(),
        "best_cut": ev.scan.best_cut, "max_significance": ev.scan.best_z, "nsig": ev.scan.best_nsig,
        "nbkg": ev.scan.best_nbkg, "seed": card.get("seed"), "source": source,
    }


def roc_table(ev: Evaluation, points: int = 2000) -> pd.DataFrame:
    """ROC + significance per score cut (thinned to ``points`` rows), the CSV ``hhnb roc`` reads."""
    scan = ev.scan
    stot, btot = scan.nsig[0], scan.nbkg[0]
    idx = np.unique(np.linspace(0, len(scan.cuts) - 1, points).astype(int))
    best = int(np.argmax(scan.z))
    idx = np.unique(np.append(idx, best))
    return pd.DataFrame({
        "score_cut": scan.cuts[idx], "sig_eff": scan.nsig[idx] / stot, "bkg_eff": scan.nbkg[idx] / btot,
        "nsig": scan.nsig[idx], "nbkg": scan.nbkg[idx], "significance": scan.z[idx],
    })


def write_roc_csv(ev: Evaluation, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        roc_table(ev).to_csv(tmp, index=False, float_format="%.8g")
    return Path(path)


def read_roc_csv(path: str | Path) -> pd.DataFrame:
    """Read a ROC CSV written by ``write_roc_csv``; names the file and missing columns on error."""
    path = Path(path)
    if not path.exists():
        raise MissingArtifactError(f"ROC file {path} does not exist (the evaluate notebook writes it)")
    try:
        df = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' parser errors are ValueErrors
        raise InputFileError(f"ROC file {path} is not a readable CSV table: {type(exc).__name__}") from None
    need = {"score_cut", "sig_eff", "bkg_eff", "nsig", "nbkg", "significance"}
    if need - set(df.columns):
        raise InputFileError(f"{path}: missing column(s) {sorted(need - set(df.columns))}; expected {sorted(need)}")
    return df


def best_line(df: pd.DataFrame) -> str:
    """``Score = … Sign. = … nsig. = … nbkg. = …`` at the maximum significance, as rocCurve.py printed."""
    r = df.loc[df["significance"].idxmax()]
    return (f"Score = {r.score_cut:.4f}\nSign. = {r.significance:.4f}\n"
            f"nsig. = {r.nsig:.2f}\nnbkg. = {r.nbkg:.2f}")
