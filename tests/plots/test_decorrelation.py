"""hhnb.plots.decorrelation: the trade-off figure (AUC and closure against the DisCo strength)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from hhnb.plots import decorrelation  # noqa: E402


def test_two_labelled_panels_with_the_flat_band_and_the_closure_line():
    table = pd.DataFrame({"method": ["none", "disco", "disco", "flat"], "strength": [0.0, 1.0, 10.0, 0.0],
                          "auc": [0.91, 0.90, 0.88, 0.84], "auc_error": [0.01] * 4,
                          "closure": [1.5, 1.2, 1.1, 1.2], "closure_error": [0.4, 0.3, 0.3, 0.4]})
    fig = decorrelation.tradeoff(table, lumi=3000.0)
    auc, closure = fig.axes[:2]
    assert auc.get_ylabel().startswith("Weighted AUC") and closure.get_ylabel().startswith("Multijet closure")
    assert auc.get_xscale() == "symlog"
    assert any(line.get_ydata()[0] == 1.0 for line in closure.get_lines())  # the closure = 1 reference
    assert len(auc.patches) == 1 and len(closure.patches) == 1  # the flat network's band
    legend = {t.get_text() for t in auc.get_legend().get_texts()}
    assert legend == {"DisCo (strength 0: plain)", "flat mass weights (band: error)"}
