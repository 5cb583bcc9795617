"""hhnb.nn.progress: one line per epoch when asked (True, or "auto" where a person watches), silence otherwise."""

import json
import os
import re

import numpy as np
import pytest

from hhnb.errors import UserArgumentError
from hhnb.nn import progress


def test_format_line_has_epoch_losses_and_time():
    line = progress.format_line(12, 100, {"loss": 0.25, "val_loss": 0.3}, 61.04)
    assert line == "epoch  12/100  loss 0.2500  val_loss 0.3000  elapsed 61.0 s"
    assert progress.format_line(1, 5, {"loss": 1.0}, 0.0) == "epoch 1/5  loss 1.0000  elapsed 0.0 s"


def test_explicit_values_win_and_a_bad_one_is_a_user_error():
    assert progress.enabled(True) is True and progress.enabled(False) is False
    with pytest.raises(UserArgumentError, match="progress='yes'"):
        progress.enabled("yes")


def test_auto_does_not_look_at_the_test_runner(monkeypatch):
    """No guess about pytest: with a terminal on stdout "auto" prints, even with PYTEST_CURRENT_TEST set."""
    monkeypatch.delenv("HHNB_PROGRESS", raising=False)
    monkeypatch.setattr(progress, "_started_by_jupyter_server", lambda pid: False)
    monkeypatch.setattr(progress.sys, "stdout", type("Tty", (), {"isatty": lambda self: True})())
    assert os.environ.get("PYTEST_CURRENT_TEST") and progress.enabled("auto") is True
    assert progress.enabled(None) is True


def test_auto_follows_the_parent_process(monkeypatch):
    """A kernel whose parent is a Jupyter server shows progress; one started by papermill or pytest does not."""
    monkeypatch.delenv("HHNB_PROGRESS", raising=False)
    monkeypatch.setattr(progress, "_started_by_jupyter_server", lambda pid: True)
    assert progress.enabled("auto") is True
    monkeypatch.setenv("HHNB_PROGRESS", "0")
    assert progress.enabled("auto") is False
    monkeypatch.delenv("HHNB_PROGRESS")
    monkeypatch.setattr(progress, "_started_by_jupyter_server", lambda pid: False)
    assert progress.enabled("auto") is False  # pytest's stdout is captured, not a terminal


def test_jupyter_server_recognised_from_its_command_line(tmp_path):
    import subprocess
    import sys
    import time

    script = tmp_path / "jupyter-lab"  # as the venv's jupyter-lab script runs: python .../bin/jupyter-lab
    script.write_text("import time\ntime.sleep(30)\n")
    for argv, expected in (([sys.executable, str(script)], True),
                           ([sys.executable, "-c", "import time; time.sleep(30)", "x", "jupyter-lab"], False)):
        child = subprocess.Popen(argv)
        try:
            time.sleep(0.3)
            assert progress._started_by_jupyter_server(child.pid) is expected, argv
        finally:
            child.kill()
            child.wait()
    assert progress._started_by_jupyter_server(os.getpid()) is False  # pytest
    assert progress._started_by_jupyter_server(999_999_999) is False  # no such process


@pytest.mark.slow
def test_fit_prints_one_line_per_epoch_when_asked(capsys):
    from hhnb.config.training import HyperParameters
    from hhnb.nn.fit import fit

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    w = np.ones(200)
    hyper = HyperParameters(widths=(8,), epochs=3, batch_size=50, patience=5)
    fit(x[:150], y[:150], w[:150], x[150:], y[150:], w[150:], 2, hyper, seed=1, progress=True)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("epoch")]
    assert [ln.split()[1] for ln in lines] == ["1/3", "2/3", "3/3"]
    assert all("val_loss" in ln and "elapsed" in ln for ln in lines)
    fit(x[:150], y[:150], w[:150], x[150:], y[150:], w[150:], 2, hyper, seed=1)  # progress=False, the default
    assert capsys.readouterr().out == ""


@pytest.mark.slow
def test_kfold_training_passes_progress_to_every_network(toy_dir, tmp_path, capsys):
    """train(folds=k, progress=True): each network introduced by its fold, then its epoch lines."""
    from hhnb.config.training import HyperParameters
    from hhnb.nn.training import train

    hyper = HyperParameters(widths=(8,), epochs=2, batch_size=200, patience=5)
    train("resolved", 1.0, data_dir=toy_dir, models_dir=tmp_path, hyper=hyper, max_events=200, folds=2, seed=3,
          progress=True)
    lines = capsys.readouterr().out.splitlines()
    shown = [ln.split()[1] if ln.startswith("epoch") else ln for ln in lines if ln.startswith(("epoch", "network"))]
    assert shown == ["network 1/2: scores eventNumber % 2 == 0", "1/2", "2/2",
                     "network 2/2: scores eventNumber % 2 == 1", "1/2", "2/2"]


def _committed_outputs():
    from hhnb import layout

    for path in sorted(layout.notebooks_dir().glob("*.ipynb")):
        for i, cell in enumerate(json.loads(path.read_text())["cells"]):
            for out in cell.get("outputs", []):
                yield path.name, i, out


def test_committed_notebook_outputs_have_no_stderr_warning_or_progress():
    """What git keeps is what papermill/nbval write: no stderr stream, error, warning or per-epoch line."""
    seen = 0
    for name, i, out in _committed_outputs():
        seen += 1
        where = f"{name} cell {i}"
        assert out["output_type"] != "error", where
        assert out.get("name") != "stderr", f"{where}: stderr {''.join(out.get('text', ''))[:200]!r}"
        texts = [out.get("text", "")] + [v for k, v in out.get("data", {}).items() if k.startswith("text/")]
        text = "".join("".join(t) if isinstance(t, list) else t for t in texts)
        assert not re.search(r"warn", text, re.I), f"{where}: {text[:300]!r}"
        assert not re.search(r"^epoch +\d+/\d+ ", text, re.M), f"{where}: progress line committed"
    assert seen > 10  # the notebooks carry their outputs
