"""hhnb.workflow.cluster: kinds, job scripts with the user's options, one-line errors."""

from __future__ import annotations

import sys

import pytest

from hhnb.cli import main
from hhnb.errors import ClusterError
from hhnb.workflow import cluster


def test_kind_and_env():
    assert cluster.check_kind("slurm") == "slurm"
    with pytest.raises(ClusterError, match="unknown --cluster 'pbs': expected one of local, slurm, htcondor"):
        cluster.check_kind("pbs")
    assert cluster.parse_env(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    with pytest.raises(ValueError, match="--env 'A': expected KEY=VALUE"):
        cluster.parse_env(["A"])


@pytest.mark.parametrize("command", [["sweep", "--analyses", "resolved", "--lambdas", "1"],
                                     ["apply", "x.root", "--model", "m.keras"]])
def test_unknown_cluster_is_one_line_exit_2(command, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HHNB_HOME", str(tmp_path))
    if command[0] == "apply":
        command = ["apply", "x.root", "--analysis", "resolved", "--models-dir", str(tmp_path)]
        (tmp_path / "nn_resolved_SlfCoup_1.0.keras").write_bytes(b"")
        (tmp_path / "nn_resolved_SlfCoup_1.0.json").write_text(
            '{"analysis": "resolved", "lambda": 1.0, "features": ["a"], "classes": ["signal", "qcd", "top"]}')
    assert main([*command, "--cluster", "pbs", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"hhnb {command[0]}: error: unknown --cluster 'pbs': expected one of local, slurm, htcondor"


@pytest.mark.parametrize("kind, words", [
    ("slurm", ["#SBATCH -p short", "#SBATCH --mem=", "#SBATCH -t 00:30:00", "#SBATCH --account=hh",
               "export HHNB_HOME=/proj", "export MY_VAR='a b'", "export OMP_NUM_THREADS=2"]),
    ("htcondor", ["RequestMemory", "+JobFlavour = \"long\"", "export HHNB_HOME=/proj"])])
def test_job_script_has_user_options_and_this_python(kind, words):
    directive = "--account=hh" if kind == "slurm" else '+JobFlavour = "long"'
    c = cluster.batch_cluster(kind, cores=2, memory="3GB", walltime="00:30:00", queue="short", home="/proj",
                              directives=[directive], env={"MY_VAR": "a b"})
    try:
        script = c.job_script()
    finally:
        c.close()
    for word in words:
        assert word in script, word
    assert f"{sys.executable} -m distributed.cli.dask_worker" in script  # the project's own Python


def test_missing_batch_tool_is_one_line(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ClusterError, match="--cluster slurm: sbatch is not on PATH"):
        cluster.check_submission("slurm", "#!/bin/bash\n")
