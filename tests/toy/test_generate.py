"""hhnb.toy.generate: the toy files, their branches, categories, yields and determinism, the skip-existing cache."""

import numpy as np
import pytest
import uproot

from hhnb.toy import physics
from hhnb.toy.generate import generate, generate_sample

HH_BRANCHES = ["pT_hh", "m_hh", "nMuon", "nElec", "h1_M", "h1_Pt", "h1_Eta", "h1_Phi", "h1_j1_j2_dR", "h2_M",
               "h2_Pt", "h2_Eta", "h2_Phi", "h2_j1_j2_dR", "met_Et", "met_Phi", "h1_j1_BTag", "h1_j2_BTag",
               "h2_j1_BTag", "h2_j2_BTag", "weight", "eventNumber"]


def _arrays(path):
    with uproot.open(path) as f:
        return f["preselection"].arrays(library="np")


def test_files_and_branches(toy_dir):
    for cat in ("resolved", "intermediate", "boosted"):
        for name in ("hh_SlfCoup_1.0", "qcd_4b", "qcd_2b2j", "ttbar"):
            arr = _arrays(toy_dir / cat / f"{name}.root")
            assert set(HH_BRANCHES) <= set(arr)
            assert len(arr["weight"]) > 0
            if name == "ttbar":  # NLO-like: about 20 % negative weights (hhnb.toy.nlo)
                assert 0.1 < (arr["weight"] < 0).mean() < 0.3
            else:
                assert (arr["weight"] > 0).all()
    arr = _arrays(toy_dir / "tthh" / "tthh.root")
    assert {"numjet", "numlep", "btag", "srap", "cent", "m_bb", "h_b", "mt1", "dr1", "j8_Pt"} <= set(arr)


def test_categories_follow_large_r_count(toy_dir):
    for cat, n_large in (("resolved", 0), ("intermediate", 1), ("boosted", 2)):
        arr = _arrays(toy_dir / cat / "hh_SlfCoup_1.0.root")
        assert (arr["nLargeR"] == n_large).all()
    boosted = _arrays(toy_dir / "boosted" / "hh_SlfCoup_1.0.root")
    assert (boosted["h1_Pt"] > 200).mean() > 0.95  # large-R jets are boosted
    sig = _arrays(toy_dir / "resolved" / "hh_SlfCoup_1.0.root")
    qcd = _arrays(toy_dir / "resolved" / "qcd_4b.root")

    def window(a):  # weighted: the backgrounds are generated preferentially in the window
        return np.average((a["h1_M"] > 90) & (a["h1_M"] < 140) & (a["h2_M"] > 90) & (a["h2_M"] < 140),
                          weights=a["weight"])

    assert window(sig) > 0.35
    assert window(sig) > 2.5 * window(qcd)  # the Higgs-candidate masses are a strong handle


def test_deterministic(tmp_path):
    a = generate_sample(tmp_path / "a", "qcd_4b", events=300, seed=5, progress=False)
    b = generate_sample(tmp_path / "b", "qcd_4b", events=300, seed=5, progress=False)
    c = generate_sample(tmp_path / "c", "qcd_4b", events=300, seed=6, progress=False)
    for wa, wb, wc in zip(a, b, c):
        xa, xb, xc = _arrays(wa.path), _arrays(wb.path), _arrays(wc.path)
        for k in xa:
            np.testing.assert_array_equal(xa[k], xb[k])
        assert not np.array_equal(xa["m_hh"], xc["m_hh"])


def test_signal_yield_is_sigma_times_lumi(tmp_path):
    """All categories together carry at most sigma x BR x L; resolved carries a realistic share."""
    written = generate_sample(tmp_path, "hh", 1.0, events=2000, seed=1, progress=False)
    total = sum(w.yield_ for w in written)
    full = physics.sigma_hh(1.0) * physics.BR_BB**2 * 3000
    assert 0.1 * full < total < full
    res = {w.analysis: w.yield_ for w in written}
    assert res["resolved"] > res["intermediate"] > 0


