"""hhnb.io.check (and ``hhnb check``): every problem of a configuration listed in one run, the summary table."""

from __future__ import annotations

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
