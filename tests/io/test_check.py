"""hhnb.io.check (and ``hhnb check``): every problem of a configuration listed in one run, the summary table."""

from __future__ import annotations

import pytest
from userfiles import write_config, write_ntuple

from hhnb import cli
from hhnb.config import analyses as config
from hhnb.io import check


def _config(tmp_path, bad: bool):
    write_ntuple(tmp_path / "sig.root", 300, seed=1, shift=1.0)
    write_ntuple(tmp_path / "bkg1.root", 300, seed=2)
    if bad:
        write_ntuple(tmp_path / "bkg2.root", 300, seed=3, branches=("x1", "w", "evt"))  # no x2
        write_ntuple(tmp_path / "bkg3.root", 300, seed=4, tree="Other")  # wrong tree
        (tmp_path / "bkg4.root").write_bytes(b"this is not a ROOT file" * 20)  # unreadable
    else:
        for i in (2, 3):
            write_ntuple(tmp_path / f"bkg{i}.root", 300, seed=i + 1)
    samples = [{"name": "sig", "class": "signal", "lambdas": [1], "files": "sig.root"},
               {"name": "b1", "class": "background", "files": "bkg1.root"},
               {"name": "b2", "class": "background", "files": "bkg2.root"},
               {"name": "b3", "class": "background", "files": "bkg3.root"}]
    if bad:
        samples.append({"name": "b4", "class": "background", "files": "bkg4.root"})
    return write_config(tmp_path / "cfg.yaml", samples, selection="x2 > -5")


