"""hhnb.reports.parameterised: tiny networks trained on demand, the comparison table, the cost table, reuse."""

from __future__ import annotations

import numpy as np
import pytest

from hhnb import layout

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_make_trains_compares_and_reuses(tmp_path, monkeypatch):
    from hhnb.reports import parameterised as report
    from hhnb.toy.generate import generate

    monkeypatch.setenv("HHNB_HOME", str(tmp_path))
    generate(tmp_path / "data", analyses=["resolved"], lambdas=[1.0, 5.0, 3.0], events=800, seed=5, progress=False)
    notes: list[str] = []
    settings = dict(grid=[5.0, 1.0], held_out=[3.0], folds=2, epochs=1, widths=(16, 16), max_events=400,
                    signal_events=200, n_boot=20, seed=2)
    rep = report.make("resolved", log=notes.append, **settings)
    assert rep.grid == (1.0, 5.0) and rep.held_out == (3.0,)
    assert rep.trained == ("1.0", "5.0", layout.PARAM) and len(notes) == 3
    t = rep.table
    assert t["lambda"].tolist() == [1.0, 5.0, 3.0] and t["held out"].tolist() == [False, False, True]
    assert t["dedicated network"].tolist() == ["1.0", "5.0", "1.0"]  # kl = 3: the nearest (lower on a tie)
    # the AUCs are quoted on every out-of-fold event, Z on the half the cut was not chosen on
    assert (t["events (AUC)"] > t["events (quote-on)"]).all()
    assert np.allclose(t["AUC difference"], t["AUC parameterised"] - t["AUC dedicated"])
    assert (t["AUC difference error"] > 0).all() and t["AUC dedicated"].between(0, 1).all()
    assert t["met"].tolist() == [t["AUC difference"][0] >= -report.AUC_GOAL,
                                 t["AUC difference"][1] >= -report.AUC_GOAL, t["AUC difference"][2] > 0]
    # cost: the parameterised card's events x epochs against the two dedicated networks' together
    card = rep.cards[layout.PARAM]
    work = sum(p["events"]["train"] * p["epochs_run"] for p in card["per_fold"])
    assert rep.cost.loc["training events x epochs", "parameterised network"] == work
    assert rep.cost.iloc[1, 2] == pytest.approx(work / (report.events_x_epochs(rep.cards["1.0"])
                                                        + report.events_x_epochs(rep.cards["5.0"])))
    assert {"parameterised_vs_dedicated.png", "parameterised_vs_dedicated.csv", "training_cost.csv"} <= {
        p.name for p in rep.written}
    assert "loses at most 0.005 AUC" in rep.lines()[0]
    # same settings: every network reused, the same numbers
    again = report.make("resolved", log=notes.append, save=False, **settings)
    assert again.trained == () and len(notes) == 3
    assert again.table["AUC parameterised"].tolist() == t["AUC parameterised"].tolist()
    assert card["head"] == "morphing" and card["lambdas"] == [1.0, 5.0]
    # another head (the plain network of Baldi et al.): only the parameterised network is trained again
    plain = report.make("resolved", log=notes.append, save=False, head="dense", **settings)
    assert plain.trained == (layout.PARAM,) and plain.cards[layout.PARAM]["head"] == "dense"
    assert "Baldi" in plain.cards[layout.PARAM]["head_reference"]
