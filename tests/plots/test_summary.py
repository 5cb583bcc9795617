"""hhnb.plots.summary: AUC and maximum significance against the training kappa_lambda, one line per analysis."""

from __future__ import annotations

import figures
import numpy as np
import pandas as pd

from hhnb.plots import summary as psum
from hhnb.studies import summary


def _evals():
    return pd.DataFrame({"analysis": ["resolved"] * 3 + ["boosted"] * 3, "lambda": [-5.0, 1.0, 10.0] * 2,
                         "auc": [0.93, 0.95, 0.97, 0.88, 0.90, 0.91], "max_significance": [2.0, 2.4, 3.5, 1.0, 1.2, 1.9]})


CASES = {"summary_metrics_vs_lambda": lambda: psum.metrics_vs_lambda(_evals())}

# what the x or y label of the first panel must contain (the unit, where the quantity has one)
UNITS = {"summary_metrics_vs_lambda": (r"\kappa_\lambda", "AUC")}


# labelled axes, at most two panels wide, the baseline image: the checks of every figure (tests/figures.py)
(test_figure_has_labelled_axes_and_no_mathtext_warning, test_figure_is_at_most_two_panels_wide,
 test_image_matches_baseline) = figures.standard_tests(CASES, UNITS)


def test_figure_of_the_run_record(small_record):
    """The figure of the record's latest evaluations has two labelled panels."""
    ev = summary.evaluations(small_record)
    fig = psum.metrics_vs_lambda(ev)
    assert len(fig.axes) >= 2
    assert all(ax.get_xlabel() for ax in fig.axes[:2])


def test_one_line_per_analysis_sorted_by_lambda_with_error_bars():
    ev = _evals().sample(frac=1.0, random_state=3)  # shuffled: the figure sorts by lambda
    ev["auc_error"] = 0.01
    fig = psum.metrics_vs_lambda(ev)
    auc, z = fig.axes[:2]
    assert [t.get_text() for t in auc.get_legend().get_texts()] == ["boosted", "resolved"]
    lines = {c.get_label(): c for c in auc.containers}
    np.testing.assert_array_equal(lines["resolved"].lines[0].get_xdata(), [-5.0, 1.0, 10.0])
    np.testing.assert_array_equal(lines["resolved"].lines[0].get_ydata(), [0.93, 0.95, 0.97])
    assert lines["boosted"].has_yerr and not {c.get_label(): c for c in z.containers}["boosted"].has_yerr
    assert z.get_ylabel() == r"Maximum significance $Z_{A}$ [$\sigma$]"


def test_an_empty_record_draws_empty_panels():
    fig = psum.metrics_vs_lambda(pd.DataFrame(columns=["analysis", "lambda", "auc", "max_significance"]))
    assert all(ax.get_legend() is None and not ax.containers for ax in fig.axes[:2])
