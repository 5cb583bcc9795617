"""Inputs of the kl constraints: test-set background weights, basis samples, templates per hypothesis."""

import pandas as pd
import pytest

from hhnb.config import analyses
from hhnb.errors import BasisError
from hhnb.studies import basis, constraint_inputs
from hhnb.toy import ondemand


def test_background_keeps_test_events_with_physical_weights():
    df = pd.DataFrame({"sample": pd.Categorical(["hh", "qcd", "qcd", "qcd", "qcd", "top", "top"]),
                       "label": [0, 1, 1, 1, 1, 2, 2], "weight": [1.0, 2.0, 2.0, 2.0, 6.0, 1.0, 3.0],
                       "is_test": [True, True, False, False, True, True, False]})
    out = constraint_inputs.background(df)
    assert out["label"].tolist() == [1, 1, 2]
    # qcd: 12 in all, 8 in the test set -> x1.5; top: 4 in all, 1 in the test set -> x4
    assert out["weight"].tolist() == [3.0, 9.0, 4.0]
    assert out["weight"].sum() == pytest.approx(df.loc[df.label != 0, "weight"].sum())


class _Fake:
    """A parameterised scorer stand-in: p_sig = 1 for m_hh below 300 + 10 kl GeV, else 0."""

    parameterised = True

    def __call__(self, frame, kl):
        return (frame["m_hh"].to_numpy() < 300 + 10 * kl).astype(float)


def test_templates_follow_the_hypothesis_of_a_parameterised_scorer(tmp_path):
    ana = analyses.analysis("resolved")
    for kl in basis.DEFAULT_BASIS:
        ondemand.generate_missing(ana, kl, tmp_path, events=600, seed=3)
    sig = constraint_inputs.signal_samples(ana, basis.DEFAULT_BASIS, tmp_path, trained_on=[1.0])
    # the sample a network trained on keeps only its test events, with the full yield
    full = constraint_inputs.signal_samples(ana, basis.DEFAULT_BASIS, tmp_path)
    assert len(sig[0]) < 0.3 * len(full[0])
    assert sig[0]["weight"].sum() == pytest.approx(full[0]["weight"].sum())
    bkg = full[1].assign(h1_M=120.0, h2_M=120.0, label=1)
    sig = [s.assign(h1_M=120.0, h2_M=120.0) for s in sig]
    t0 = constraint_inputs.templates_at(ana, _Fake(), 0.0, bkg, sig, basis.DEFAULT_BASIS, empty="merge")
    t5 = constraint_inputs.templates_at(ana, _Fake(), 5.0, bkg, sig, basis.DEFAULT_BASIS, empty="merge")
    assert t5.background.sum() > t0.background.sum()  # looser selection at kl = 5


def test_missing_basis_sample_names_it(tmp_path):
    ana = analyses.analysis("resolved")
    from hhnb.toy.generate import generate_sample

    for kl in (1.0, 5.5):
        generate_sample(tmp_path, "hh", kl, events=300, seed=1, progress=False)
    with pytest.raises(BasisError, match=r"sample missing at kappa_lambda 2.5 .*available: 1.0, 5.5\)$"):
        constraint_inputs.signal_samples(ana, (1.0, 2.5, 5.5), tmp_path)
