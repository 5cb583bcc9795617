"""hhnb.plots.correlations: score versus mass per sample with its profile, and the background sculpting figure."""

from __future__ import annotations

import figures

from hhnb.plots import correlations as pcorr
from hhnb.studies import correlations as corr


def _correlation_inputs():
    df = figures.scores(1)
    edges = corr.mass_edges(df["m_hh"].to_numpy(), 20, name="m_hh")
    hists, profiles = {}, {}
    for name, g in df.groupby("sample"):
        m, s, w = g["m_hh"].to_numpy(), g["score_sig"].to_numpy(), g["weight"].to_numpy()
        hists[name] = corr.histogram2d(m, s, edges, w, mass_label="m_hh")
        profiles[name] = corr.profile(m, s, edges, w)
    bkg = df[df["label"] != 0]
    sculpt = {"m_hh": corr.sculpting(bkg["m_hh"].to_numpy(), bkg["score_sig"].to_numpy(), edges,
                                     bkg["weight"].to_numpy(), 0.5)}
    return hists, profiles, sculpt


CASES = {
    "score_vs_mass": lambda: pcorr.score_vs_mass(*_correlation_inputs()[:2], "m_hh"),
    "sculpting": lambda: pcorr.sculpting(_correlation_inputs()[2], 0.5),
}

# what the x or y label of the first panel must contain (the unit, where the quantity has one)
UNITS = {"score_vs_mass": ("[GeV]", "score"), "sculpting": ("[GeV]", "/ GeV")}


# labelled axes, at most two panels wide, the baseline image: the checks of every figure (tests/figures.py)
(test_figure_has_labelled_axes_and_no_mathtext_warning, test_figure_is_at_most_two_panels_wide,
 test_image_matches_baseline) = figures.standard_tests(CASES, UNITS)


def test_axis_label_names_the_mass_and_its_unit():
    assert pcorr.axis_label("m_hh") == "$m_{hh}$ [GeV]"
    assert pcorr.axis_label("h_b", "TeV") == "$H_{T}^{b}$ [TeV]"
    assert pcorr.axis_label("m_jj") == "m_jj [GeV]"  # a mass it has no symbol for keeps its name


def test_one_panel_per_sample_two_a_row():
    fig = figures.draw(CASES["score_vs_mass"])
    titled = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>" and ax.get_xlabel()]
    assert len(titled) == 3  # hh, qcd, ttbar
    assert len({round(ax.get_position().x0, 2) for ax in titled}) == 2
