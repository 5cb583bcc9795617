"""Collections, signed generator weights and the sum of weights as productions store them (io.ntuples, io.check)."""

from __future__ import annotations

import awkward as ak
import hist
import numpy as np
import pytest
import uproot
import yaml

from hhnb import cli
from hhnb.config import analyses as config
from hhnb.errors import ConfigError
from hhnb.io import check, ntuples

LUMI = 100.0


def _events(n: int, seed: int, shift: float):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 5, n)
    pt = ak.unflatten(rng.exponential(40.0, counts.sum()) + 20 + shift, counts)
    gen = np.where(rng.random(n) < 0.2, -1.0, 1.0) * 2.5  # NLO-like: 20 % negative
    return {"Jet_pt": ak.sort(pt, ascending=False), "genWeight": gen, "event": np.arange(n, dtype=np.uint64) + 10**12}


def _write(path, n, seed, shift=0.0, rntuple=False, sumw_scale=1.0):
    ev = _events(n, seed, shift)
    with uproot.recreate(path) as f:
        if rntuple:
            f.mkrntuple("Events", ev)
        else:
            f.mktree("Events", {"Jet_pt": "var * float32", "genWeight": "float32", "event": "uint64"})
            f["Events"].extend(ev)
        f.mktree("Runs", {"genEventSumw": "float64", "genEventCount": "int64"})
        generated = 4 * float(ev["genWeight"].sum()) * sumw_scale  # the selected file keeps a quarter
        f["Runs"].extend({"genEventSumw": np.array([generated / 2, generated / 2]),
                          "genEventCount": np.array([2 * n, 2 * n])})
        h = hist.Hist.new.Reg(3, 0, 3).Double()
        h[0] = generated  # the first bin: ROOT numbers it 1 (0 is the underflow)
        f["metadata/sumOfWeights"] = h
    return ev


def _config(tmp_path, sumw, **extra):
    spec = {"tree": "Events", "weight": "genWeight", "event": "event",
            "features": ["Jet_pt[:, 0]", {"expr": "Jet_pt[:, 1]", "pad": -1.0}, "num(Jet_pt)",
                         "sum(Jet_pt[Jet_pt > 30])"],
            "masses": {"lead": "Jet_pt[:, 0]"}, "selection": "num(Jet_pt) >= 1", "classes": ["signal", "background"],
            "samples": [{"name": "sig", "class": "signal", "files": "sig.root", "cross_section": 2.0,
                         "sum_of_weights": sumw},
                        {"name": "dy", "class": "background", "files": "dy.root", "cross_section": 500.0,
                         "sum_of_weights": sumw}], **extra}
    p = tmp_path / "nano.yaml"
    p.write_text(yaml.safe_dump({"luminosity": LUMI, "analyses": {"nano": spec}}))
    return p


@pytest.mark.parametrize("sumw", [{"tree": "Runs", "branch": "genEventSumw"},
                                  {"histogram": "metadata/sumOfWeights", "bin": 1}])
@pytest.mark.parametrize("rntuple", [False, True])
def test_weight_is_xsec_lumi_genweight_over_sum_of_weights(tmp_path, sumw, rntuple):
    sig = _write(tmp_path / "sig.root", 400, 1, shift=30.0, rntuple=rntuple)
    _write(tmp_path / "dy.root", 600, 2, rntuple=rntuple)
    ana = config.analysis("nano", _config(tmp_path, sumw))
    df = ntuples.load(ana, 1.0, tmp_path)
    s = df[df["sample"] == "sig"]
    keep = ak.num(sig["Jet_pt"]) >= 1
    generated = 4 * float(sig["genWeight"].sum())
    np.testing.assert_allclose(s["weight"], 2.0 * LUMI * np.asarray(sig["genWeight"])[keep] / generated, rtol=1e-6)
    # the weighted selected yield is sigma x L x (selected sum of gen weights) / (generated sum)
    assert s["weight"].sum() == pytest.approx(2.0 * LUMI * float(sig["genWeight"][keep].sum()) / generated, rel=1e-6)
    assert (s["weight"] < 0).mean() == pytest.approx(0.2, abs=0.06)
    np.testing.assert_allclose(s["Jet_pt[:, 0]"], ak.to_numpy(sig["Jet_pt"][keep][:, 0]), rtol=1e-6)
    second = ak.to_numpy(ak.fill_none(ak.pad_none(sig["Jet_pt"][keep], 2)[:, 1], -1.0))
    np.testing.assert_allclose(s["Jet_pt[:, 1]"], second, rtol=1e-6)
    assert (s["event"].to_numpy() >= 10**12).all()  # uint64 event numbers read exactly


