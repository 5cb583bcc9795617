"""hhnb.io.ntuples: reading user and toy ntuples, the per-lambda signal samples, the errors, ROOT-written trees."""

import textwrap

import numpy as np
import pytest
import uproot
from userfiles import write_config, write_ntuple

from hhnb.config import analyses as config
from hhnb.errors import ConfigError, InputFileError
from hhnb.io import ntuples as data


def _user_files(tmp_path, n_files=3, n=400, tree="Events", nan_in=None):
    rng = np.random.default_rng(0)
    (tmp_path / "nt").mkdir(exist_ok=True)
    for i in range(n_files):
        for name, shift in (("sig", 1.0), ("bkg", 0.0)):
            x = rng.normal(shift, 1.0, n)
            if nan_in == (name, i):
                x[:3] = np.nan
            with uproot.recreate(tmp_path / "nt" / f"{name}_{i}.root") as f:
                f.mktree(tree, {"x_var": np.float64, "y_var": np.float32, "nj": np.int32})
                f[tree].extend({"x_var": x, "y_var": rng.normal(size=n).astype(np.float32),
                                "nj": rng.integers(0, 6, n).astype(np.int32)})
    p = tmp_path / "mine.yaml"
    p.write_text(textwrap.dedent(f"""
        analyses:
          mine:
            tree: {tree}
            features: [x_var, y_var]
            selection: "nj >= 1"
            classes: [signal, background]
            samples:
              - {{name: sig, class: signal, files: "nt/sig_*.root", cross_section: 2.0}}
              - {{name: bkg, class: background, files: "nt/bkg_*.root", cross_section: 50.0}}
    """))
    return p


def test_user_ntuples_with_globs(tmp_path):
    ana = config.analysis("mine", _user_files(tmp_path))
    df = data.load(ana, 1.0, tmp_path)
    assert set(df["sample"]) == {"sig", "bkg"}
    sig = df[df["sample"] == "sig"]
    assert len(sig) == pytest.approx(3 * 400 * 5 / 6, rel=0.1)  # nj >= 1
    # weight = sigma x L / N(all entries of the sample, before selection)
    assert sig["weight"].iloc[0] == pytest.approx(2.0 * 3000 / 1200)
    assert all(e.is_unique for _, e in df.groupby("sample", observed=True)["event"])  # entry numbers across files
    assert df["is_test"].mean() == pytest.approx(0.2, abs=0.03)
    assert (df.loc[df["sample"] == "sig", "label"] == 0).all() and (df.loc[df["sample"] == "bkg", "label"] == 1).all()


def test_split_is_by_event_number(toy_dir):
    ana = config.analysis("resolved")
    a = data.load(ana, 1.0, toy_dir)
    assert (a["is_test"] == (a["event"] % 5 == 0)).all()
    b = data.load(ana, 1.0, toy_dir)
    assert a.equals(b)


def test_missing_file_and_glob(tmp_path):
    ana = config.analysis("mine", _user_files(tmp_path))
    for f in (tmp_path / "nt").glob("sig_*"):
        f.unlink()
    with pytest.raises((FileNotFoundError, InputFileError), match=r"sample .sig.: no file matches .*sig_\*\.root.*\(glob\)"):
        data.load(ana, 1.0, tmp_path)


def test_missing_tree_lists_trees(tmp_path):
    ana = config.analysis("mine", _user_files(tmp_path, tree="Other"))
    ana = config.Analysis(**{**ana.__dict__, "samples": tuple(
        config.Sample(**{**s.__dict__, "tree": "Events"}) for s in ana.samples)})
    with pytest.raises(InputFileError, match=r"has no tree 'Events'; trees in the file: Other"):
        data.load(ana, 1.0, tmp_path)


def test_missing_branch_suggests(tmp_path):
    ana = config.analysis("mine", _user_files(tmp_path))
    ana = config.Analysis(**{**ana.__dict__, "features": ("x_vars", "y_var")})
    with pytest.raises(InputFileError, match=r"sig_0\.root.*missing branch\(es\) 'x_vars' \(close: x_var"):
        data.load(ana, 1.0, tmp_path)


def test_corrupt_and_truncated_file(tmp_path):
    ana = config.analysis("mine", _user_files(tmp_path))
    target = tmp_path / "nt" / "bkg_1.root"
    target.write_bytes(target.read_bytes()[:500])
    with pytest.raises(InputFileError, match=r"bkg_1\.root.*(corrupt|truncated)"):
        data.load(ana, 1.0, tmp_path)
    target.write_bytes(b"this is not a ROOT file at all" * 10)
    with pytest.raises(InputFileError, match=r"bkg_1\.root is not a readable ROOT file"):
        data.load(ana, 1.0, tmp_path)


