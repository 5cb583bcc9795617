"""hhnb.commands.sweep: --dry-run points and job script, missing notebooks, build_namespace, one-line errors."""

from __future__ import annotations

import sys

import pytest

from hhnb import cli
from hhnb.commands import sweep as sweep_cmd
from hhnb.workflow.sweep import CHAIN


@pytest.fixture
def nbdir(tmp_path):
    d = tmp_path / "nbs"
    d.mkdir()
    for name in ("train", "evaluate"):
        (d / f"{name}.ipynb").write_text("{}")
    return d


def test_dry_run_prints_each_point_and_the_notebooks_found(nbdir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HHNB_HOME", str(tmp_path / "project"))
    assert cli.main(["sweep", "--analyses", "resolved,tthh", "--lambdas", "1,m5.0", "--notebook-dir", str(nbdir),
                     "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["resolved lambda 1.0: train -> evaluate", "resolved lambda m5.0: train -> evaluate",
                                "tthh lambda 1.0: train -> evaluate", "tthh lambda m5.0: train -> evaluate"]
    assert err.splitlines() == ["warning: notebooks/correlations.ipynb does not exist: skipped",
                                "warning: notebooks/shap.ipynb does not exist: skipped"]
    assert not (tmp_path / "project").exists()  # a dry run writes nothing


def test_dry_run_with_a_batch_system_prints_the_job_script(nbdir, tmp_path, monkeypatch, capsys):
    pytest.importorskip("dask_jobqueue")
    monkeypatch.setenv("HHNB_HOME", "/proj")
    assert cli.main(["sweep", "--analyses", "boosted", "--lambdas", "10", "--notebook-dir", str(nbdir), "--cluster",
                     "slurm", "--cores", "3", "--walltime", "00:20:00", "--queue", "long", "--env", "X=1",
                     "--dry-run"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("#!/")
    for word in ("#SBATCH -p long", "#SBATCH -t 00:20:00", "export HHNB_HOME=/proj", "export X=1",
                 f"{sys.executable} -m distributed.cli.dask_worker"):
        assert word in script, word


def test_no_notebook_of_the_chain_is_one_line_exit_2(tmp_path, capsys):
    assert cli.main(["sweep", "--notebook-dir", str(tmp_path), "--notebooks", "train,shap", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"hhnb sweep: error: none of the notebooks ['train', 'shap'] exists in {tmp_path}"


def test_build_namespace_has_every_default_and_the_overrides():
    args = sweep_cmd.build_namespace(analyses="tthh", workers=3, progress=False)
    assert (args.analyses, args.workers, args.no_progress) == ("tthh", 3, True)
    assert (args.lambdas, args.notebooks, args.cluster, args.jobs, args.param) == ("1,10", ",".join(CHAIN), "local",
                                                                                   2, [])
    assert sweep_cmd.build_namespace().no_progress is False


def test_sweep(bad, capsys, one_line_exit_2):
    one_line_exit_2(capsys, ["sweep", "--config", str(bad["cfg"]), "--analyses", "mine", "--lambdas", "1",
                             "--no-progress"], str(bad["sig"]), "not a readable ROOT file")
