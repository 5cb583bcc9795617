"""hhnb.reports.decorrelation: train the settings once, reuse them, and return the trade-off table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hhnb import layout
from hhnb.reports import decorrelation

pytestmark = pytest.mark.slow


def test_settings_are_plain_then_disco_then_flat():
    names = [(d.method, d.strength) for d in decorrelation.settings([0.0, 5.0], flat=True)]
    assert names == [("none", 0.0), ("disco", 5.0), ("flat", 0.0)]


def test_make_trains_each_setting_once_and_tabulates(toy_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HHNB_HOME", str(tmp_path))
    lines: list[str] = []
    kw = dict(strengths=(20.0,), flat=False, epochs=2, batch_size=500, max_events=800, n_boot=10, interval=False,
              data_dir=toy_dir, models_dir=tmp_path / "m", save=False)
    rep = decorrelation.make("resolved", 1.0, log=lines.append, **kw)
    assert rep.trained == ("plain", "disco20") and len(lines) == 2
    assert list(rep.table["setting"]) == ["plain", "disco20"]
    assert np.all((rep.table["auc"] > 0.6) & (rep.table["auc"] <= 1.0))
    assert np.all(rep.table["closure_error"] > 0)
    again = decorrelation.make("resolved", 1.0, log=lines.append, **kw)
    assert again.trained == () and np.allclose(again.table["auc"], rep.table["auc"])
    shown = rep.shown()
    assert shown.columns[0] == "setting" and " +- " in shown["AUC"].iloc[0]
    assert " +- " in shown["sig. eff. at 1 % bkg"].iloc[0] and np.all(rep.table["signal_eff_error"] > 0)
    assert shown["width"].tolist() == ["", ""]  # interval=False: no interval, no width
    card = json.loads(layout.card_path(tmp_path / "m" / "plain", "resolved", 1.0).read_text())
    assert card["max_events"] == 800  # train() records it: the report reuses the network because of it