def test_nan_values_counted(tmp_path):
    ana = config.analysis("mine", _user_files(tmp_path, nan_in=("bkg", 2)))
    with pytest.raises(InputFileError, match=r"sample 'bkg'.*NaN or infinite values in \d events \(x_var: \d\)"):
        data.load(ana, 1.0, tmp_path)


def test_empty_after_selection(tmp_path):
    ana = config.analysis("mine", _user_files(tmp_path))
    ana = config.Analysis(**{**ana.__dict__, "selection": "nj > 100"})
    with pytest.raises(InputFileError, match=r"sample 'sig' is empty after the selection '\(nj > 100\)'"):
        data.load(ana, 1.0, tmp_path)


def test_lambda_a_sample_cannot_provide(toy_dir, tmp_path):
    with pytest.raises(ConfigError, match=r"no signal sample for lambda 5.0: available lambdas 1.0"):
        data.load(config.analysis("tthh"), 5.0, toy_dir)
    user = tmp_path / "u.yaml"
    user.write_text(textwrap.dedent(f"""
        analyses:
          hh:
            tree: preselection
            weight: weight
            features: [m_hh]
            classes: [signal, background]
            samples:
              - {{name: hh, class: signal, files: "{toy_dir}/resolved/hh_SlfCoup_{{tag}}.root"}}
              - {{name: bkg, class: background, files: "{toy_dir}/resolved/ttbar.root"}}
    """))
    with pytest.raises(InputFileError, match=r"no signal sample for lambda 7.0.*hh_SlfCoup_7.0.root"):
        data.load(config.analysis("hh", user), 7.0, toy_dir)


# Signal samples per lambda: each network reads only the signal sample(s) that provide its lambda.

# three productions, three naming conventions, none of them hhnb's own
SAMPLES = [
    {"name": "hh_sm", "class": "signal", "lambdas": [1], "files": "sig/kl_{tag}.root",
     "tag_format": {"point": "p", "decimals": 2}},                                     # kl_1p00.root
    {"name": "hh_km5", "class": "signal", "lambdas": ["m5.0"], "files": "sig/kl{tag}.root",
     "tag_format": {"point": "p", "minus": "m", "decimals": 1}},                       # klm5p0.root
    {"name": "hh_k10", "class": "signal", "lambdas": [10], "files": "sig/HH_kappa{tag}.root",
     "tag_format": {"point": "", "decimals": 0}},                                      # HH_kappa10.root
    {"name": "bkg", "class": "background", "files": "bkg.root"},
]
EVENTS = {1.0: 300, -5.0: 400, 10.0: 500}
SHIFT = {1.0: 0.5, -5.0: 1.5, 10.0: 3.0}


@pytest.fixture
def user(tmp_path):
    for (kl, name), seed in zip({1.0: "kl_1p00", -5.0: "klm5p0", 10.0: "HH_kappa10"}.items(), (1, 2, 3)):
        write_ntuple(tmp_path / "sig" / f"{name}.root", EVENTS[kl], seed=seed, shift=SHIFT[kl])
    write_ntuple(tmp_path / "bkg.root", 600, seed=4)
    return config.analysis("mine", write_config(tmp_path / "cfg.yaml", SAMPLES))


def test_each_lambda_reads_its_own_sample(user, tmp_path):
    for kl, n in EVENTS.items():
        df = data.load(user, kl, tmp_path)
        signal = df[df["label"] == 0]
        assert set(signal["sample"].astype(str)) == {next(s["name"] for s in SAMPLES if s["class"] == "signal"
                                                          and float(str(s["lambdas"][0]).replace("m", "-")) == kl)}
        assert len(signal) == n
        assert signal["x1"].mean() == pytest.approx(SHIFT[kl], abs=0.2)
        assert (df["label"] == 1).sum() == 600


def test_missing_lambda_lists_the_available_ones(user, tmp_path):
    with pytest.raises(ConfigError, match=r"no signal sample for lambda 2.0: available lambdas m5.0, 1.0, 10.0"):
        data.load(user, 2.0, tmp_path)


@pytest.mark.slow
def test_each_lambda_trains_on_its_own_sample(user, tmp_path):
    from hhnb.config.training import HyperParameters
    from hhnb.nn.training import train

    cfg = tmp_path / "cfg.yaml"
    hyper = HyperParameters(epochs=1, widths=(8,), batch_size=64)
    for kl, n in EVENTS.items():
        run = train("mine", kl, config=cfg, data_dir=tmp_path, models_dir=tmp_path / "models", hyper=hyper, seed=1, folds=1)
        signal = run.scores[run.scores["label"] == 0]
        assert len(signal) == n
        assert signal["sample"].nunique() == 1
        assert run.card["lambda"] == kl and run.model_path.exists()
        assert np.isfinite(run.card["metrics"]["test_auc"])


