"""Evaluate a trained network from its saved scores: ROC, PR, overtraining, significance with its errors.

Reads only the scores table (no TensorFlow); ``record_row`` turns the result into a
run-record row and ``roc_table`` into the ROC CSV that ``hhnb roc`` reads back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hhnb.errors import InputFileError, MissingArtifactError, UserArgumentError
from hhnb.io import record
from hhnb.io.atomic import atomic_path
from hhnb.stats import metrics, significance
from hhnb.studies import basis as _basis


@dataclass(frozen=True)
class Evaluation:
    """Headline numbers of one network, at the analysis luminosity.

    ROC, PR, confusion and the quoted significance use the quote-on (test) events; the cut is
    chosen on the choose-on (validation) events over a coarse grid (``significance.choice``). The
    fine ``scan`` curves (MC statistics in sigma_b) are drawn on the quote-on events: their maxima
    are tuned on the events they are shown on, so they are for drawing, never for quoting.
    """

    score: str
    auc: float  # weighted (physical population)
    average_precision: float  # weighted
    ks_signal: float  # weighted KS p-value, signal class, training vs test
    ks_background: float  # smallest weighted KS p-value among the background classes
    cut: float  # the fixed cut of the confusion matrix
    confusion: np.ndarray  # weighted yields [[TN, FP], [FN, TP]] at ``cut``
    scan: metrics.Scan
    scan_simple: metrics.Scan
    roc: metrics.Curve
    pr: metrics.Curve
    significance: significance.SignificanceResult | None = None
    average_precision_unweighted: float = float("nan")  # simulated events, for comparison only
    overtraining: pd.DataFrame | None = None  # weighted KS per class
    choose_on: str = "validation"
    quote_on: str = "test"
    auc_error: float = float("nan")  # Poisson-bootstrap standard deviation of ``auc`` (quote-on events)

    @property
    def quoted(self) -> significance.Significance:
        """Z, s, b with their errors at the chosen cut, on the quote-on events."""
        if self.significance is None:
            raise UserArgumentError("this evaluation has no quoted significance")
        return self.significance.quoted


def evaluate_arrays(score: np.ndarray, label: np.ndarray, weight: np.ndarray, sample: np.ndarray | None,
                    choose_on: np.ndarray, quote_on: np.ndarray, train: np.ndarray | None = None,
                    score_name: str = "score_sig", cut: float = 0.75, rel_unc: float = 0.0, min_bkg: float = 10.0,
                    bins: int = 100_000, method: str = "asimov", min_bkg_mc: int = significance.DEFAULT_MIN_BKG_MC,
                    n_cuts: int = significance.DEFAULT_N_CUTS, n_boot: int = significance.DEFAULT_N_BOOT, seed: int = 1,
                    choose_name: str = "validation", quote_name: str = "test",
                    classes: list[str] | None = None) -> Evaluation:
    """Evaluate one score from plain arrays: label 0 is signal; masks say where the cut is chosen and quoted.

    ``train`` (default: neither choose-on nor quote-on) is compared with ``quote_on`` in the
    per-class weighted KS overtraining test.
    """
    score = np.asarray(score, float)
    label = np.asarray(label)
    weight = np.asarray(weight, float)
    choose_on, quote_on = np.asarray(choose_on, bool), np.asarray(quote_on, bool)
    train = ~choose_on & ~quote_on if train is None else np.asarray(train, bool)
    sig = label == 0
    sig_result = significance.significance(score, sig, weight, choose_on, quote_on, sample, rel_unc=rel_unc,
                                    min_bkg_mc=min_bkg_mc, n_cuts=n_cuts, n_boot=n_boot, seed=seed)
    wq = significance.scaled_weights(weight, sample, quote_on)
    y = sig[quote_on].astype(int)
    roc = metrics.roc(y, score[quote_on], wq)
    pr = metrics.precision_recall(y, score[quote_on], wq)
    ap_unweighted = metrics.precision_recall(y, score[quote_on]).area
    auc_err = metrics.auc_error(y, score[quote_on], wq, n_boot=min(n_boot, 100), seed=seed)
    # fine curves on the quote-on events (their ROC is the ROC CSV's): for drawing, their maxima are tuned
    scan = metrics.significance_scan(score[quote_on], sig[quote_on], wq, bins=bins, min_bkg=min_bkg,
                                     rel_unc=rel_unc, method=method, min_bkg_mc=min_bkg_mc, mc_stat=True)
    simple = metrics.significance_scan(score[quote_on], sig[quote_on], wq, bins=bins, min_bkg=min_bkg,
                                       method="simple", min_bkg_mc=min_bkg_mc)
    # a k-fold set's scores are all out-of-fold: no training-set scores to compare (empty table)
    ot = (metrics.overtraining(score, label, weight, train, quote_on, classes) if train.any()
          else pd.DataFrame(columns=["class", "label", "train_events", "test_events", "ks_statistic", "ks_pvalue"]))
    bkg_p = ot.loc[ot["label"] != 0, "ks_pvalue"]
    return Evaluation(
        score=score_name, auc=roc.area, average_precision=pr.area,
        ks_signal=float(ot.loc[ot["label"] == 0, "ks_pvalue"].iloc[0]) if (ot["label"] == 0).any() else float("nan"),
        ks_background=float(bkg_p.min()) if len(bkg_p) else float("nan"),
        cut=cut, confusion=metrics.confusion(y, score[quote_on], cut, wq), scan=scan, scan_simple=simple, roc=roc,
        pr=pr, significance=sig_result, average_precision_unweighted=ap_unweighted, overtraining=ot,
        choose_on=choose_name, quote_on=quote_name, auc_error=auc_err,
    )


def evaluate(scores: pd.DataFrame, score: str = "score_sig", cut: float = 0.75, rel_unc: float = 0.0,
             min_bkg: float = 10.0, bins: int = 100_000, method: str = "asimov",
             min_bkg_mc: int = significance.DEFAULT_MIN_BKG_MC, n_cuts: int = significance.DEFAULT_N_CUTS,
             n_boot: int = significance.DEFAULT_N_BOOT, seed: int = 1, choose_on: str = "is_val",
             quote_on: str = "is_test", classes: list[str] | None = None) -> Evaluation:
    """Evaluate ``score`` of a scores table: cut chosen on ``choose_on`` events, numbers quoted on ``quote_on``.

    Defaults: the validation events (``is_val``) choose, the test events (``is_test``) quote;
    weights are scaled per sample to the full luminosity in each. Events in both sets (a k-fold
    set's scores: every event is out-of-fold and ``is_val`` marks the choosing half) only choose.
    """
    for col in (score, choose_on, quote_on, "label", "weight", "sample"):
        if col not in scores:
            raise UserArgumentError(f"scores table has no column {col!r}: columns are {', '.join(map(str, scores.columns))}"
                           + (" (retrain: older scores files lack the validation flag)" if col == "is_val" else ""))
    classes = classes or scores.attrs.get("classes")
    choose = scores[choose_on].to_numpy(bool)
    quote = scores[quote_on].to_numpy(bool) & ~choose
    train = ~choose & ~quote if "fold" not in scores else None
    return evaluate_arrays(
        scores[score].to_numpy(float), scores["label"].to_numpy(), scores["weight"].to_numpy(float),
        scores["sample"].astype(str).to_numpy(), choose, quote, train=train,
        score_name=score, cut=cut, rel_unc=rel_unc, min_bkg=min_bkg, bins=bins, method=method,
        min_bkg_mc=min_bkg_mc, n_cuts=n_cuts, n_boot=n_boot, seed=seed,
        choose_name="validation" if choose_on == "is_val" else choose_on,
        quote_name="test" if quote_on == "is_test" else quote_on, classes=classes)


def summary(ev: Evaluation, digits: int = 4) -> pd.DataFrame:
    """The headline numbers as a one-column table (rounded, for printing), each labelled with its population."""
    rows: dict[str, float] = {
        "AUC (weighted)": ev.auc, "AUC error (bootstrap)": ev.auc_error, "average precision (weighted)": ev.average_precision,
        "average precision (unweighted, simulated events)": ev.average_precision_unweighted,
        "KS p-value signal, train vs test (weighted)": ev.ks_signal,
        "KS p-value background, smallest per class (weighted)": ev.ks_background,
    }
    if ev.significance is not None:
        q, c = ev.significance.quoted, ev.significance.choice
        rows.update({
            f"cut (chosen on {ev.choose_on}, {len(c.cuts)} thresholds)": q.cut,
            f"Z Asimov, MC stat. in sigma_b ({ev.quote_on})": q.z, "Z error (bootstrap)": q.z_error,
            "Z without MC stat. (labelled: not for quoting)": q.z_no_mc, "Z without MC stat. error": q.z_no_mc_error,
            "s/sqrt(b)": q.s_over_sqrt_b, "nsig": q.s, "nsig error": q.s_error, "nbkg": q.b, "nbkg error": q.b_error,
            "nbkg MC error sqrt(sum w^2)": q.b_mc_error,
            "background simulated events at the cut": q.n_bkg_mc,
            "minimum simulated background events": c.min_bkg_mc, "relative systematic rel_unc": q.rel_unc,
        })
    rows.update({f"fine-scan max ({ev.scan.method}, tuned on {ev.quote_on}: curve only, not for quoting)":
                 ev.scan.best_z})
    return pd.DataFrame({"value": {k: float(np.format_float_positional(float(v), precision=digits, fractional=False))
                                   if np.isfinite(float(v)) else float("nan") for k, v in rows.items()}})


def record_row(ev: Evaluation, card: dict[str, Any], source: str = "evaluate") -> dict[str, Any]:
    """One run-record row from an evaluation and the model's card (significance: the quoted one, with errors)."""
    hp = card.get("hyperparameters", {})
    row: dict[str, Any] = {
        "analysis": card["analysis"], "lambda": float(card["lambda"]), "tag": card.get("tag"),
        "architecture": record.architecture(hp.get("widths", [])), "n_inputs": len(card["features"]),
        "n_classes": len(card["classes"]), "learning_rate": hp.get("learning_rate"),
        "batch_size": hp.get("batch_size"), "dropout": hp.get("dropout"), "epochs": card.get("epochs_run"),
        "optimizer": hp.get("optimizer"), "auc": round(ev.auc, 6),
        "auc_error": round(ev.auc_error, 6) if np.isfinite(ev.auc_error) else None,
        "average_precision": round(ev.average_precision, 6),
        "train_time_s": card.get("training_time_s"), "confusion": np.round(ev.confusion, 6).tolist(),
        "best_cut": ev.scan.best_cut, "max_significance": ev.scan.best_z, "nsig": ev.scan.best_nsig,
        "nbkg": ev.scan.best_nbkg, "seed": card.get("seed"), "source": source,
    }
    if ev.significance is not None:
        q = ev.significance.quoted
        row.update({
            "best_cut": q.cut, "max_significance": q.z, "significance_error": q.z_error,
            "significance_no_mc": q.z_no_mc, "significance_no_mc_error": q.z_no_mc_error,
            "nsig": q.s, "nsig_error": q.s_error, "nbkg": q.b, "nbkg_error": q.b_error, "nbkg_mc_error": q.b_mc_error,
            "nbkg_mc_events": q.n_bkg_mc, "min_bkg_mc": ev.significance.choice.min_bkg_mc, "rel_unc": q.rel_unc,
            "cut_chosen_on": ev.choose_on, "quoted_on": ev.quote_on,
            "average_precision_unweighted": round(ev.average_precision_unweighted, 6),
        })
    return row


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
    """``Score = … Sign. = … nsig. = … nbkg. = …`` at the maximum significance, as rocCurve.py printed.

    This maximum is tuned on the events of the curve: the quotable number is ``Evaluation.quoted``.
    """
    r = df.loc[df["significance"].idxmax()]
    return (f"Score = {r.score_cut:.4f}\nSign. = {r.significance:.4f}\n"
            f"nsig. = {r.nsig:.2f}\nnbkg. = {r.nbkg:.2f}\n"
            "(maximum of the fine scan: tuned on these events, not for quoting)")


def variation_z(varied: Any, kl: float, rel_unc: float = 0.0, digits: int = 4) -> pd.DataFrame:
    """Asimov Z after the selection for the nominal and each systematic variation up and down, and its shift.

    ``varied``: one category's ``constraint_inputs.VariedTemplates`` (histograms of the selected events); the
    signal at ``kl`` is the basis combination sum_i c_i(kl) signal_i (``hhnb.studies.basis``), the background
    the sum of the background samples; sigma_b = sqrt(sum w^2 + (rel_unc b)^2) (Cowan et al. 2011, as
    ``significance.asimov_z``). One row per version: s, b, Z and Z - Z(nominal).
    """
    c = _basis.coefficients(varied.basis, kl)

    def totals(h: dict) -> tuple[float, float, float]:
        s = float(sum(c[i] * np.sum(h[f"signal_{i}"].yields) for i in range(3)))
        bkg = [v for k, v in h.items() if not k.startswith("signal_")]
        b = float(sum(np.sum(v.yields) for v in bkg))
        var = float(sum(np.sum(v.variances) for v in bkg))
        return s, b, float(np.sqrt(var + (rel_unc * b) ** 2))

    versions = [("nominal", varied.nominal)]
    for src, (up, down) in varied.variations.items():
        versions += [(f"{src} up", up), (f"{src} down", down)]
    rows = []
    for name, h in versions:
        s, b, sb = totals(h)
        rows.append({"version": name, "s": s, "b": b, "Z": float(significance.asimov_z(s, b, sb))})
    out = pd.DataFrame(rows).set_index("version")
    out["Z shift"] = out["Z"] - out.loc["nominal", "Z"]
    return out.round(digits)
