"""hhnb.commands.demo: options and --help, the run's four steps (each stage stubbed), the results and interval tables."""

from __future__ import annotations

import argparse

import pandas as pd
import pytest

from hhnb import cli
from hhnb.commands import demo
from hhnb.commands import sweep as sweep_cmd
from hhnb.io import record


def _args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    demo.add_arguments(p)
    return p.parse_args(argv)


def test_defaults_are_the_demo_grid():
    args = _args([])
    assert (args.analyses, args.lambdas, args.events, args.workers, args.force, args.folds) == (
        "resolved,boosted", "1.0,10.0", 5000, None, False, None)
    args = _args(["--analyses", "tthh", "--lambdas", "m5.0", "--events", "300", "--workers", "2", "--force",
                  "--folds", "1"])
    assert (args.analyses, args.lambdas, args.events, args.workers, args.force, args.folds) == (
        "tthh", "m5.0", 300, 2, True, 1)


def test_help_names_every_option_with_its_default(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["demo", "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert text.startswith("usage: hhnb demo [-h] [--analyses ANALYSES] [--lambdas LAMBDAS] [--events EVENTS]")
    assert "Generate toy ntuples, sweep the default grid, print the results" in text
    assert "default resolved,boosted" in text and "default 1.0,10.0" in text
    for option in ("--workers", "--force", "--folds"):
        assert option in text


def test_run_goes_through_the_four_steps(tmp_path, monkeypatch, capsys):
    """Every stage stubbed: generate, the sweep (its arguments checked), the summary notebook, the interval table."""
    monkeypatch.setenv("HHNB_HOME", str(tmp_path))
    calls = {}

    def generate(data_dir, **kw):
        calls["generate"] = (data_dir, kw)
        return []  # no file written: an empty samples table

    def sweep(args):
        calls["sweep"] = args
        return 0

    monkeypatch.setattr(demo, "generate", generate)
    monkeypatch.setattr(sweep_cmd, "run", sweep)
    monkeypatch.setattr(demo, "_run_summary", lambda project: project / "runs" / "summary.ipynb")
    monkeypatch.setattr(demo, "_interval_table", lambda analyses, kls: f"intervals for {analyses} at {kls}")
    assert cli.main(["demo", "--analyses", "boosted", "--lambdas", "1,m5.0", "--events", "123", "--workers", "2",
                     "--folds", "1"]) == 0
    data, kw = calls["generate"]
    assert data == tmp_path / "data" and kw["analyses"] == ["boosted"] and kw["lambdas"] == [1.0, -5.0]
    assert kw["events"] == 123 and kw["skip_existing"] is True
    s = calls["sweep"]
    assert (s.analyses, s.lambdas, s.workers, s.folds, s.force, s.cluster) == ("boosted", "1,m5.0", 2, 1, False,
                                                                               "local")
    out = capsys.readouterr().out
    heads = [line for line in out.splitlines() if line.startswith("== ")]
    assert [h.split(".")[0] for h in heads] == ["== 1", "== 2", "== 3", "== 4"]
    assert heads[0] == f"== 1. toy ntuples in {tmp_path / 'data'} (lambda 1.0, m5.0)"
    assert "no evaluated network in the run record" in out and "intervals for ['boosted'] at [1.0, -5.0]" in out
    assert f"summary notebook    {tmp_path / 'runs' / 'summary.ipynb'}" in out


def test_results_table_from_the_record(tmp_path, monkeypatch):
    monkeypatch.setenv("HHNB_HOME", str(tmp_path))
    assert demo._results_table() == "no evaluated network in the run record"
    record.add({"analysis": "resolved", "lambda": 1.0, "auc": 0.9312, "auc_error": 0.0042, "max_significance": 3.456,
                "significance_error": 0.41, "nbkg": 812.3, "nbkg_mc_events": 57, "best_cut": 0.9,
                "source": "evaluate"})
    record.add({"analysis": "resolved", "lambda": 10.0, "auc": 0.99, "max_significance": 9.0, "source": "search"})
    text = demo._results_table()
    lines = text.splitlines()
    assert lines[0].startswith("Headline: Z with the background from control regions")
    # the headline row: no scores saved here, so the control-region columns say why, the record's Z beside it
    assert lines[1].split()[:6] == ["analysis", "lambda", "cut", "Z,", "bkg", "from"]
    assert lines[3].split()[:6] == ["resolved", "1", "0.9", "scores", "file", str(tmp_path / "models")
                                    + "/nn_resolved_SlfCoup_1.0_scores.parquet"]
    assert lines[3].split()[-3:] == ["3.46", "+-", "0.41"]
    i = next(k for k, line in enumerate(lines) if line.startswith("MC-based, as evaluated"))
    assert "Z: Asimov significance with the background MC error" in lines[i]
    assert lines[i + 1].split() == ["analysis", "lambda", "AUC", "Z", "nbkg", "simulated", "bkg", "events"]
    # the search row is left out: one row, the evaluation's numbers with their bootstrap errors
    assert [line.split() for line in lines[i + 3:]] == [["resolved", "1", "0.931", "+-", "0.0042", "3.46", "+-",
                                                         "0.41", "812.3", "57"]]


def test_interval_table_without_bbbb_category_and_with_one(monkeypatch):
    assert demo._interval_table(["tthh"], [1.0]) == "no HH -> bbbb category in the demo: no kappa_lambda interval"

    class Report:
        notes = ["bins 4 and 5 merged (empty background)", "unrelated note"]
        table = pd.DataFrame({"boosted": ["[-1.50, 6.50]", "[-2.00, 7.00]"]},
                             index=[demo.summary_report.HEADLINE, "MC bkg, chi2 (no MC error)"])

        def closure_table(self):
            return pd.DataFrame({"category": ["boosted"], "closure (MC)": ["0.90 +- 0.05"]})

        class constraints:  # noqa: N801 - stands for the ConstraintsReport attribute
            @staticmethod
            def combined_with_systematics():
                return "kappa_lambda 68 % CL, combined, network kl = 10, with all systematics: [-0.50, 4.00]"

    seen = {}
    monkeypatch.setattr(demo.summary_report, "intervals",
                        lambda cats, kl, **kw: seen.update(cats=cats, kl=kl, **kw) or Report())
    text = demo._interval_table(["boosted", "tthh"], [10.0, 1.0])
    assert seen["cats"] == ["boosted"] and seen["kl"] == 10.0 and seen["pyhf_points"] == 201 and seen["with_systematics"]
    assert text.startswith("68 % CL, networks trained at kl = 10; headline: bkg from CRs, pyhf")
    lines = text.splitlines()
    assert lines[3].split()[-3:] == ["non-closure)", "[-1.50,", "6.50]"] and "MC bkg, chi2" in lines[4]
    assert "0.90 +- 0.05" in text
    assert lines[-4] == "bins 4 and 5 merged (empty background)" and "unrelated" not in text
    # the demo ends with the combined interval with all systematics
    assert lines[-1] == "kappa_lambda 68 % CL, combined, network kl = 10, with all systematics: [-0.50, 4.00]"
    assert lines[-2].startswith("with the systematic uncertainties (JES, JER, b-tagging")
