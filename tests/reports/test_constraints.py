"""hhnb.reports.constraints: one category, one tiny network trained on demand, chi2 and pyhf intervals."""

from __future__ import annotations

import pytest

from hhnb.reports import constraints as report
from hhnb.studies import constraints, systematics


@pytest.mark.slow
def test_make_scans_and_tables(tmp_path):
    notes = []
    rep = report.make(("boosted",), (1.0,), data_dir=tmp_path / "data", models_dir=tmp_path / "models",
                      basis_events=400, systematics=(0.0, 0.05), points=41, pyhf_points=9, train_epochs=1,
                      train_max_events=400, with_systematics=True, log=notes.append)
    assert notes and "trained the missing boosted network at kl = 1" in notes[0]
    assert set(rep.chi2) == {(1.0, f, g) for f in (0.0, 0.05) for g in ("boosted", "combined")}
    assert set(rep.pyhf) == {(1.0, 0.0, "boosted"), (1.0, 0.0, "combined")}
    # one category: the combination is the category itself; q = 0 at the Asimov point kl = 1
    b, c = rep.chi2[(1.0, 0.0, "boosted")], rep.chi2[(1.0, 0.0, "combined")]
    assert (b.q == c.q).all() and min(b.q) == pytest.approx(0.0, abs=1e-9)
    # a background systematic can only widen the chi2 interval
    assert (rep.chi2[(1.0, 0.05, "combined")].q <= c.q + 1e-12).all()
    table = rep.intervals("chi2", constraints.CLS[0])
    assert "kl = 1" in table.to_string() and "published" in table.to_string().lower()
    assert len(rep.by_systematic()) == 2
    # the template table: one row per m_hh bin, its yields those of the templates
    t = rep.templates[(1.0, "boosted")]
    rows = rep.template_table()
    assert len(rows) == len(t.edges) - 1
    assert rows["background MC events"].tolist() == t.background_mc.tolist()
    assert rows["background"].sum() == pytest.approx(t.background.sum(), rel=1e-3)
    # the likelihood with the toy's systematic variations (JES, JER, btag, cross sections): three rows, impacts
    levels = [n for n, _, _ in systematics.LEVELS]
    assert set(rep.levels) == {(1.0, n) for n in levels}
    table = rep.systematics_table()
    assert list(table.index) == [f"{n}, MC bkg" for n in levels] + [report.CR_ROW]
    assert "combined (published, f = 0.3 %)" in table.columns
    v = rep.varied[1.0][0]
    assert {"JES", "JER", "btag"} <= set(v.variations) and v.norm_uncertainties
    imp = rep.impact_table(background="mc")
    assert {"JES", "JER", "btag"} <= set(imp.index) and (imp["impact"].diff().dropna() <= 1e-12).all()
    assert rep.impacts[1.0].kl_hat == pytest.approx(1.0, abs=1e-4)
    # with the background from control regions: the detector variations act on the signal only, the estimate
    # carries its non-closure; the fit still returns kl = 1 on its Asimov data
    imp_cr = rep.impact_table()
    assert {"JES", "norm_background_cr"} <= set(imp_cr.index) and "norm_qcd_4b" not in imp_cr.index
    assert rep.impacts_cr[1.0].kl_hat == pytest.approx(1.0, abs=1e-4)
    line = rep.combined_with_systematics()
    assert "with all systematics" in line and "control regions" in line and "[-0.8, 6.6]" in line
    # the full level can only widen the combined curve
    full, stat = rep.levels[(1.0, levels[-1])][-1], rep.levels[(1.0, levels[0])][-1]
    assert (full.q <= stat.q + 1e-6).all()
