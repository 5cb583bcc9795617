"""hhnb.toy.ondemand: which toy files a network needs are missing or stale, and generating only those."""

from __future__ import annotations

import pytest
import uproot
from userfiles import write_config, write_ntuple

from hhnb.config import analyses as config
from hhnb.config import defaults
from hhnb.errors import InputFileError
from hhnb.io import ntuples as data
from hhnb.toy import generate as gen
from hhnb.toy import ondemand


def _entries(path):
    with uproot.open(path) as f:
        return f["preselection"].num_entries, str(f["hhnb_info"])


def test_an_empty_folder_misses_every_sample_at_its_own_lambda(tmp_path):
    """The signal at the network's lambda, the backgrounds (lambda-independent) at 1.0, in the config's order."""
    assert ondemand.missing_files(config.analysis("resolved"), 5.0, tmp_path) == [
        ("hh", 5.0), ("qcd_4b", 1.0), ("qcd_2b2j", 1.0), ("ttbar", 1.0)]


def test_a_user_analysis_is_never_generated(tmp_path, capsys):
    write_ntuple(tmp_path / "sig.root", 50, seed=1)
    cfg = write_config(tmp_path / "cfg.yaml", [{"name": "sig", "class": "signal", "files": "sig.root"},
                                               {"name": "bkg", "class": "background", "files": "bkg.root"}])
    ana = config.analysis("mine", cfg)
    assert not ana.toy
    assert ondemand.missing_files(ana, 1.0, tmp_path) == []  # bkg.root is missing, but not a toy file
    assert ondemand.generate_missing(ana, 1.0, tmp_path) == []
    assert capsys.readouterr().out == "" and sorted(p.name for p in tmp_path.iterdir()) == ["cfg.yaml", "sig.root"]


def test_generate_missing_uses_the_toy_defaults_and_only_what_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(defaults, "EVENTS", 300)
    ana = config.analysis("tthh")
    assert ondemand.generate_missing(ana, 1.0, tmp_path) == [("tthh", 1.0), ("ttbb", 1.0), ("tth", 1.0), ("ttz", 1.0)]
    out = capsys.readouterr().out.splitlines()
    assert out == [f"generating the toy sample {s} (lambda 1.0) in {tmp_path}" for s in ("tthh", "ttbb", "tth", "ttz")]
    events, info = _entries(tmp_path / "tthh" / "tthh.root")
    assert events == 300 and f" seed={defaults.SEED} " in info  # events and seed: hhnb.config.defaults
    assert all(_entries(tmp_path / "tthh" / f"{s}.root")[0] <= 300 for s in ("ttbb", "tth", "ttz"))
    assert ondemand.generate_missing(ana, 1.0, tmp_path) == [] and capsys.readouterr().out == ""
    (tmp_path / "tthh" / "ttz.root").unlink()
    before = (tmp_path / "tthh" / "ttbb.root").stat().st_mtime_ns
    assert ondemand.generate_missing(ana, 1.0, tmp_path, events=200, seed=9) == [("ttz", 1.0)]
    assert " seed=9 " in _entries(tmp_path / "tthh" / "ttz.root")[1]
    assert (tmp_path / "tthh" / "ttbb.root").stat().st_mtime_ns == before  # the others are left alone


def test_missing_toy_files_counts_files_of_another_generator_version(tmp_path, monkeypatch):
    ana = config.analysis("tthh")
    gen.generate(tmp_path, analyses=["tthh"], events=200, seed=5, progress=False)
    assert ondemand.missing_files(ana, 1.0, tmp_path) == []
    monkeypatch.setattr(gen, "toy_version", lambda: "0123456789ab")
    assert sorted(name for name, _ in ondemand.missing_files(ana, 1.0, tmp_path)) == sorted(gen.TTHH_SAMPLES)


def test_toy_signal_generated_only_when_asked(toy_dir, capsys):
    with pytest.raises(InputFileError, match=r"hh_SlfCoup_m0.5.root.*hhnb generate --analyses boosted --lambdas m0.5"):
        data.load(config.analysis("boosted"), -0.5, toy_dir)
    assert not (toy_dir / "boosted" / "hh_SlfCoup_m0.5.root").exists()
    ondemand.generate_missing(config.analysis("boosted"), -0.5, toy_dir)
    df = data.load(config.analysis("boosted"), -0.5, toy_dir)
    assert "generating the toy sample hh (lambda m0.5)" in capsys.readouterr().out
    assert (toy_dir / "boosted" / "hh_SlfCoup_m0.5.root").exists()
    assert (df["sample"] == "hh").sum() > 0
