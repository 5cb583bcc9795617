"""hhnb.plots.comparison: the parameterised network against the dedicated ones, AUC and Z against kappa_lambda."""

from __future__ import annotations

import figures
import numpy as np
import pandas as pd

from hhnb.plots import comparison as pcmp


def _table():
    """Rows as hhnb.studies.comparison.compare writes them, lambda 2.0 held out of the parameterised training."""
    return pd.DataFrame({"lambda": [1.0, 2.0, 10.0], "held out": [False, True, False],
                         "AUC dedicated": [0.95, 0.94, 0.97], "AUC dedicated error": [0.002, 0.003, 0.002],
                         "AUC parameterised": [0.951, 0.945, 0.968], "AUC parameterised error": [0.002, 0.003, 0.002],
                         "Z dedicated": [2.0, 2.1, 3.5], "Z dedicated error": [0.1, 0.1, 0.2],
                         "Z parameterised": [2.1, 2.3, 3.4], "Z parameterised error": [0.1, 0.1, 0.2]})


def test_figure_has_labelled_axes_and_no_mathtext_warning(caplog, tmp_path):
    figures.check_labelled_axes(lambda: pcmp.versus_lambda(_table(), lumi=3000.0), caplog, tmp_path,
                                (r"\kappa_\lambda", r"[$\sigma$]"))


def test_figure_is_at_most_two_panels_wide():
    figures.check_at_most_two_panels_wide(figures.draw(lambda: pcmp.versus_lambda(_table())))


def _series(ax):
    """label -> (x, y, marker face colour) of each error-bar series of a panel."""
    return {c.get_label(): (c.lines[0].get_xdata(), c.lines[0].get_ydata(), c.lines[0].get_markerfacecolor())
            for c in ax.containers}


def test_held_out_lambdas_drawn_open_and_the_two_networks_side_by_side():
    fig = pcmp.versus_lambda(_table(), lumi=3000.0)
    auc, z = fig.axes[:2]
    s = _series(auc)
    assert sorted(s) == ["dedicated", "dedicated (nearest network) at a held-out lambda", "parameterised",
                         "parameterised at a held-out lambda"]
    np.testing.assert_allclose(s["dedicated"][0], [1.0 - 0.075, 10.0 - 0.075])  # shifted apart by 0.15
    np.testing.assert_allclose(s["parameterised"][0], [1.0 + 0.075, 10.0 + 0.075])
    np.testing.assert_allclose(s["parameterised at a held-out lambda"][1], [0.945])
    assert s["parameterised at a held-out lambda"][2] == "none" and s["parameterised"][2] != "none"
    np.testing.assert_allclose(_series(z)["dedicated"][1], [2.0, 3.5])
    assert auc.get_ylabel() == "Weighted AUC (quote-on events)" and "Z_{A}" in z.get_ylabel()
    assert "3000 fb$^{-1}$" in auc.texts[0].get_text()


def test_without_a_held_out_column_every_point_is_filled():
    fig = pcmp.versus_lambda(_table().drop(columns="held out"), names=("dedicated", "parameterised"))
    assert sorted(_series(fig.axes[0])) == ["dedicated", "parameterised"]
