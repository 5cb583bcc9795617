"""Issue 12 items 1-2: measure the toy's goals at the demo's default size (not a test; minutes).

    .venv/bin/python benchmarks/toy_goals.py [--seed N] [--events N] [--analyses resolved,boosted,...] [--workdir DIR]

Generates the toy at ``defaults.EVENTS`` per sample (lambda 1), trains each analysis with the demo's
settings, and prints per analysis: test AUC (weighted); the best cut as ``hhnb.stats.significance.significance``
defines it (chosen on the validation events: Asimov Z with the background's MC error sqrt(sum w^2) in
sigma_b, >= 10 simulated background events), quoted on the test events: Z, s, b with bootstrap errors,
simulated and effective background events and sqrt(sum w^2)/sum w; and the SHAP ranking
(shap.GradientExplainer on the signal output) with events drawn proportionally to |weight| within each
class, classes balanced. Each analysis ends with its issue-12 goals, one 'ok'/'MISSED' line each; ttHH is
also quoted at the cut chosen as the older study chose it (Z without the MC error) beside the study's ranges.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from hhnb.config import analyses as config
from hhnb.config import defaults
from hhnb.stats import metrics, significance
from hhnb.studies import importance
from hhnb.toy.generate import generate

PUBLISHED = {"resolved": ["h1_j1_BTag", "h1_j2_BTag", "h2_j1_BTag", "h2_j2_BTag", "m_hh", "h1_j1_j2_dR"],
             "boosted": ["h1_Pt", "m_hh", "h1_j1_j2_dR", "h1_M"]}
# Issue 12 item 2: the resolved top 5 holds >= 3 of these (and neither pT_hh nor met_Et in the top 3);
# the boosted top 5 holds >= 2 of PUBLISHED["boosted"].
RESOLVED_GOAL = {"h1_j1_BTag", "h1_j2_BTag", "h2_j1_BTag", "h2_j2_BTag", "m_hh", "h1_j1_j2_dR", "h1_M", "h2_M"}
MC_ERROR_GOAL = 0.20  # relative MC error of the background at every best cut (issue 12 item 1)
# The older ttHH Keras study (docs/physics.md section 3): AUC, maximum significance, nsig, nbkg. Z spans its
# two results (2.18-2.29 with nsig 86-115 and nbkg 1419-2590; about 1.0 for the 75-input network, whose nsig and
# nbkg are not quoted); b spans what Z = s / sqrt(b) allows with s and Z in those ranges: from the quoted
# 1419 (~ (86 / 2.29)^2 = 1410) up to (115 / 1.0)^2 = 13225.
TTHH_STUDY = {"auc": (0.9336, 0.949), "z": (1.0, 2.29), "s": (86.0, 115.0), "b": (1419.0, 13225.0)}


def goal_lines(name: str, res: dict) -> list[str]:
    """The issue-12 goals measured on one analysis: one 'ok'/'MISSED' line each."""
    def mark(ok: bool) -> str:
        return "ok    " if ok else "MISSED"

    top = [f for f, _ in res["shap"]]
    lines = [f"{mark(res['rel_mc_err'] <= MC_ERROR_GOAL)} rel. MC error {100 * res['rel_mc_err']:.1f} % "
             f"<= {100 * MC_ERROR_GOAL:.0f} %"]
    if name == "resolved":
        n = len(set(top[:5]) & RESOLVED_GOAL)
        lines.append(f"{mark(n >= 3)} SHAP top 5 holds {n} of the b-tags/m_hh/h1_j1_j2_dR/h1_M/h2_M (>= 3)")
        bad = {"pT_hh", "met_Et"} & set(top[:3])
        lines.append(f"{mark(not bad)} neither pT_hh nor met_Et in the SHAP top 3 ({', '.join(top[:3])})")
        lines.append(f"{mark(0.85 <= res['auc'] <= 0.97)} test AUC {res['auc']:.3f} in 0.85-0.97")
    if name == "boosted":
        n = len(set(top[:5]) & set(PUBLISHED["boosted"]))
        lines.append(f"{mark(n >= 2)} SHAP top 5 holds {n} of h1_Pt/m_hh/h1_j1_j2_dR/h1_M (>= 2)")
    if name == "tthh":
        st = res["study_max"]
        lines.append("(the study's procedure: maximum over the test events' thresholds, Z without MC error, "
                     f">= {significance.DEFAULT_MIN_BKG_MC} simulated background events; signal efficiency "
                     f"{st['signal_eff']:.2f}, {st['n_bkg_mc']} simulated bkg, MC err {100 * st['rel_mc_err']:.1f} %)")
        for key, err in (("z", "z_no_mc_err"), ("s", "s_err"), ("b", "b_err")):
            value = st["z_no_mc" if key == "z" else key]
            lo, hi = TTHH_STUDY[key]
            label = "maximum Z (without MC error)" if key == "z" else key
            lines.append(f"{mark(lo <= value <= hi)} {label} {value:.4g} +- {st[err]:.2g} (bootstrap), "
                         f"study {lo:g}-{hi:g}")
        lo, hi = TTHH_STUDY["auc"]
        lines.append(f"(info) AUC {res['auc']:.3f}, study {lo:g}-{hi:g} (not a goal)")
        lines.append(f"(info) hhnb's quote (cut chosen on the validation events, quoted on the test events): "
                     f"Z without MC error {res['z_no_mc']:.2f}, s {res['s']:.1f}, b {res['b']:.0f}")
    return lines


def physical_draw(label: np.ndarray, weight: np.ndarray, n_per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Indices drawn with probability proportional to |weight| within each class, n_per_class each."""
    out = []
    for k in np.unique(label[label >= 0]):
        idx = np.flatnonzero(label == k)
        p = np.abs(weight[idx]) / np.abs(weight[idx]).sum()
        out.append(rng.choice(idx, n_per_class, replace=True, p=p))
    return np.concatenate(out)


