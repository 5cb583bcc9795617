"""hhnb.reports.constraints: one category, one tiny network trained on demand, chi2 and pyhf intervals."""

from __future__ import annotations

import pytest

from hhnb.reports import constraints as report
from hhnb.studies import constraints


@pytest.mark.slow
def test_make_scans_and_tables(tmp_path):
    notes = []
    rep = report.make(("boosted",), (1.0,), data_dir=tmp_path / "data", models_dir=tmp_path / "models",
                      basis_events=400, systematics=(0.0, 0.05), points=41, pyhf_points=9, train_epochs=1,
                      train_max_events=400, log=notes.append)
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
