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


# -- templates for every systematic variation (issue 25) ---------------------------------------------------

import numpy as np  # noqa: E402
import uproot  # noqa: E402
import yaml  # noqa: E402

from hhnb.studies import constraints  # noqa: E402

_FRAME = """
std::vector<float> v; TRandom3 r(rdfentry_ * 17 + SEED); int k = 2 + r.Poisson(1.5);
for (int i = 0; i < k; ++i) v.push_back((40. + r.Exp(SLOPE)) * SCALE);
std::sort(v.begin(), v.end(), std::greater<float>()); return v;
"""


def _production(path, n: int, seed: int, slope: float) -> None:
    """A production-layout file written by ROOT: tree ``nominal`` and the variation trees ``nominal__JES__1up``
    / ``1down`` (jets and masses scaled by 1.03 / 0.97, the same event numbers), ``std::vector<float>`` jets,
    signed NLO-like weights ``weight_mc`` (about 20 % negative) with b-tag weight branches (x1.04 / x0.96),
    a ``cutflow`` TH1 and ``metadata/sumOfWeights`` (bin 1)."""
    import ROOT

    ROOT.gROOT.SetBatch(True)
    opts = ROOT.RDF.RSnapshotOptions()
    opts.fMode = "UPDATE"
    columns = ROOT.std.vector("string")(["eventNumber", "jet_pt", "mHH", "mH1", "mH2", "weight_mc",
                                        "weight_btag_up", "weight_btag_down"])
    for i, (tree, scale) in enumerate((("nominal", 1.0), ("nominal__JES__1up", 1.03), ("nominal__JES__1down", 0.97))):
        jets = _FRAME.replace("SEED", str(seed)).replace("SLOPE", repr(slope)).replace("SCALE", repr(scale))
        frame = (ROOT.RDataFrame(n)
                 .Define("eventNumber", "(ULong64_t)(rdfentry_ * 3 + 1)")
                 .Define("jet_pt", jets)
                 .Define("mH1", f"TRandom3 r(rdfentry_ * 5 + {seed}); return (float)(r.Gaus(118., 20.) * {scale});")
                 .Define("mH2", f"TRandom3 r(rdfentry_ * 7 + {seed}); return (float)(r.Gaus(112., 20.) * {scale});")
                 .Define("mHH", "float s = 0; for (auto p : jet_pt) s += p; return (float)(150. + 1.2 * s);")
                 .Define("weight_mc", f"TRandom3 r(rdfentry_ * 11 + {seed}); return r.Uniform() < 0.2 ? -0.5 : 1.0;")
                 .Define("weight_btag_up", "weight_mc * 1.04")
                 .Define("weight_btag_down", "weight_mc * 0.96"))
        frame.Snapshot(tree, str(path), columns, *([opts] if i else []))
    f = ROOT.TFile.Open(str(path), "UPDATE")
    cutflow = ROOT.TH1D("cutflow", "cutflow", 2, 0, 2)
    cutflow.SetBinContent(1, 2 * n)
    f.WriteTObject(cutflow, "cutflow")
    meta = f.mkdir("metadata")
    meta.cd()
    sumw = ROOT.TH1D("sumOfWeights", "sum of generator weights", 1, 0, 1)
    sumw.SetBinContent(1, 2.0 * n)
    meta.WriteTObject(sumw, "sumOfWeights")
    f.Close()


class _MassScorer:
    """A fixed network stand-in: p_sig = logistic((m_hh - 330) / 40), read from the analysis' own m_hh column."""

    parameterised = False

    def __call__(self, frame, kl):
        return 1.0 / (1.0 + np.exp(-(frame["mHH"].to_numpy(float) - 330.0) / 40.0))


