"""hhnb.layout: every on-disk and branch name, built and parsed in one place."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hhnb import layout
from hhnb.errors import HHNBError


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HHNB_HOME", str(tmp_path))
    return tmp_path


def test_project_folder_is_hhnb_home(home):
    assert layout.project_dir() == home.resolve()
    assert layout.data_dir() == home / "data"
    assert layout.models_dir() == home / "models"
    assert layout.record_path() == home / "runs" / "record.sqlite"
    assert layout.optuna_url() == f"sqlite:///{home / 'runs' / 'optuna.sqlite'}"


def test_project_folder_without_hhnb_home_is_the_cwd(tmp_path, monkeypatch):
    monkeypatch.delenv("HHNB_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert layout.project_dir() == tmp_path.resolve()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    sub = tmp_path / "notebooks"
    monkeypatch.chdir(sub)
    assert layout.project_dir() == tmp_path.resolve()  # a notebook started from notebooks/ writes to the checkout


def test_explicit_paths_win(home, tmp_path):
    assert layout.models_dir(tmp_path / "elsewhere") == (tmp_path / "elsewhere").resolve()
    assert layout.data_dir("") == home / "data"


def test_network_files():
    assert layout.model_path("m", "boosted", -5) == Path("m/nn_boosted_SlfCoup_m5.0.keras")
    assert layout.card_path("m", "boosted", 0.5) == Path("m/nn_boosted_SlfCoup_0.5.json")
    assert layout.scores_path("m", "tthh", "10") == Path("m/nn_tthh_SlfCoup_10.0_scores.parquet")
    assert layout.model_path("m", "resolved", 1, fold=3).name == "nn_resolved_SlfCoup_1.0_fold3.keras"
    assert layout.model_path("m", "resolved", layout.PARAM).name == "nn_resolved_SlfCoup_param.keras"


def test_card_paths_finds_one_analysis_only(tmp_path):
    for name in ("nn_resolved_SlfCoup_1.0.json", "nn_resolved_SlfCoup_m5.0.json", "nn_boosted_SlfCoup_1.0.json",
                 "nn_resolved_SlfCoup_1.0_scores.parquet"):
        (tmp_path / name).write_text("{}")
    names = [p.name for p in layout.card_paths(tmp_path, "resolved")]
    assert names == ["nn_resolved_SlfCoup_1.0.json", "nn_resolved_SlfCoup_m5.0.json"]


def test_run_folders(tmp_path):
    assert layout.run_dir("boosted", 10, tmp_path) == tmp_path / "boosted" / "lambda10.0"
    assert layout.kinematics_dir("boosted", -5, tmp_path) == tmp_path / "boosted" / "lambdam5.0" / "kinematics"
    assert layout.correlations_dir("resolved", 1, tmp_path) == tmp_path / "resolved" / "lambda1.0"
    assert layout.shap_dir("resolved", 2.45, tmp_path) == tmp_path / "resolved" / "lambda2.45"


def test_notebook_copies_keep_the_older_names(tmp_path):
    assert layout.notebook_copy(tmp_path, "shap", "boosted", -5) == \
        tmp_path / "shap_values" / "shap_plots-boosted-lambdam5.0.ipynb"
    assert layout.notebook_copy(tmp_path, "correlations", "resolved", 1) == \
        tmp_path / "correlation_plots" / "score_vs_mass-resolved-lambda1.0.ipynb"
    assert layout.notebook_copy(tmp_path, "evaluate", "tthh", 1) == tmp_path / "runs" / "tthh" / "lambda1.0" / "evaluate.ipynb"


@pytest.mark.parametrize("analysis,kl,classes", [
    ("resolved", 1.0, ("hh", "qcd", "top")), ("boosted", -5.0, ("hh", "qcd", "top")),
    ("my_4b_v2", 2.45, ("signal", "background")), ("tthh", 1.0, ("signal", "background")),
])
def test_score_branches_parse_back(analysis, kl, classes):
    names = layout.score_branches(analysis, kl, classes)
    assert len(names) == (1 if len(classes) == 2 else len(classes))
    for name, output in zip(names, ["sig", *classes[1:]]):
        parsed = layout.parse_score_branch(name)
        assert (parsed.analysis, parsed.kl, parsed.output) == (analysis, kl, output)
    test = layout.parse_score_branch(layout.istest_branch(analysis, kl))
    assert (test.analysis, test.kl, test.output) == (analysis, kl, "istest")


def test_score_branch_parser_refuses_other_names():
    with pytest.raises(HHNBError, match="not a score branch"):
        layout.parse_score_branch("h1_M")


def test_applied_names():
    assert layout.applied_path("d/hh_SlfCoup_1.0.root") == Path("d/hh_SlfCoup_1.0_withNNs.root")
    assert layout.applied_sample("out/qcd_4b_withNNs.root") == "qcd_4b"
    assert layout.applied_sample("out/qcd_4b.root") == "qcd_4b"


def test_lumi_label_follows_the_analysis():
    assert layout.lumi_label(3000.0) == "\u221as = 14 TeV, 3000 fb$^{-1}$"
    assert layout.lumi_label(139.0, 13.0) == "\u221as = 13 TeV, 139 fb$^{-1}$"
    assert layout.lumi_label(None) == "\u221as = 14 TeV"


def test_shipped_files_are_package_data():
    assert (layout.notebook("train")).is_file()
    assert layout.default_config().name == "analyses.yaml" and layout.default_config().is_file()


def test_names_are_built_only_in_layout():
    """The folder pattern, the score-branch pattern and the default tree name appear in no other module."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    for pattern in ("lambda{", "nnscore_", "preselection"):
        out = subprocess.run(["git", "grep", "-l", "-F", "-e", pattern, "--", "hhnb", "benchmarks"], cwd=root,
                             capture_output=True, text=True).stdout.split()
        assert out == ["hhnb/layout.py"], (pattern, out)
