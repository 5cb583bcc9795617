"""hhnb.studies.comparison: paired AUC bootstrap, one comparison row, events of a held-out lambda."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hhnb.config import analyses as config
from hhnb.studies import comparison as C


def _events(n=4000, seed=3):
    rng = np.random.default_rng(seed)
    sig = rng.random(n) < 0.3
    x = rng.normal(0, 1, n) + sig * 1.0
    return sig, x, rng


def test_paired_auc_resolves_a_better_score():
    sig, x, rng = _events()
    better = x + sig * 0.5
    p = C.paired_auc(sig, x, better, np.ones(len(x)), n_boot=100, seed=2)
    assert p.diff == pytest.approx(p.b - p.a) and p.diff > 5 * p.diff_error
    # pairing: the difference is known far better than each AUC
    assert p.diff_error < 0.5 * min(p.a_error, p.b_error)
    from sklearn.metrics import roc_auc_score

    assert p.a == pytest.approx(roc_auc_score(sig, x))


def test_compare_row_quotes_on_other_events():
    sig, x, rng = _events(20_000)
    frame = pd.DataFrame({"label": np.where(sig, 0, 1), "weight": np.where(sig, 0.01, 1.0),
                          "sample": np.where(sig, "hh", "qcd")})
    choose = np.arange(len(x)) % 2 == 0
    row = C.compare(frame, x, x + sig * 0.3, choose, ~choose, n_boot=50)
    assert row["AUC parameterised"] > row["AUC dedicated"] and row["events (quote-on)"] == 10_000
    assert row["Z parameterised"] > 0 and row["Z dedicated error"] > 0
    # the AUC quoted on every event: the same AUC (both halves alike), a smaller paired error
    full = C.compare(frame, x, x + sig * 0.3, choose, ~choose, n_boot=50, auc_on=np.ones(len(x), bool))
    assert full["events (AUC)"] == 20_000 and full["Z parameterised"] == row["Z parameterised"]
    assert full["AUC difference"] == pytest.approx(row["AUC difference"], abs=3 * row["AUC difference error"])
    assert full["AUC difference error"] < row["AUC difference error"]
    with pytest.raises(ValueError, match="both in the choose-on and the quote-on"):
        C.compare(frame, x, x, choose, np.ones(len(x), bool), n_boot=10)


def test_with_signal_at_swaps_the_signal(toy_dir):
    from hhnb.io import ntuples as data

    ana = config.analysis("resolved")
    events = data.load(ana, 1.0, toy_dir)
    out = C.with_signal_at(ana, 1.0, events.assign(extra=1), toy_dir)
    assert len(out) == len(events) and "extra" not in out
    assert (out["label"] == 0).sum() == (events["label"] == 0).sum()
