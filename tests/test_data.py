import textwrap

import numpy as np
import pytest
import uproot

from hhnb.config import analyses as config
from hhnb.errors import ConfigError, InputFileError
from hhnb.io import ntuples as data
from hhnb.toy import ondemand


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


def test_toy_signal_generated_only_when_asked(toy_dir, capsys):
    with pytest.raises(InputFileError, match=r"hh_SlfCoup_m0.5.root.*hhnb generate --analyses boosted --lambdas m0.5"):
        data.load(config.analysis("boosted"), -0.5, toy_dir)
    assert not (toy_dir / "boosted" / "hh_SlfCoup_m0.5.root").exists()
    ondemand.generate_missing(config.analysis("boosted"), -0.5, toy_dir)
    df = data.load(config.analysis("boosted"), -0.5, toy_dir)
    assert "generating the toy sample hh (lambda m0.5)" in capsys.readouterr().out
    assert (toy_dir / "boosted" / "hh_SlfCoup_m0.5.root").exists()
    assert (df["sample"] == "hh").sum() > 0