def test_any_lambda_and_ttHH_only_at_sm(tmp_path):
    w = generate_sample(tmp_path, "hh", 3.7, events=300, progress=False)
    assert w[0].path.name == "hh_SlfCoup_3.7.root"
    with pytest.raises(ValueError, match="1.0 only"):
        generate_sample(tmp_path, "tthh", 5.0, events=100, progress=False)
    with pytest.raises(ValueError, match="unknown toy sample"):
        generate_sample(tmp_path, "wjets", events=100, progress=False)
    with pytest.raises(ValueError, match="unknown toy analysis"):
        generate(tmp_path, analyses=["vbf"], progress=False)


def test_no_partial_file_on_failure(tmp_path, monkeypatch):
    import hhnb.toy.generate as g

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(g.uproot, "recreate", boom)
    with pytest.raises(OSError):
        generate_sample(tmp_path, "ttbar", events=200, progress=False)
    assert list(tmp_path.rglob("*")) == [] or all(p.is_dir() for p in tmp_path.rglob("*"))


def test_skip_existing_keeps_only_files_of_this_generator_and_seed(tmp_path, monkeypatch):
    from hhnb.toy import generate as gen

    def run(seed=5):
        return {w.path: w.path.stat().st_mtime_ns for w in
                gen.generate(tmp_path, analyses=["tthh"], events=200, seed=seed, progress=False, skip_existing=True)}

    first = run()
    with uproot.open(next(iter(first))) as f:
        assert f"toy={gen.toy_version()} " in str(f["hhnb_info"])
    assert run() == first  # same version and seed: nothing rewritten
    second = run(seed=6)
    assert all(second[p] != t for p, t in first.items())  # another seed: regenerated
    assert run(seed=6) == second
    monkeypatch.setattr(gen, "toy_version", lambda: "0123456789ab")  # the generator changed
    third = run(seed=6)
    assert all(third[p] != t for p, t in second.items())


def test_generate_sample_bias_keeps_yield(tmp_path):
    """Through the file writer: the weighted resolved yields with and without bias agree within 3 sigma."""
    import uproot

    from hhnb.toy.generate import generate_sample

    yields = []
    for name, bias in (("a", False), ("b", True)):
        w = {x.analysis: x for x in generate_sample(tmp_path / name, "qcd_2b2j", events=1200, seed=3,
                                                    progress=False, bias=bias)}["resolved"]
        with uproot.open(w.path) as f:
            weight = f["preselection"]["weight"].array(library="np")
        assert weight.sum() == pytest.approx(w.yield_, rel=1e-6)
        yields.append((weight.sum(), np.sqrt((weight**2).sum())))
    (ya, sa), (yb, sb) = yields
    assert abs(ya - yb) < 3 * np.hypot(sa, sb)


# ROOT reads the toy files (the ``root`` package from PyPI)


@pytest.fixture
def root():
    """ROOT, skipping the test where it is not installed; signals (SIGCHLD, SIGPIPE, SIGSEGV) left to Python and pytest."""
    ROOT = pytest.importorskip("ROOT")
    ROOT.gSystem.ResetSignals()
    return ROOT


@pytest.mark.root
def test_root_reads_a_file_written_by_hhnb(root, toy_dir):
    path = toy_dir / "resolved" / "hh_SlfCoup_1.0.root"
    with uproot.open(path) as f:
        ref = f["preselection"].arrays(["m_hh", "eventNumber", "h1_j1_BTag", "weight"], library="np")
    rdf = root.RDataFrame("preselection", str(path))
    assert rdf.Count().GetValue() == len(ref["m_hh"])
    got = rdf.AsNumpy(["m_hh", "eventNumber", "h1_j1_BTag", "weight"])
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k])
    f = root.TFile.Open(str(path))
    tree = f.Get("preselection")
    assert tree.ClassName() == "TTree"
    assert tree.GetEntries() == len(ref["m_hh"])
    f.Close()