def test_check_lists_every_problem_at_once(tmp_path, capsys):
    cfg = _config(tmp_path, bad=True)
    assert cli.main(["check", "--config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "4 problem(s)" not in err  # three bad files, exactly three problems
    assert "3 problem(s)" in err
    assert "bkg2.root" in err and "missing branch(es) 'x2'" in err
    assert "bkg3.root has no tree 'Events'; trees in the file: Other" in err
    assert "bkg4.root is not a readable ROOT file" in err


def test_check_summary_table_when_all_is_well(tmp_path, capsys):
    cfg = _config(tmp_path, bad=False)
    assert cli.main(["check", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    report = check.check(config.load(cfg), tmp_path)
    assert report.ok
    assert list(report.table["sample"]) == ["sig", "b1", "b2", "b3"]
    assert list(report.table["events"]) == [300, 300, 300, 300]
    assert "all files, trees, branches and selections" in out


def test_check_a_lambda_no_sample_provides(tmp_path, capsys):
    cfg = _config(tmp_path, bad=False)
    assert cli.main(["check", "--config", str(cfg), "--lambda", "5"]) == 1
    assert "no signal sample for lambda 5.0: available lambdas 1.0" in capsys.readouterr().err


def test_check_a_selection_that_cannot_be_evaluated(tmp_path):
    cfg = _config(tmp_path, bad=False)
    text = cfg.read_text().replace("x2 > -5", "nope > 1")
    cfg.write_text(text)
    report = check.check(config.load(cfg), tmp_path)
    assert len(report.problems) == 4 and all("selection '(nope > 1)' cannot be evaluated" in p
                                             for p in report.problems)


# -- systematic variations (issue 25) --------------------------------------------------------------------

def _varied_file(path, n, seed, trees=("Events", "Events__JES__1up", "Events__JES__1down"), weights=("w_up", "w_down")):
    """A user file with a nominal tree, variation trees (x1 shifted) and weight-variation branches."""
    import numpy as np
    import uproot

    rng = np.random.default_rng(seed)
    base = {"x1": rng.normal(0.0, 1.0, n), "x2": rng.normal(0.0, 1.0, n), "w": np.full(n, 0.01),
            "evt": np.arange(n, dtype=np.int64)}
    with uproot.recreate(path) as f:
        for i, tree in enumerate(trees):
            data = dict(base, x1=base["x1"] + 0.1 * i)
            if i == 0:
                data |= {b: base["w"] * (1.1 if "up" in b else 0.9) for b in weights}
            f.mktree(tree, {k: v.dtype for k, v in data.items()})
            f[tree].extend(data)
    return path


def _syst_config(tmp_path, files):
    samples = [{"name": "sig", "class": "signal", "lambdas": [1], "files": files[0]},
               {"name": "bkg", "class": "background", "files": files[1], "norm_uncertainty": 0.25}]
    return write_config(tmp_path / "cfg.yaml", samples, systematics={
        "trees": {"JES": {"up": "{tree}__JES__1up", "down": "{tree}__JES__1down"}},
        "weights": {"btag": {"up": "w_up", "down": "w_down"}}})


def test_check_lists_the_variations_per_file(tmp_path, capsys):
    _varied_file(tmp_path / "sig.root", 200, 1)
    _varied_file(tmp_path / "bkg.root", 200, 2)
    cfg = _syst_config(tmp_path, ["sig.root", "bkg.root"])
    report = check.check(config.load(cfg), tmp_path)
    assert report.ok, report.problems
    s = report.systematics
    assert list(zip(s["sample"], s["variation"], s["kind"])) == [("sig", "JES", "tree"), ("sig", "btag", "weight"),
                                                                 ("bkg", "JES", "tree"), ("bkg", "btag", "weight")]
    assert list(s["up"][:2]) == ["tree Events__JES__1up", "branch w_up"]
    assert list(report.table["normalisation"]) == ["-", "25%"]
    assert cli.main(["check", "--config", str(cfg), "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "systematic variations" in out and "tree Events__JES__1down" in out and "branch w_down" in out


def test_check_names_missing_variation_trees_and_branches(tmp_path, capsys):
    _varied_file(tmp_path / "sig.root", 200, 1)
    _varied_file(tmp_path / "bkg.root", 200, 2, trees=("Events", "Events__JES__1up"), weights=("w_up",))
    cfg = _syst_config(tmp_path, ["sig.root", "bkg.root"])
    report = check.check(config.load(cfg), tmp_path)
    bkg = str(tmp_path / "bkg.root")
    assert report.problems == (
        f"file {bkg}: tree variation 'JES' down: no tree 'Events__JES__1down'; trees in the file: Events, Events__JES__1up",
        f"file {bkg}, tree 'Events': weight variation 'btag' down: missing branch 'w_down'")
    assert list(report.systematics["down"][2:]) == ["missing tree Events__JES__1down", "missing 'w_down'"]
    assert cli.main(["check", "--config", str(cfg), "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and all(p in err for p in report.problems)
    assert all(line.count("\n") == 0 for line in report.problems)


def test_check_the_toy_variations(toy_dir):
    report = check.check_analysis(config.load().analysis("boosted"), toy_dir, 1.0)
    assert report.ok, report.problems
    s = report.systematics
    assert set(s["variation"]) == {"JES", "JER", "btag"} and len(s) == 3 * 4  # four samples, one file each
    assert set(s["up"]) == {"tree preselection__JES__1up", "tree preselection__JER__1up", "branch weight_btag__1up"}


def test_check_lists_the_variations_of_root_written_production_files(tmp_path):
    """Files written by ROOT as productions write them (tree ``nominal`` with ``nominal__JES__1up/1down``,
    std::vector jets, signed weights with b-tag weight branches, a cutflow and ``metadata/sumOfWeights``): every
    variation found, and the files left byte-identical by the check."""
    pytest.importorskip("ROOT")
    import yaml
    from studies import test_constraint_inputs as helpers  # the production-file writer

    for name, seed in (("hh", 1), ("ttbar", 4)):
        helpers._production(tmp_path / f"{name}.root", 300, seed, 80.0)
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.root")}
    norm = {"cross_section": 10.0, "sum_of_weights": {"histogram": "metadata/sumOfWeights", "bin": 1}}
    spec = {"tree": "nominal", "weight": "weight_mc", "event": "eventNumber",
            "features": ["jet_pt[:, 0]", "mHH", "num(jet_pt)"], "masses": {"m_hh": "mHH", "h1_M": "mH1", "h2_M": "mH2"},
            "classes": ["signal", "background"],
            "systematics": {"trees": {"JES": {"up": "{tree}__JES__1up", "down": "{tree}__JES__1down"}},
                            "weights": {"btag": {"up": "weight_btag_up", "down": "weight_btag_down"}}},
            "samples": [{"name": "hh", "class": "signal", "lambdas": [1], "files": "hh.root", **norm},
                        {"name": "ttbar", "class": "background", "files": "ttbar.root", "norm_uncertainty": 0.06, **norm}]}
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(yaml.safe_dump({"luminosity": 300.0, "analyses": {"mine": spec}}))
    report = check.check(config.load(cfg), tmp_path)
    assert report.ok, report.problems
    s = report.systematics
    assert list(zip(s["sample"], s["variation"], s["up"], s["down"])) == [
        ("hh", "JES", "tree nominal__JES__1up", "tree nominal__JES__1down"),
        ("hh", "btag", "branch weight_btag_up", "branch weight_btag_down"),
        ("ttbar", "JES", "tree nominal__JES__1up", "tree nominal__JES__1down"),
        ("ttbar", "btag", "branch weight_btag_up", "branch weight_btag_down")]
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.root")} == before
