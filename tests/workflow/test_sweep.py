"""Tests for hhnb.workflow.sweep: grid, parameters, batch job scripts, a dead scheduler, and a real 2-worker sweep."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from hhnb.errors import ConfigError
from hhnb.io import record
from hhnb.workflow import cluster, sweep
from hhnb.workflow.sweep import Point


def test_grid_and_names(tmp_path):
    pts = sweep.grid("resolved,boosted", "1,m5.0")
    assert pts == [Point("resolved", 1.0), Point("resolved", -5.0), Point("boosted", 1.0), Point("boosted", -5.0)]
    assert len(sweep.grid("resolved", "all")) == 15
    with pytest.raises(ConfigError, match="nope"):
        sweep.grid("resolved,nope", "1")
    with pytest.raises(ValueError, match="not a number or a tag"):
        sweep.grid("resolved", "1,abc")
    p = Point("boosted", -5.0)
    assert sweep.output_path(tmp_path, "shap", p) == tmp_path / "shap_values/shap_plots-boosted-lambdam5.0.ipynb"
    assert sweep.output_path(tmp_path, "correlations", p) == (
        tmp_path / "correlation_plots/score_vs_mass-boosted-lambdam5.0.ipynb")
    assert sweep.output_path(tmp_path, "train", p) == tmp_path / "runs/boosted/lambdam5.0/train.ipynb"
    assert sweep.failed_path(tmp_path / "train.ipynb") == tmp_path / "train.failed.ipynb"


def test_params_scoped_to_points():
    params = sweep.parse_params(["epochs=1", "boosted:epochs=3", "boosted@m5.0:seed=7", "optimizer=adam"])
    assert sweep.point_parameters(params, Point("resolved", 1.0)) == {
        "epochs": 1, "optimizer": "adam", "analysis": "resolved", "lambda": 1.0}
    assert sweep.point_parameters(params, Point("boosted", -5.0)) == {
        "epochs": 3, "optimizer": "adam", "seed": 7, "analysis": "boosted", "lambda": -5.0}
    with pytest.raises(ValueError, match="expected key=value"):
        sweep.parse_params(["epochs"])


def test_present_notebooks(tmp_path):
    (tmp_path / "train.ipynb").write_text("{}")
    assert sweep.present_notebooks(["train", "shap"], tmp_path) == (["train"], ["shap"])


@pytest.mark.parametrize("kind, words", [("htcondor", ["dask_worker", "RequestMemory", "export HHNB_HOME=/proj"]),
                                         ("slurm", ["#SBATCH", "--mem=", "-t 01:00:00", "dask_worker",
                                                    "export HHNB_HOME=/proj"])])
def test_job_script(kind, words):
    jobs = cluster.batch_cluster(kind, cores=2, memory="3GB", walltime="01:00:00", home="/proj")
    try:
        script = jobs.job_script()
    finally:
        jobs.close()
    for word in words:
        assert word in script
    assert "--nthreads 2" in script or "--nworkers 1" in script


def test_dead_scheduler_fails_fast():
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="no Dask scheduler answers at 'tcp://127.0.0.1:9'"):
        cluster.connect("tcp://127.0.0.1:9", timeout="3s")
    assert time.perf_counter() - t0 < 30


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from hhnb.toy.generate import generate

    home = tmp_path_factory.mktemp("sweep")
    generate(home / "data", analyses=["resolved", "boosted"], lambdas=[1.0, 10.0], events=1500, progress=False)
    return home


@pytest.mark.slow
@pytest.mark.heavy
def test_sweep_outputs_resume_and_failure(project, monkeypatch):
    monkeypatch.setenv("HHNB_HOME", str(project))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    pts = sweep.grid("resolved,boosted", "1,10")
    params = sweep.parse_params(["epochs=1", "max_events=400", "widths=[16]", "folds=1",
                                 "boosted@10.0:optimizer=bogus"])
    chain = ["train", "evaluate"]
    client = cluster.local_client(2)
    try:
        assert len(client.scheduler_info()["workers"]) == 2
        seen = []
        res = sweep.sweep(pts, chain, client, params, project=project, on_result=seen.append, progress=False)
        assert len(seen) == 4
        status = {(r.point.analysis, r.point.kl): r.status for r in res}
        assert status == {("resolved", 1.0): "done", ("resolved", 10.0): "done", ("boosted", 1.0): "done",
                          ("boosted", 10.0): "failed"}
        bad = res[3]
        assert bad.error == "train: UserArgumentError: unknown optimizer 'bogus': expected one of adamax, adam, sgd, " \
                            "rmsprop, nadam"
        assert Path(bad.failed_notebook) == project / "runs/boosted/lambda10.0/train.failed.ipynb"
        assert Path(bad.failed_notebook).exists()
        assert not (project / "runs/boosted/lambda10.0/train.ipynb").exists()
        for r in res[:3]:
            for nb in chain:
                assert sweep.output_path(project, nb, r.point).exists()
            assert set(r.notebook_seconds) == set(chain)
        rows = record.read(project / "runs" / "record.sqlite")
        assert sorted(zip(rows["analysis"], rows["lambda"])) == [("boosted", 1.0), ("resolved", 1.0),
                                                                 ("resolved", 10.0)]
        # one-epoch networks (boosted's study learning rate is 5e-5) may sit near 0.5: the rows hold real AUCs
        assert rows["auc"].notna().all() and rows["auc"].between(0.0, 1.0).all() and rows["auc"].nunique() == 3
        table = sweep.results_table(res, project / "runs" / "record.sqlite")
        assert list(table["status"]) == ["done", "done", "done", "failed"]
        assert table["AUC"].iloc[:3].notna().all() and pd.isna(table["AUC"].iloc[3])

        # resume: the complete points are skipped; the failed one runs again (and fails again)
        again = sweep.sweep(pts, chain, client, params, project=project, progress=False)
        assert [r.status for r in again] == ["skipped", "skipped", "skipped", "failed"]
        assert len(record.read(project / "runs" / "record.sqlite")) == 3
    finally:
        client.cluster.close()
        client.close()


def test_is_complete_needs_card_and_scores_not_a_model_file(tmp_path):
    """A k-fold set has fold files and no single-network file: complete means notebooks + card + scores."""
    from hhnb import layout

    p, models = Point("resolved", 1.0), tmp_path / "models"
    models.mkdir()
    out = sweep.output_path(tmp_path, "train", p)
    out.parent.mkdir(parents=True)
    out.write_text("{}")
    assert not sweep.is_complete(p, ["train"], tmp_path, models)
    layout.card_path(models, "resolved", 1.0).write_text("{}")
    assert not sweep.is_complete(p, ["train"], tmp_path, models)
    layout.scores_path(models, "resolved", 1.0).write_bytes(b"")
    assert sweep.is_complete(p, ["train"], tmp_path, models)
    assert not layout.model_path(models, "resolved", 1.0).exists()
