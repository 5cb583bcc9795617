"""Training progress: one line per epoch where a person watches, nothing under pytest / papermill / nbval."""

import os

import numpy as np
import pytest

from hhnb.nn import progress


def test_format_line_has_epoch_losses_and_time():
    line = progress.format_line(12, 100, {"loss": 0.25, "val_loss": 0.3}, 61.04)
    assert line == "epoch  12/100  loss 0.2500  val_loss 0.3000  elapsed 61.0 s"
    assert progress.format_line(1, 5, {"loss": 1.0}, 0.0) == "epoch 1/5  loss 1.0000  elapsed 0.0 s"


def test_auto_is_silent_under_pytest_and_explicit_values_win(monkeypatch):
    assert os.environ.get("PYTEST_CURRENT_TEST")
    assert progress.enabled("auto") is False
    assert progress.enabled(None) is False
    assert progress.enabled(True) is True and progress.enabled(False) is False
    with pytest.raises(ValueError, match="progress='yes'"):
        progress.enabled("yes")


def test_auto_follows_the_parent_process(monkeypatch):
    """A kernel whose parent is a Jupyter server shows progress; one started by papermill or pytest does not."""
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
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
    from hhnb.nn.model import HyperParameters, fit

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    w = np.ones(200)
    hyper = HyperParameters(widths=(8,), epochs=3, batch_size=50, patience=5)
    fit(x[:150], y[:150], w[:150], x[150:], y[150:], w[150:], 2, hyper, seed=1, progress=True)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("epoch")]
    assert [ln.split()[1] for ln in lines] == ["1/3", "2/3", "3/3"]
    assert all("val_loss" in ln and "elapsed" in ln for ln in lines)
    fit(x[:150], y[:150], w[:150], x[150:], y[150:], w[150:], 2, hyper, seed=1)  # auto: silent under pytest
    assert "epoch" not in capsys.readouterr().out
