"""The wheel installs into a fresh virtual environment and runs outside the checkout.

The new environment reuses the installed dependencies of this one (a ``.pth`` line naming
our site-packages, whose own ``.pth`` files, the editable hhnb finder among them, are not run),
so only hhnb itself comes from the wheel and nothing is read from the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, cwd, env, timeout=600):
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{cmd}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def test_every_package_is_listed_for_the_wheel():
    """pyproject.toml lists the packages one by one: a new folder of hhnb/ must join the list or the wheel lacks it."""
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "hhnb").rglob("__init__.py")}
    assert folders - set(setup["packages"]) == set(), "add them to [tool.setuptools] packages"
    assert set(setup["packages"]) - folders == set(setup["package-dir"]), "listed, but no such package"
    assert all((ROOT / d / "__init__.py").is_file() for d in setup["package-dir"].values())


@pytest.mark.slow
@pytest.mark.heavy
def test_wheel_runs_generate_and_a_sweep_in_an_empty_folder(tmp_path):
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", wheels, ROOT],
         tmp_path, os.environ)
    wheel = next(wheels.glob("hhnb-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path, os.environ)
    py = venv / "bin" / "python"
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path,
                     os.environ).stdout.strip())
    (site / "zz_reuse_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", py, "install", "--quiet", "--no-deps", wheel], tmp_path, os.environ)

    work = tmp_path / "empty"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("HHNB_HOME", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = _run([py, "-c", "import hhnb, hhnb.layout as l; print(hhnb.__file__); print(l.notebook('train'))"],
                 work, env).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where

    hhnb = venv / "bin" / "hhnb"
    _run([hhnb, "generate", "--analyses", "resolved", "--lambdas", "1", "--events", "600", "--no-progress"], work, env)
    assert (work / "data" / "resolved" / "hh_SlfCoup_1.0.root").is_file()
    out = _run([hhnb, "sweep", "--analyses", "resolved", "--lambdas", "1", "--notebooks", "train,evaluate",
                "--workers", "1", "-p", "epochs=1", "-p", "max_events=300", "--no-progress"], work, env).stdout
    assert "done resolved lambda 1.0" in out
    # the train notebook's default is a 3-fold set: one card, three networks
    assert (work / "models" / "nn_resolved_SlfCoup_1.0.json").is_file()
    assert len(list((work / "models").glob("nn_resolved_SlfCoup_1.0_fold*of3.keras"))) == 3
    assert (work / "runs" / "resolved" / "lambda1.0" / "evaluate.ipynb").is_file()
    assert (work / "runs" / "record.sqlite").is_file()
    package = Path(where[0]).parent
    assert not any((package / d).exists() for d in ("data", "models", "runs")), "outputs went into the package"
