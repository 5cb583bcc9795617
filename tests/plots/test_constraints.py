"""hhnb.plots.constraints: the kappa_lambda scan curves with their intervals in the legend and the CL lines."""

from __future__ import annotations

import figures
import numpy as np
import pytest

from hhnb.plots import constraints as pcon
from hhnb.studies import constraints

KL = np.linspace(-5.0, 5.0, 101)


def _scans():
    """Two parabolas with known 68 % CL intervals: (kl - 1)^2 / 4 -> [-1, 3], 4 (kl - 1)^2 -> [0.5, 1.5]."""
    return [constraints.Scan("resolved", "chi2", 0.0, KL, (KL - 1.0) ** 2 / 4.0),
            constraints.Scan("combined", "pyhf", 0.02, KL, 4.0 * (KL - 1.0) ** 2)]


def test_figure_has_labelled_axes_and_no_mathtext_warning(caplog, tmp_path):
    figures.check_labelled_axes(lambda: pcon.scan_curves(_scans()), caplog, tmp_path, (r"\kappa_\lambda", r"\ln L"))


def test_figure_is_at_most_two_panels_wide():
    figures.check_at_most_two_panels_wide(figures.draw(lambda: pcon.scan_curves(_scans())))


def test_each_curve_names_its_interval_and_the_thresholds_are_drawn():
    fig = pcon.scan_curves(_scans(), title="network at kl = 1", ymax=6.0)
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["resolved (chi2, f = 0 %): [-1.00, 3.00]",
                                                          "combined (pyhf, f = 2 %): [0.50, 1.50]"]
    assert legend.get_title().get_text() == "network at kl = 1"
    curves = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == len(KL)]
    np.testing.assert_allclose(curves[1].get_ydata(), 4.0 * (KL - 1.0) ** 2)
    levels = sorted(ln.get_ydata()[0] for ln in ax.get_lines() if len(ln.get_xdata()) == 2)  # axhline
    assert levels == pytest.approx([1.0, 3.84], abs=0.005)
    assert sorted(t.get_text() for t in ax.texts if "CL" in t.get_text()) == ["68 % CL", "95 % CL"]
    assert ax.get_ylim() == (0.0, 6.0)
    assert any(t.get_text().startswith("hhnb Simulation") for t in ax.texts)


def test_an_open_interval_is_written_open():
    scan = constraints.Scan("boosted", "chi2", 0.0, KL, (KL - 1.0) ** 2 / 100.0)
    fig = pcon.scan_curves([scan])
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "boosted (chi2, f = 0 %): [open (< -5), open (> 5)]"
    assert fig.axes[0].get_legend().get_title().get_text() == ""  # no title given


def _impacts():
    import pandas as pd

    return pd.DataFrame({"impact up": [0.5, -0.2, 0.05], "impact down": [-0.4, 0.25, -0.05],
                         "impact": [0.45, 0.225, 0.05]}, index=pd.Index(["mcstat_resolved[1]", "JES", "btag"],
                                                                         name="parameter"))


def test_impact_figure_has_labelled_axes_and_is_narrow(caplog, tmp_path):
    figures.check_labelled_axes(lambda: pcon.impact_ranking(_impacts()), caplog, tmp_path,
                                (r"\kappa_\lambda", "nuisance parameter"))
    figures.check_at_most_two_panels_wide(figures.draw(lambda: pcon.impact_ranking(_impacts())))


def test_impact_bars_are_the_table_largest_on_top():
    fig = pcon.impact_ranking(_impacts(), top=2)
    ax = fig.axes[0]
    ticks = dict(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels())))
    assert [ticks[y] for y in sorted(ticks, reverse=True)] == ["mcstat_resolved[1]", "JES"]  # largest on top
    widths = sorted(round(p.get_width(), 3) for p in ax.patches)
    assert widths == [-0.4, -0.2, 0.25, 0.5]
