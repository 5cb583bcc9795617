"""Checks shared by the figure tests (tests/plots/): labelled axes, width, and an image comparison against a baseline.

Every figure test draws from seeded inputs with the style and dpi fixed, and compares the image with a
baseline PNG in tests/baseline/ (tolerance ``TOL``, RMS on a 0-255 scale). After an intended change of a
figure, regenerate the baselines and look at them before committing:

    HHNB_REGENERATE_BASELINES=1 .venv/bin/python -m pytest tests/plots -q -k image

(writes ``tests/baseline/<name>.png``; the comparison's failures leave ``result``, ``expected``
and ``-failed-diff`` PNGs in pytest's temporary folder).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

from hhnb.plots import style  # noqa: E402
from hhnb.stats import metrics  # noqa: E402

BASELINE = Path(__file__).parent / "baseline"
DPI = 50
TOL = 2.0
REGENERATE = os.environ.get("HHNB_REGENERATE_BASELINES") == "1"


def scores(seed: int = 0, n: int = 3000) -> pd.DataFrame:
    """A seeded scores table as train.ipynb writes it: label 0 = signal, score_sig, is_test, is_val, weight."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 3, n)
    sig = label == 0
    score = np.where(sig, rng.beta(5, 2, n), rng.beta(2, 5, n))
    return pd.DataFrame({"label": label, "score_sig": score, "discriminant": metrics.discriminant(score),
                         "is_test": rng.random(n) < 0.3, "is_val": rng.random(n) < 0.1,
                         "weight": np.where(sig, 0.05, 2.0),
                         "sample": np.where(sig, "hh", np.where(label == 1, "qcd", "ttbar")),
                         "m_hh": np.where(sig, rng.normal(420, 60, n), rng.exponential(200, n) + 250)})


def draw(make: Callable[[], plt.Figure]) -> plt.Figure:
    """The figure ``make`` draws, after the HEP style is set."""
    style.use_style()
    return make()


def check_labelled_axes(make: Callable[[], plt.Figure], caplog, tmp_path: Path,
                        units: tuple[str, str] | None = None) -> None:
    """A Figure whose panels carry axis labels, saved as PNG and PDF without a matplotlib warning (missing
    glyphs, mathtext, tight_layout); ``units``: what the x and the y labels of the panels must contain."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # e.g. missing glyphs, tight_layout failures
        with caplog.at_level(logging.WARNING, logger="matplotlib"):
            fig = draw(make)
            fig.savefig(tmp_path / "f.png", dpi=DPI)
            fig.savefig(tmp_path / "f.pdf")
    assert isinstance(fig, plt.Figure)
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")], caplog.text
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"
              and ax.get_xlabel() + ax.get_ylabel()]
    assert panels, "no labelled axes"
    for ax in panels:
        assert ax.get_xlabel() or ax.get_ylabel()
    if units is not None:
        xs = " ".join(ax.get_xlabel() for ax in panels)
        ys = " ".join(ax.get_ylabel() for ax in panels)
        assert units[0] in xs, xs
        assert units[1] in ys, ys


def check_at_most_two_panels_wide(fig: plt.Figure) -> None:
    """At most two panels a row, and no wider than two panels (it reads at normal zoom in JupyterLab)."""
    width = fig.get_size_inches()[0]
    assert width <= 2 * style.PANEL[0] + 0.5, width
    lefts = {round(ax.get_position().x0, 2) for ax in fig.axes
             if ax.get_visible() and ax.get_label() != "<colorbar>" and ax.get_xlabel()}
    assert len(lefts) <= 2, lefts


def check_baseline(name: str, fig: plt.Figure, tmp_path: Path) -> None:
    """The image of ``fig`` equals tests/baseline/<name>.png within ``TOL`` (or regenerates it, see above)."""
    expected = BASELINE / f"{name}.png"
    if REGENERATE:
        BASELINE.mkdir(exist_ok=True)
        fig.savefig(expected, dpi=DPI, metadata={"Software": None})
        pytest.skip(f"regenerated {expected}")
    actual = tmp_path / f"{name}.png"
    fig.savefig(actual, dpi=DPI, metadata={"Software": None})
    assert expected.exists(), f"no baseline {expected}: see tests/figures.py's docstring to make one"
    result = compare_images(str(expected), str(actual), tol=TOL)
    assert result is None, result


def standard_tests(cases: dict[str, Callable[[], plt.Figure]], units: dict[str, tuple[str, str]] | None = None):
    """The three checks every figure of a plots module gets (labelled axes, at most two panels wide, the
    baseline image), as parametrised test functions for the module to bind to its ``test_`` names."""
    units = units or {}

    @pytest.mark.parametrize("name", sorted(cases))
    def labelled(name, caplog, tmp_path):
        check_labelled_axes(cases[name], caplog, tmp_path, units.get(name))

    @pytest.mark.parametrize("name", sorted(cases))
    def narrow(name):
        check_at_most_two_panels_wide(draw(cases[name]))

    @pytest.mark.parametrize("name", sorted(cases))
    def baseline(name, tmp_path):
        check_baseline(name, draw(cases[name]), tmp_path)

    return labelled, narrow, baseline