def _columns(scores) -> tuple[np.ndarray, ...]:
    """Test and validation flags, sample names, weights, signal flags and discriminant of a scores table."""
    return (scores["is_test"].to_numpy(bool), scores["is_val"].to_numpy(bool),
            scores["sample"].astype(str).to_numpy(), scores["weight"].to_numpy(float),
            scores["label"].to_numpy() == 0, scores["discriminant"].to_numpy(float))


def best_cut(scores) -> dict:
    """The best cut as ``hhnb.stats.significance.significance`` defines it (``evaluation.evaluate``'s):
    chosen on the validation events (Asimov Z with the MC error sqrt(sum w^2) in sigma_b, >= 10
    simulated background events), quoted on the test events with bootstrap errors; plus the
    background's simulated and effective event counts and relative MC error at that cut."""
    te, val, sample, w, sig, disc = _columns(scores)
    res = significance.significance(disc, sig, w, val, te, sample)
    q = res.quoted
    wq = significance.scaled_weights(w, sample, te)
    wb = wq[(disc[te] > q.cut) & ~sig[te]]
    n_eff = float(wb.sum() ** 2 / (wb**2).sum()) if len(wb) else 0.0
    return {"cut": q.cut, "z_val": float(res.choice.z[res.choice.index]), "z": q.z, "z_err": q.z_error,
            "z_no_mc": q.z_no_mc, "s": q.s, "s_err": q.s_error, "b": q.b, "b_err": q.b_error,
            "n_bkg_mc": q.n_bkg_mc, "n_bkg_eff": n_eff, "n_sig_mc": q.n_sig_mc,
            "rel_mc_err": q.b_mc_error / q.b if q.b > 0 else float("inf")}


def study_max(scores) -> dict:
    """The older ttHH study's own procedure on the test events: the maximum of Asimov Z *without* the MC
    error over every threshold (>= 10 simulated background events), taken on the events it is quoted on;
    Z, s and b at that threshold with their bootstrap errors (``significance.quote``).

    That is the like-for-like comparison with the study's maximum significance, nsig and nbkg. It is
    optimistic by construction (issue 12: a maximum tuned on its own events); hhnb quotes ``best_cut``.
    """
    te, _, sample, w, sig, disc = _columns(scores)
    wt = significance.scaled_weights(w, sample, te)
    y = significance.yields(disc[te], sig[te], wt, np.unique(disc[te]))
    enough = (y.n_bkg_mc >= significance.DEFAULT_MIN_BKG_MC) & (y.b > 0)
    z = np.where(enough, significance.asimov_z(np.clip(y.s, 0, None), y.b), 0.0)
    q = significance.quote(disc[te], sig[te], wt, float(y.cuts[int(np.argmax(z))]))
    return {"cut": q.cut, "z_no_mc": q.z_no_mc, "z_no_mc_err": q.z_no_mc_error, "s": q.s, "s_err": q.s_error,
            "b": q.b, "b_err": q.b_error, "n_bkg_mc": q.n_bkg_mc, "rel_mc_err": q.b_rel_mc_error,
            "signal_eff": q.s / float(wt[sig[te]].sum())}


