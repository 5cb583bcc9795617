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
    # every tree of the file, the variation trees with their b-tagging weight branches included
    keys = sorted({k.GetName() for k in f.GetListOfKeys()})
    f.Close()
    with uproot.open(path) as uf:
        expected = sorted(uf.keys(cycle=False))  # the trees and the generator's record (hhnb_info)
        trees = [k.split(";")[0] for k, c in uf.classnames().items() if c == "TTree"]
        for name in trees:
            got = root.RDataFrame(name, str(path)).AsNumpy(["eventNumber", "weight_btag__1up"])
            ref = uf[name].arrays(["eventNumber", "weight_btag__1up"], library="np")
            for k in ref:
                np.testing.assert_array_equal(got[k], ref[k])
    assert keys == expected and len(trees) == 5


# -- systematic variations (issue 25) --------------------------------------------------------------------

_JETS = [f"{c}_{j}" for c in ("h1", "h2") for j in ("j1", "j2")]


def _trees(path):
    with uproot.open(path) as f:
        return {name.split(";")[0]: f[name].arrays(library="np") for name in f.keys() if name.startswith("preselection")}


def _matched(a, b):
    """Indices into a and b of the events both hold (by eventNumber)."""
    common, ia, ib = np.intersect1d(a["eventNumber"], b["eventNumber"], return_indices=True)
    return ia, ib


def test_variation_trees_beside_the_nominal_one(toy_dir):
    from hhnb import layout

    for cat in ("resolved", "intermediate", "boosted"):
        trees = _trees(toy_dir / cat / "ttbar.root")
        assert set(trees) == {"preselection", *(layout.variation_tree("preselection", s, d)
                                                for s in ("JES", "JER") for d in ("up", "down"))}
        for t in trees.values():
            assert set(HH_BRANCHES) | {"weight_btag__1up", "weight_btag__1down"} <= set(t)
            assert len(np.unique(t["eventNumber"])) == len(t["eventNumber"])
    with uproot.open(toy_dir / "tthh" / "ttbb.root") as f:  # ttHH: nominal only
        assert [k.split(";")[0] for k in f.keys() if "preselection" in k] == ["preselection"]


def test_jes_up_tree_has_higher_jet_pt_by_the_stated_size(toy_dir):
    """The same events (by number) in the JES-up tree: jet pT higher by u(pT, eta), about 1.5 % for signal jets."""
    from hhnb.toy.hh import jes_uncertainty

    trees = _trees(toy_dir / "resolved" / "hh_SlfCoup_1.0.root")
    nom = trees["preselection"]
    for name, sign in (("preselection__JES__1up", 1), ("preselection__JES__1down", -1)):
        var = trees[name]
        i, j = _matched(nom, var)
        assert len(i) > 0.9 * len(nom["eventNumber"])  # most events keep their number (and category)
        total = sum(nom[f"{k}_Pt"][i].astype(float) for k in _JETS)
        moved = sum(var[f"{k}_Pt"][j].astype(float) for k in _JETS)
        expected = sum(nom[f"{k}_Pt"][i] * jes_uncertainty(nom[f"{k}_Pt"][i], nom[f"{k}_Eta"][i]) for k in _JETS)
        np.testing.assert_allclose(moved - total, sign * expected, rtol=1e-3, atol=1e-3)
        shift = float(np.mean(moved / total - 1))
        assert 0.012 < sign * shift < 0.02, shift
        for b in ("nBTags", "nElec", "nMuon"):  # what the jets do not change is the event's own
            assert np.array_equal(nom[b][i], var[b][j])


def test_selected_events_move_in_and_out(toy_dir):
    """Events enter and leave a category and the selection: the selected counts and yields move."""
    trees = _trees(toy_dir / "resolved" / "qcd_2b2j.root")
    nom, up, down = trees["preselection"], trees["preselection__JES__1up"], trees["preselection__JES__1down"]
    only_up = np.setdiff1d(up["eventNumber"], nom["eventNumber"])
    only_nom = np.setdiff1d(nom["eventNumber"], up["eventNumber"])
    assert len(only_up) > 0 and len(only_nom) > 0

    def selected(t):
        return ((t["met_Et"] < 150) & (t["nElec"] == 0) & (t["nMuon"] == 0) & (t["dEta_hh"] < 1.5)
                & (t["h1_M"] > 50) & (t["h2_M"] > 50)).sum()

    counts = [selected(t) for t in (down, nom, up)]
    assert counts[0] < counts[1] < counts[2], counts  # harder jets: more events pass the 40 GeV jet cut


def test_nominal_tree_is_the_generator_output_without_variations(tmp_path, monkeypatch):
    """The nominal tree does not depend on the variations: writing none gives the same arrays, bit for bit."""
    from hhnb.toy import generate as gen
    from hhnb.toy import hh

    generate_sample(tmp_path / "with", "qcd_4b", events=300, seed=3, progress=False)
    monkeypatch.setattr(gen, "_batch_varied", lambda *a: (hh.generate_batch(a[0], a[3], a[4], kl=a[1],
                                                                            pt_slice=a[2], bias=a[5]), {}))
    generate_sample(tmp_path / "without", "qcd_4b", events=300, seed=3, progress=False)
    for cat in ("resolved", "intermediate", "boosted"):
        a, b = _arrays(tmp_path / "with" / cat / "qcd_4b.root"), _arrays(tmp_path / "without" / cat / "qcd_4b.root")
        assert set(a) == set(b)
        for k in a:
            assert np.array_equal(a[k], b[k]), k


def test_btag_weight_branches(toy_dir):
    """weight_btag__1up / weight: four tagged b jets of the signal give prod(1 + delta_b(pT))."""
    from hhnb.toy.hh import btag_sf_uncertainty

    t = _trees(toy_dir / "resolved" / "hh_SlfCoup_1.0.root")["preselection"]
    four = t["nBTags"] == 4
    expected = np.prod([1 + btag_sf_uncertainty(t[f"{k}_Pt"][four], np.full(four.sum(), "b")) for k in _JETS], axis=0)
    ratio = t["weight_btag__1up"][four] / t["weight"][four]
    assert np.mean(np.isclose(ratio, expected, rtol=1e-6)) > 0.99  # float32 pT on a bin edge may differ
    assert 0.05 < float(np.mean(ratio - 1)) < 0.1
