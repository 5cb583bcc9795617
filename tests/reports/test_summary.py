"""hhnb.reports.summary: an empty record, then two evaluations: best table, Z strings and the plot."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_summary_report(tmp_path):
    from hhnb.io import record
    from hhnb.reports import summary

    path = tmp_path / "r.sqlite"
    empty = summary.make(path, outdir=tmp_path / "s")
    assert empty.empty and empty.written == []
    for kl, z in ((1.0, 2.5), (10.0, 4.0)):
        record.add({"analysis": "resolved", "lambda": kl, "auc": 0.9, "max_significance": z,
                    "significance_error": 0.3, "nbkg": 100.0, "nbkg_mc_events": 40, "nsig": 20.0,
                    "best_cut": 0.9, "source": "evaluate"}, path)
    rep = summary.make(path, outdir=tmp_path / "s")
    assert rep.best_table["lambda"].tolist() == [10.0]
    assert rep.significance["Z"].tolist() == ["2.5 +- 0.3", "4 +- 0.3"]
    assert rep.significance["simulated bkg events"].tolist() == ["40", "40"]
    assert "significance_error" in rep.table.columns and "nbkg_mc_events" in rep.table.columns
    assert (tmp_path / "s" / "metrics_vs_lambda.png").exists()
    assert rep.background["Z, bkg from CRs (SR)"].str.startswith("scores file").all()  # no scores saved here
    assert rep.background["Z, MC bkg (all masses, record)"].tolist() == ["2.5 +- 0.3", "4 +- 0.3"]


def _scored(tmp_path):
    """Saved scores of a mass-independent network and the constraints report that the templates come from."""
    import numpy as np
    import pandas as pd

    from hhnb import layout
    from hhnb.io import artifacts
    from hhnb.reports import constraints as constraints_report
    from hhnb.studies import constraints

    rng = np.random.default_rng(7)
    n = 60_000
    sig = np.arange(n) < 3000
    m1, m2 = rng.uniform(60, 180, n), rng.uniform(60, 180, n)
    m1[sig], m2[sig] = 120.0, 120.0
    scores = pd.DataFrame({"score_sig": np.where(sig, 0.9, rng.uniform(size=n)), "label": np.where(sig, 0, 1),
                           "sample": np.where(sig, "hh", np.where(np.arange(n) % 5 == 0, "ttbar", "qcd_4b")),
                           "weight": np.where(sig, 0.01, 10.0), "event": np.arange(n), "is_test": True,
                           "is_val": np.arange(n) % 2 == 0, "h1_M": m1, "h2_M": m2,
                           "m_hh": rng.uniform(200, 500, n)})
    artifacts.write_scores(layout.scores_path(tmp_path, "resolved", 1.0), scores)
    bkg = scores[scores["label"] != 0]
    # a physical signal: per event w(kl) = 0.5 (1 - 0.8 kl x + 0.3 kl^2 x^2) > 0, x = (m_hh - 200) / 300
    m = np.linspace(205, 495, 300)
    x = (m - 200) / 300
    sig_frames = [pd.DataFrame({"weight": 0.5 * (1 - 0.8 * k * x + 0.3 * (k * x) ** 2), "score_sig": 1.0,
                                "h1_M": 120.0, "h2_M": 120.0, "m_hh": m}) for k in (0.0, 1.0, 2.45)]
    t = constraints.build_templates("resolved", [200, 250, 300, 350, 400, 500], bkg, sig_frames, (0.0, 1.0, 2.45))
    kl = np.linspace(-20, 20, 41)
    rep = constraints_report.ConstraintsReport(
        ("resolved",), (1.0,), {(1.0, "resolved"): t},
        {(1.0, 0.0, c): constraints.chi2_scan([t], kl, name=c) for c in ("resolved", "combined")},
        {(1.0, 0.0, c): s for c, s in zip(("resolved", "combined"), constraints.category_scans([t], kl))}, ())
    return scores, rep


def test_intervals_with_the_background_from_control_regions(tmp_path, monkeypatch):
    from hhnb.reports import constraints as constraints_report
    from hhnb.reports import summary

    _, rep = _scored(tmp_path)
    seen = {}
    monkeypatch.setattr(constraints_report, "make", lambda cats, nets, **kw: seen.update(cats=cats, **kw) or rep)
    out = summary.intervals(["resolved", "tthh"], 1.0, models_dir=tmp_path, points=41, pyhf_points=41, log=print)
    assert seen["cats"] == ["resolved"] and seen["pyhf_points"] == 41
    t = out.table
    assert list(t.columns) == ["resolved"]
    assert t.index.tolist() == [summary.HEADLINE, "bkg from CRs, chi2 (f = non-closure)",
                                "bkg from CRs, chi2 (f = 0, statistics only)", "MC bkg, pyhf (MC stat. profiled)",
                                "MC bkg, chi2 (no MC error)", "paper (arXiv:2004.04240, MC bkg, chi2)"]
    assert t.loc["paper (arXiv:2004.04240, MC bkg, chi2)", "resolved"] == "[-0.68, 7.1]"
    assert t.loc["MC bkg, chi2 (no MC error)", "resolved"] == str(rep.chi2[(1.0, 0.0, "resolved")].interval())
    c = out.cr[0]
    assert abs(c.estimate.closure - 1) < 3 * c.estimate.closure_error  # an independent score closes
    assert out.closure_table()["category"].tolist() == ["resolved"]
    assert "open" not in t.loc[summary.HEADLINE, "resolved"]  # the data-like CR statistics close the interval
