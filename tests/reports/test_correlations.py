"""hhnb.reports.correlations: score-mass coefficients, sculpting, files written, a missing scores file named."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_correlations_report(tiny_run, tmp_path):
    from hhnb.reports import correlations

    rep = correlations.make("resolved", 1.0, models_dir=tiny_run.model_path.parent, outdir=tmp_path,
                            n_permutations=20)
    names = {p.name for p in rep.written}
    assert {"score_vs_m_hh.png", "score_vs_h1_M.pdf", "sculpting.png", "coefficients.csv"} <= names
    shown = rep.shown()
    assert list(shown.columns) == ["sample", "mass", "events", "n_eff", "pearson", "dcor2", "dcor_pvalue"]
    assert shown["dcor_pvalue"].between(0, 1).all() and shown["pearson"].between(-1, 1).all()
    assert rep.sculpting["bkg_efficiency"].between(0, 1).all()


def test_correlations_report_names_missing_scores_file(tmp_path):
    from hhnb.reports import correlations

    with pytest.raises(FileNotFoundError, match=r"nn_resolved_SlfCoup_1.0_scores.parquet.*train"):
        correlations.make("resolved", 1.0, models_dir=tmp_path, outdir=tmp_path)