@pytest.fixture(scope="module")
def own_ntuples(tmp_path_factory):
    d = tmp_path_factory.mktemp("own")
    for name, seed, slope in (("hh_1", 1, 90.0), ("hh_2p5", 2, 100.0), ("hh_5p5", 3, 80.0), ("ttbar", 4, 50.0)):
        _production(d / f"{name}.root", 3000, seed, slope)
    norm = {"cross_section": 10.0, "sum_of_weights": {"histogram": "metadata/sumOfWeights", "bin": 1}}
    spec = {"tree": "nominal", "weight": "weight_mc", "event": "eventNumber",
            "features": ["jet_pt[:, 0]", "mHH", "mH1", "mH2", "num(jet_pt)"],
            "masses": {"m_hh": "mHH", "h1_M": "mH1", "h2_M": "mH2"}, "selection": "jet_pt[:, 1] > 50",
            "classes": ["signal", "background"], "mhh_bins": [250, 350, 450, 700],
            "systematics": {"trees": {"JES": {"up": "{tree}__JES__1up", "down": "{tree}__JES__1down"},
                                      "SAME": {"up": "{tree}", "down": "{tree}"}},
                            "weights": {"btag": {"up": "weight_btag_up", "down": "weight_btag_down"},
                                        "wsame": {"up": "weight_mc", "down": "weight_mc"}}},
            "samples": [{"name": "hh_sm", "class": "signal", "lambdas": [1], "files": "hh_1.root", **norm},
                        {"name": "hh_2p5", "class": "signal", "lambdas": [2.5], "files": "hh_2p5.root", **norm},
                        {"name": "hh_5p5", "class": "signal", "lambdas": [5.5], "files": "hh_5p5.root", **norm},
                        {"name": "ttbar", "class": "background", "files": "ttbar.root", "norm_uncertainty": 0.06,
                         **norm, "cross_section": 3000.0}]}
    cfg = d / "mine.yaml"
    cfg.write_text(yaml.safe_dump({"luminosity": 300.0, "analyses": {"mine": spec}}))
    return analyses.load(cfg).analysis("mine"), d


def test_own_root_ntuples_give_templates_for_every_variation(own_ntuples):
    ana, d = own_ntuples
    v = constraint_inputs.varied_templates(ana, _MassScorer(), 1.0, d, test_only=False)
    keys = ["signal_0", "signal_1", "signal_2", "ttbar"]
    assert list(v.nominal) == keys and v.backgrounds == ["ttbar"] and v.basis == basis.DEFAULT_BASIS
    assert set(v.variations) == {"JES", "SAME", "btag", "wsame"} and v.norm_uncertainties == {"ttbar": 0.06}
    for name in ("SAME", "wsame"):  # a variation identical to the nominal gives identical histograms
        for side in v.variations[name]:
            for k in keys:
                for field in ("yields", "variances", "mc_events"):
                    assert np.array_equal(getattr(side[k], field), getattr(v.nominal[k], field)), (name, k, field)
    up, down = v.variations["btag"]
    for k in keys:  # a weight variation re-weights the same events
        np.testing.assert_allclose(up[k].yields, 1.04 * v.nominal[k].yields, rtol=1e-6)
        np.testing.assert_allclose(down[k].variances, 0.96**2 * v.nominal[k].variances, rtol=1e-6)
        assert np.array_equal(up[k].mc_events, v.nominal[k].mc_events)
    up, down = v.variations["JES"]
    for k in keys:  # a tree variation: harder jets, masses scaled: events move between bins and in and out
        assert not np.array_equal(up[k].mc_events, v.nominal[k].mc_events)
        assert not np.array_equal(down[k].mc_events, v.nominal[k].mc_events)
        assert up[k].yields.sum() != v.nominal[k].yields.sum() != down[k].yields.sum()
    # the nominal background, computed here from the file directly: signed weights x sigma L / sum of weights
    with uproot.open(d / "ttbar.root") as f:
        t = f["nominal"].arrays(["jet_pt", "mHH", "mH1", "mH2", "weight_mc"])
    m, w = t["mHH"].to_numpy().astype(float), t["weight_mc"].to_numpy() * 3000.0 * 300.0 / 6000.0
    window = [(t[c].to_numpy() > 90) & (t[c].to_numpy() < 140) for c in ("mH1", "mH2")]
    sel = (t["jet_pt"][:, 1].to_numpy() > 50) & window[0] & window[1] & (1 / (1 + np.exp(-(m - 330) / 40)) >= 0.75)
    expected, _ = np.histogram(m[sel], [250, 350, 450, 700], weights=w[sel])
    np.testing.assert_allclose(v.nominal["ttbar"].yields, expected, rtol=1e-6)
    assert (w[sel] < 0).any()  # negative weights kept with their sign
    t0 = constraint_inputs.to_templates(v, empty="merge")
    assert t0.merged  # the first bin has no background event after the cut: merged as today's Templates do
    np.testing.assert_allclose(t0.background.sum(), expected.sum(), rtol=1e-6)
    np.testing.assert_allclose(t0.signal[1].sum(), v.nominal["signal_1"].yields.sum())


