"""The ttHH toy: no flavour in the jet masses, one ISR model whose rate grows with the hard scale."""

import numpy as np
import pytest

from hhnb.toy import tthh


def test_jet_mass_does_not_tell_the_flavour():
    """b-tagged and untagged jets have the same mass / pT (the parton mass, 4.8 or 0 GeV, would tell)."""
    out = tthh.generate_batch("ttbb", 6000, np.random.default_rng(5), bias=False)
    ratio, tag = [], []
    for i in range(1, tthh.MAX_JETS + 1):
        ok = out[f"j{i}_Pt"] > 0
        ratio.append(out[f"j{i}_M"][ok] / out[f"j{i}_Pt"][ok])
        tag.append(out[f"j{i}_BTag"][ok] == 1)
    ratio, tag = np.concatenate(ratio), np.concatenate(tag)
    assert tag.sum() > 1000 and (~tag).sum() > 1000
    assert ratio[tag].mean() == pytest.approx(tthh.JET_MASS_FRACTION, rel=0.05)
    assert ratio[~tag].mean() == pytest.approx(ratio[tag].mean(), rel=0.05)


def test_isr_rate_grows_with_the_hard_scale():
    rates = [tthh.isr_rate(p) for p in ("ttbb", "ttz", "tth", "tthh")]
    assert rates[0] == pytest.approx(tthh.ISR_RATE)
    assert all(a < b for a, b in zip(rates, rates[1:]))
    # (ln(900/15) / ln(550/15))^2 = 1.29
    assert rates[-1] / rates[0] == pytest.approx(1.29, abs=0.01)


def test_tthh_has_more_jets_than_ttbb():
    """Two more b quarks and more radiation: more jets above 30 GeV, on average, than ttbb."""
    rng = np.random.default_rng(8)
    nj = {p: tthh.generate_batch(p, 5000, rng, bias=False)["numjet"].mean() for p in ("tthh", "ttbb")}
    assert nj["tthh"] > nj["ttbb"] + 1.5
