"""Fixtures the report tests share: figures closed after each test, a tiny 2-fold set trained through the train report."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture(scope="session")
def kfold_models(tmp_path_factory, toy_dir):
    """A tiny resolved kl=1 2-fold set (one epoch, narrow), trained through the train report."""
    import os

    from hhnb.reports import train as rtrain

    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("HHNB_HOME")
    os.environ["HHNB_HOME"] = str(home)
    try:
        rep = rtrain.make("resolved", 1.0, data_dir=toy_dir, models_dir=home / "models", epochs=1, widths=(16, 16),
                          max_events=300, folds=2, seed=3)
    finally:
        if old is None:
            os.environ.pop("HHNB_HOME")
        else:
            os.environ["HHNB_HOME"] = old
    return rep
