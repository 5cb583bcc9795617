"""hhnb.plots.style: the HEP style, the experiment label, grid shapes, data-driven ranges, units, PNG + PDF saving."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from hhnb.plots import style


def test_grid_shape_and_density_label():
    assert style.grid_shape(9) == (5, 2)
    assert style.density_label(r"$\phi$ [rad]") == "fraction of events / rad"


def test_figure_sets_the_style_before_drawing():
    plt.rcParams["font.size"] = 7
    fig, axes = style.figure(1, 2)
    assert plt.rcParams["font.size"] == 14 and plt.rcParams["legend.frameon"] is False
    assert len(axes) == 2 and fig.get_dpi() == 100
    assert tuple(plt.rcParams["axes.formatter.limits"]) == (-5, 6)  # no "x10^-2" under the experiment label


def test_label_text_and_its_place_above_the_axes():
    assert style.label_text(300.0, "Internal", energy=13.6) == "hhnb Internal   √s = 13.6 TeV, 300 fb$^{-1}$"
    fig, ax = style.figure()
    style.label(ax, 3000.0)
    (text,) = ax.texts
    assert text.get_text() == "hhnb Simulation   √s = 14 TeV, 3000 fb$^{-1}$"
    assert text.get_position() == (0.0, 1.015) and text.get_transform() == ax.transAxes
    assert (text.get_ha(), text.get_va()) == ("left", "bottom")


def test_data_range_holds_the_central_weighted_entries():
    v = np.arange(1000.0)
    assert style.data_range(v) == pytest.approx((4.0 - 0.05 * 990.0, 994.0 + 0.05 * 990.0))
    # weight only the upper half: the range moves there (weights are taken in absolute value)
    w = np.where(v >= 500, -1.0, 0.0)
    lo, hi = style.data_range(v, w, pad=0.0)
    assert (lo, hi) == (502.0, 997.0)
    assert style.data_range(np.array([np.nan, 3.0, np.inf]), pad=0.0) == (2.5, 3.5)  # one finite value: +- 0.5
    assert style.data_range(np.array([])) == (0.0, 1.0) and style.data_range(v, np.zeros(1000)) == (0.0, 1.0)


def test_unit_of_reads_the_last_brackets_only():
    assert style.unit_of(r"$p_{T}$ [GeV]") == "GeV"
    assert style.unit_of("m [GeV] / 10 [TeV]") == "TeV"
    assert style.unit_of("[GeV] of the leading jet") is None  # not at the end
    assert style.unit_of("number of jets") is None


def test_save_writes_png_and_reproducible_pdf(tmp_path):
    fig, ax = style.figure()
    ax.plot([0, 1], [0, 1])
    paths = style.save(fig, tmp_path / "out", "curve")
    assert paths == [tmp_path / "out" / "curve.png", tmp_path / "out" / "curve.pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[1].read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["curve.pdf", "curve.png"]  # no temporary left
    first = paths[1].read_bytes()
    style.save(fig, tmp_path / "out", "curve")
    assert paths[1].read_bytes() == first  # no creation date in the PDF: same figure, same bytes