# ROOT interop, with ROOT itself (the ``root`` package from PyPI)


@pytest.fixture
def root():
    """ROOT, skipping the test where it is not installed; signals (SIGCHLD, SIGPIPE, SIGSEGV) left to Python and pytest."""
    ROOT = pytest.importorskip("ROOT")
    ROOT.gSystem.ResetSignals()
    return ROOT


def _root_written_tree(ROOT, path, n=1000):
    """Write a TTree with double, float, int and bool branches using ROOT's own RDataFrame."""
    df = ROOT.RDataFrame(n)
    df = (df.Define("x_double", "double(rdfentry_) * 0.5")
            .Define("x_float", "float(rdfentry_) * 0.25f")
            .Define("n_int", "int(rdfentry_ % 7)")
            .Define("is_b", "bool(rdfentry_ % 2)")
            .Define("evt", "(Long64_t) rdfentry_"))
    df.Snapshot("tree", str(path))


@pytest.mark.root
def test_hhnb_reads_a_tree_written_by_root(root, tmp_path):
    _root_written_tree(root, tmp_path / "sig.root")
    _root_written_tree(root, tmp_path / "bkg.root")
    yaml = tmp_path / "root.yaml"
    yaml.write_text(textwrap.dedent("""
        analyses:
          fromroot:
            tree: tree
            event: evt
            features: [x_double, x_float, n_int, is_b]
            classes: [signal, background]
            samples:
              - {name: s, class: signal, files: sig.root, cross_section: 1.0}
              - {name: b, class: background, files: bkg.root, cross_section: 1.0}
    """))
    df = data.load(config.analysis("fromroot", yaml), 1.0, tmp_path)
    s = df[df["sample"] == "s"].sort_values("event")
    i = np.arange(1000)
    np.testing.assert_array_equal(s["x_double"], i * 0.5)
    np.testing.assert_array_equal(s["x_float"], (i * 0.25).astype(np.float32))
    np.testing.assert_array_equal(s["n_int"], i % 7)
    np.testing.assert_array_equal(s["is_b"].astype(bool), (i % 2).astype(bool))
    np.testing.assert_array_equal(s["is_test"], i % 5 == 0)


def test_read_a_variation_tree_and_weight_variations(tmp_path):
    """``tree=`` reads a variation tree through the same selection; ``weights=`` adds weight-variation columns
    normalised as the nominal weight (here sigma x L / sum of weights)."""
    rng = np.random.default_rng(4)
    n = 500
    x = rng.normal(0.0, 1.0, n)
    w = np.where(rng.random(n) < 0.2, -2.0, 2.0)
    with uproot.recreate(tmp_path / "s.root") as f:
        for tree, shift in (("nominal", 0.0), ("nominal__JES__1up", 0.5)):
            f.mktree(tree, {"x": np.float64, "wgt": np.float64, "wgt_up": np.float64, "evt": np.int64})
            f[tree].extend({"x": x + shift, "wgt": w, "wgt_up": 1.1 * w, "evt": np.arange(n, dtype=np.int64)})
        f["sumw"] = (np.array([800.0]), np.array([0.0, 1.0]))  # one bin: 800
    cfg = write_config(tmp_path / "c.yaml", [
        {"name": "sig", "class": "signal", "files": "s.root", "cross_section": 2.0,
         "sum_of_weights": {"histogram": "sumw", "bin": 1}},
        {"name": "bkg", "class": "background", "files": "s.root", "cross_section": 2.0,
         "sum_of_weights": {"histogram": "sumw", "bin": 1}}],
        tree="nominal", weight="wgt", features=["x"], masses={}, selection="x > 0")
    ana = config.load(cfg).analysis("mine")
    sample = ana.samples[0]
    files = [str(tmp_path / "s.root")]
    nom = data.read_sample(ana, sample, files, ["x"], weights={"up": "wgt_up"})
    up = data.read_sample(ana, sample, files, ["x"], tree="nominal__JES__1up")
    assert len(nom) == (x > 0).sum() and len(up) == (x + 0.5 > 0).sum()  # events enter the selection
    scale = 2.0 * 300.0 / 800.0
    np.testing.assert_allclose(nom["weight"], w[x > 0] * scale)
    np.testing.assert_allclose(nom["up"], 1.1 * w[x > 0] * scale)
    assert np.array_equal(up["event"], np.flatnonzero(x + 0.5 > 0))  # the same event numbers
    with pytest.raises(InputFileError, match="has no tree 'nominal__JER__1up'; trees in the file: nominal, "):
        data.read_sample(ana, sample, files, ["x"], tree="nominal__JER__1up")
