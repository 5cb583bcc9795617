"""The scratch project of the notebook runs, and the CPU-independent numerics their committed outputs need."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from hhnb.workflow import nbsetup

ROOT = Path(__file__).resolve().parents[2]


def test_makefile_runs_nbval_and_the_notebook_refresh_in_the_reproducible_env():
    """Both the run that writes the committed outputs and the one that compares them use nbsetup's environment."""
    make = (ROOT / "Makefile").read_text()
    assert "NB_ENV = $(shell $(BIN)/python -m hhnb.workflow.nbsetup)" in make
    assert re.search(r"env \$\(NB_ENV\) \$\(BIN\)/python -m pytest -p no:randomly --nbval notebooks", make)
    assert re.search(r"env \$\(NB_ENV\) \$\(BIN\)/python -m hhnb.workflow.refresh", make)


def test_module_prints_the_environment_as_shell_assignments():
    out = subprocess.run([sys.executable, "-m", "hhnb.workflow.nbsetup"], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == nbsetup.reproducible_env()
    assert "TF_ENABLE_ONEDNN_OPTS='0'" in out and "OPENBLAS_CORETYPE='Haswell'" in out


def test_numpy_keeps_no_avx512_kernels_in_that_environment():
    """NumPy's run-time dispatch honours the list (on a machine without AVX-512 nothing changes)."""
    code = ("from numpy._core._multiarray_umath import __cpu_features__ as f; "
            "print(int(f.get('AVX512_SKX', False)), int(f.get('AVX512_ICL', False)))")
    env = {**os.environ, **nbsetup.REPRODUCIBLE_ENV}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["0", "0"]
    assert out.stderr == ""  # features the machine lacks are dropped silently (no warning in a notebook's output)


def test_prepare_passes_the_environment_on_to_the_kernels(tmp_path, monkeypatch):
    """Kernels started after prepare() inherit os.environ; values a caller set already are kept."""
    for key in nbsetup.REPRODUCIBLE_ENV:  # setenv first: monkeypatch then restores what was there before
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Zen")
    home = tmp_path / "scratch"
    monkeypatch.setenv("HHNB_HOME", str(home))
    # the default network already "exists": prepare() then only links the data and clears the record
    from hhnb import layout

    scores = layout.scores_path(layout.models_dir(), "resolved", 1.0)
    scores.parent.mkdir(parents=True)
    scores.touch()
    monkeypatch.setattr("hhnb.toy.generate.generate", lambda *a, **k: None)  # nbsetup calls it through the module
    assert nbsetup.prepare(home) == home
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0" and os.environ["OPENBLAS_CORETYPE"] == "Zen"
    assert os.environ["HHNB_HOME"] == str(home) and scores.exists()  # nothing trained
