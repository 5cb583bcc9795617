"""``papermill ... -p lambda X`` works verbatim: with and without black, from the repo root and notebooks/."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAPERMILL = str(Path(sys.executable).with_name("papermill"))
NB = ROOT / "tests" / "data" / "params.ipynb"


def _printed(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))


def _env(tmp_path, black: bool):
    env = dict(os.environ)
    if not black:
        hide = tmp_path / "noblack"
        hide.mkdir(exist_ok=True)
        (hide / "black.py").write_text("raise ImportError('black hidden by the test')\n")
        env["PYTHONPATH"] = f"{hide}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return env


CASES = [  # (black installed?, started from, -p lambda value, what the notebook prints)
    (True, "root", "-5", "kl=-5.0 tag=m5.0"), (True, "notebooks", "m5.0", "kl=-5.0 tag=m5.0"),
    (True, "root", "0.5", "kl=0.5 tag=0.5"), (True, "notebooks", "10", "kl=10.0 tag=10.0"),
    (False, "root", "m5.0", "kl=-5.0 tag=m5.0"), (False, "notebooks", "-5", "kl=-5.0 tag=m5.0"),
    (False, "root", "10", "kl=10.0 tag=10.0"), (False, "notebooks", "0.5", "kl=0.5 tag=0.5"),
]


@pytest.mark.parametrize("black,cwd,value,expected", CASES)
def test_lambda_parameter(tmp_path, black, cwd, value, expected):
    if black and shutil.which("black", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("black is not installed")
    workdir = ROOT if cwd == "root" else ROOT / "notebooks"
    out = tmp_path / "out_{lambda}_{analysis}.ipynb"
    proc = subprocess.run([PAPERMILL, os.path.relpath(NB, workdir), str(out), "-p", "lambda", value,
                           "-p", "analysis", "boosted", "--no-progress-bar"],
                          cwd=workdir, env=_env(tmp_path, black), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Passed unknown parameter" not in proc.stderr
    made = tmp_path / f"out_{value}_boosted.ipynb"  # papermill's {lambda} path templating
    assert made.exists()
    assert f"{expected} analysis=boosted" in _printed(made)


def test_translator_renames_keywords_only():
    from papermill.translators import papermill_translators

    import hhnb.workflow.papermill_lambda  # noqa: F401

    code = papermill_translators.find_translator("python3", "python").codify({"lambda": -5, "analysis": "tthh"})
    assert "lambda_ = -5" in code and "analysis = 'tthh'" in code.replace('"', "'")


@pytest.mark.slow
def test_train_notebook_verbatim(tmp_path, toy_dir):
    """The issue's own command line, on tiny settings."""
    out = tmp_path / "train-{analysis}-{lambda}.ipynb"
    proc = subprocess.run([PAPERMILL, "notebooks/train.ipynb", str(out), "-p", "lambda", "10", "-p", "analysis",
                           "boosted", "-p", "epochs", "1", "-p", "data_dir", str(toy_dir), "-p", "models_dir",
                           str(tmp_path / "models"), "--no-progress-bar"],
                          cwd=ROOT, env={**os.environ, "HHNB_HOME": str(tmp_path)}, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "models" / "nn_boosted_SlfCoup_10.0.json").exists()  # the card of the (k-fold) set
    assert "boosted: HH->bbbb, 2 large-R jets; lambda 10.0" in _printed(tmp_path / "train-boosted-10.ipynb")