def test_check_reports_normalisation_negative_fraction_and_trees(tmp_path, capsys):
    _write(tmp_path / "sig.root", 400, 1, shift=30.0)
    _write(tmp_path / "dy.root", 600, 2)
    cfg = _config(tmp_path, {"tree": "Runs", "branch": "genEventSumw"})
    report = check.check(config.load(cfg), tmp_path)
    assert report.ok, report.problems
    row = report.table.set_index("sample").loc["sig"]
    assert float(row["sum_of_weights"]) == pytest.approx(4 * float(_events(400, 1, 30.0)["genWeight"].sum()), rel=1e-5)
    assert row["trees"] == "Events, Runs" and row["trees with inputs"] == "Events"
    assert 15.0 < float(row["negative"].rstrip("%")) < 25.0
    assert cli.main(["check", "--config", str(cfg), "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "sum_of_weights" in out and "trees with inputs" in out


@pytest.mark.parametrize(("sumw", "scale", "message"), [
    ({"tree": "Runz", "branch": "genEventSumw"}, 1.0, "has no tree 'Runz'; trees in the file: Events, Runs"),
    ({"tree": "Runs", "branch": "genEventSum"}, 1.0, "tree 'Runs': sum_of_weights branch 'genEventSum'"),
    ({"histogram": "metadata/sumOfWeight"}, 1.0, "no histogram 'metadata/sumOfWeight'"),
    ({"tree": "Runs", "branch": "genEventSumw"}, 0.0, "expected a finite, non-zero number"),
])
def test_bad_sum_of_weights_is_one_line(tmp_path, capsys, sumw, scale, message):
    _write(tmp_path / "sig.root", 100, 1, sumw_scale=scale)
    _write(tmp_path / "dy.root", 100, 2, sumw_scale=scale)
    cfg = _config(tmp_path, sumw)
    assert cli.main(["samples", "--config", str(cfg), "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and ("sig.root" in err or "'sig'" in err), err


@pytest.mark.parametrize(("feature", "message"), [
    ("Jet_pt[:, 0", "expression 'Jet_pt[:, 0' does not parse"),
    ("Jets_pt[:, 0]", "names 'Jets_pt'"),
    ("genWeight[:, 0]", "[:, 0] needs a list per event"),
])
def test_bad_feature_expression_is_one_problem_per_file(tmp_path, feature, message):
    _write(tmp_path / "sig.root", 100, 1)
    _write(tmp_path / "dy.root", 100, 2)
    cfg = _config(tmp_path, {"tree": "Runs", "branch": "genEventSumw"}, pad=-5.0)
    raw = yaml.safe_load(cfg.read_text())
    raw["analyses"]["nano"]["features"][0] = feature
    cfg.write_text(yaml.safe_dump(raw))
    report = check.check(config.load(cfg), tmp_path)
    assert len(report.problems) == 2 and all(message in p and "tree 'Events'" in p for p in report.problems)


def test_sum_of_weights_needs_a_cross_section(tmp_path):
    cfg = _config(tmp_path, {"tree": "Runs", "branch": "genEventSumw"})
    raw = yaml.safe_load(cfg.read_text())
    del raw["analyses"]["nano"]["samples"][0]["cross_section"]
    cfg.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="has 'sum_of_weights' but no 'cross_section'"):
        config.load(cfg)
