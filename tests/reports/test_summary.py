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