def mc_error_at_efficiency(scores, efficiencies=(0.5, 0.2, 0.05)) -> dict:
    """Relative MC error sqrt(sum w^2)/sum w of the test background at cuts keeping a signal fraction.

    A readout of the background's MC density where the analysis cuts that does not depend on a
    (noisy) optimiser: the cut keeps ``eff`` of the weighted test signal.
    """
    te = scores["is_test"].to_numpy(bool)
    sample = scores["sample"].astype(str).to_numpy()
    w = metrics.luminosity_weights(scores["weight"].to_numpy(float), sample, te)
    sig = scores["label"].to_numpy()[te] == 0
    d = scores["discriminant"].to_numpy(float)[te]
    order = np.argsort(-d[sig])
    cum = np.cumsum(w[sig][order]) / w[sig].sum()
    out = {}
    for eff in efficiencies:
        cut = d[sig][order][min(np.searchsorted(cum, eff), len(order) - 1)]
        wb = w[~sig][d[~sig] >= cut]
        out[f"eff{eff:g}"] = (int(len(wb)), float(np.sqrt((wb**2).sum()) / wb.sum()) if wb.sum() > 0 else float("inf"))
    return out


def shap_top(run, n_per_class: int = 300, seed: int = 1) -> list[tuple[str, float]]:
    """Mean |SHAP| of the signal output on the physical, class-balanced population."""
    sc = run.scores
    feats = run.card["features"]
    rng = np.random.default_rng(seed)
    lab = sc["label"].to_numpy()
    w = sc["weight"].to_numpy(float)
    te = sc["is_test"].to_numpy(bool)
    ex = physical_draw(np.where(te, lab, -1), np.where(te, w, 0.0), n_per_class, rng)
    trn = ~te
    ref = physical_draw(np.where(trn, lab, -1), np.where(trn, w, 0.0), 100, rng)
    x = sc[feats].to_numpy(np.float32)
    vals = importance.explain(run.result.model, x[ex], x[ref], "gradient", output=0, seed=seed)
    rank = importance.ranking(vals, feats)
    return list(zip(rank["feature"], rank["mean_abs_shap"].round(5)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=defaults.EVENTS)
    ap.add_argument("--seed", type=int, default=defaults.SEED, help="generator seed")
    ap.add_argument("--analyses", default="resolved,intermediate,boosted,tthh")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--reuse", action="store_true", help="keep ntuples already in --workdir")
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args()
    analyses = [a for a in args.analyses.split(",") if a]
    work = Path(args.workdir or tempfile.mkdtemp(prefix="toy_goals_"))
    t0 = time.perf_counter()
    written = generate(work / "data", analyses=analyses, lambdas=[1.0], events=args.events, seed=args.seed,
                       progress=False, skip_existing=args.reuse)
    t_gen = time.perf_counter() - t0
    print(f"generation: {t_gen:.1f} s for {len(written)} files (events={args.events})", flush=True)
    for w in written:
        print(f"  {w.analysis:13s} {w.sample:9s} events {w.events:6d} generated {w.generated:9d} "
              f"yield {w.yield_:.4g}", flush=True)

    from hhnb.config.training import HyperParameters
    from hhnb.nn.training import train
    from hhnb.workflow.nbsetup import notebook_parameters

    nb = notebook_parameters("train")  # the demo's settings: train.ipynb's parameters

    results = {"generation_s": t_gen, "events": args.events}
    for name in analyses:
        ana = config.analysis(name)
        hyper = HyperParameters.scaled(ana.learning_rate, epochs=nb["epochs"], batch_size=nb["batch_size"])
        t1 = time.perf_counter()
        run = train(name, 1.0, data_dir=work / "data", models_dir=work / "models", hyper=hyper,
                    seed=nb["seed"], folds=1)
        cut = best_cut(run.scores)
        top = shap_top(run)
        fixed = mc_error_at_efficiency(run.scores)
        res = {"auc": run.card["metrics"]["test_auc"], **cut, "shap": top[:8], "mc_err_at_signal_eff": fixed,
               "train_s": time.perf_counter() - t1}
        if name == "tthh":
            res["study_max"] = study_max(run.scores)
        results[name] = res
        print(f"\n== {name}: test AUC {res['auc']:.4f}  (train {res['train_s']:.0f} s)")
        print(f"   best cut {cut['cut']:.3f} (chosen on validation, Z_val {cut['z_val']:.2f}); test: "
              f"Z {cut['z']:.2f} +- {cut['z_err']:.2f} (without MC err {cut['z_no_mc']:.2f}), "
              f"s {cut['s']:.1f} +- {cut['s_err']:.1f}, b {cut['b']:.1f} +- {cut['b_err']:.1f}, "
              f"simulated bkg {cut['n_bkg_mc']}, effective {cut['n_bkg_eff']:.1f}, "
              f"MC err {100 * cut['rel_mc_err']:.1f} %")
        print("   MC err at fixed signal efficiency (all test events): " + ", ".join(
            f"{k}: {n} sim. bkg, {100 * e:.1f} %" for k, (n, e) in fixed.items()))
        print("   SHAP top 8: " + ", ".join(f"{f} {v:.4f}" for f, v in top[:8]))
        if name in PUBLISHED:
            print("   published:  " + ", ".join(PUBLISHED[name]))
        for line in goal_lines(name, res):
            print("   goal " + line, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