def test_test_only_keeps_the_blind_events_at_the_full_yield(own_ntuples):
    ana, d = own_ntuples
    full = constraint_inputs.varied_templates(ana, _MassScorer(), 1.0, d, test_only=False)
    blind = constraint_inputs.varied_templates(ana, _MassScorer(), 1.0, d, trained_on=[1.0])
    assert blind.nominal["ttbar"].mc_events.sum() < 0.3 * full.nominal["ttbar"].mc_events.sum()
    assert blind.nominal["signal_1"].mc_events.sum() == full.nominal["signal_1"].mc_events.sum()  # not trained on
    assert blind.nominal["signal_0"].mc_events.sum() < 0.3 * full.nominal["signal_0"].mc_events.sum()
    # one factor per sample: the weight variation keeps its exact ratio to the nominal
    np.testing.assert_allclose(blind.variations["btag"][0]["ttbar"].yields, 1.04 * blind.nominal["ttbar"].yields)


class _TagScorer:
    """A fixed network stand-in on the toy: the fraction of b-tagged jets (>= 0.75: three or four tags)."""

    parameterised = False

    def __call__(self, frame, kl):
        return sum(frame[f"h{c}_j{j}_BTag"].to_numpy(float) for c in (1, 2) for j in (1, 2)) / 4.0


def test_toy_templates_for_jes_jer_and_btag(tmp_path):
    ana = analyses.analysis("boosted")
    for kl in basis.DEFAULT_BASIS:
        ondemand.generate_missing(ana, kl, tmp_path, events=600, seed=3)
    v = constraint_inputs.varied_templates(ana, _TagScorer(), 1.0, tmp_path, test_only=False)
    assert list(v.nominal) == ["signal_0", "signal_1", "signal_2", "qcd_4b", "qcd_2b2j", "ttbar"]
    assert list(v.variations) == ["JES", "JER", "btag"]
    assert v.norm_uncertainties == {"qcd_4b": 0.3, "qcd_2b2j": 0.3, "ttbar": 0.06}
    sm = v.nominal["signal_0"].yields.sum()
    up, down = (side["signal_0"].yields.sum() / sm - 1 for side in v.variations["btag"])
    assert 0.03 < up < 0.12 and -0.12 < down < -0.03, (up, down)  # three or four b jets of 1-8 % each
    jes = [side["signal_0"].yields.sum() / sm - 1 for side in v.variations["JES"]]
    assert jes[0] != 0.0 and jes[1] != 0.0
    # the nominal as today's Templates: the same numbers build_templates gives from the same frames
    t = constraint_inputs.to_templates(v, empty="merge")
    frames = {s.name: data_frame(ana, s, tmp_path) for s in ana.samples if s.klass != "signal"}
    bkg = pd.concat(list(frames.values()), ignore_index=True)
    sig = [data_frame(ana, ana.samples[0], tmp_path, kl) for kl in basis.DEFAULT_BASIS]
    ref = constraints.check_background(constraints.build_templates(
        ana.name, ana.mhh_bins, bkg.assign(score_sig=_TagScorer()(bkg, 1.0)),
        [s.assign(score_sig=_TagScorer()(s, 1.0)) for s in sig], basis.DEFAULT_BASIS), "merge")
    np.testing.assert_allclose(t.background, ref.background, rtol=1e-12)
    np.testing.assert_allclose(t.signal, ref.signal, rtol=1e-12)
    assert np.array_equal(t.background_mc, ref.background_mc)


def data_frame(ana, sample, data_dir, kl=None):
    from hhnb.io import ntuples

    files = ntuples.sample_files(sample, data_dir, kl)
    return ntuples.read_sample(ana, sample, files, ntuples.columns_for(ana))
