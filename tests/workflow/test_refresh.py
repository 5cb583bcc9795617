"""hhnb.workflow.refresh: notebooks re-executed in ORDER in a prepared scratch project, timing metadata dropped (no kernel)."""

from __future__ import annotations

import os

import nbformat
import pytest

from hhnb.workflow import refresh
from hhnb.workflow.sweep import QUIET_KERNEL


def _notebook(path, source):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["execution"] = {"iopub.execute_input": "2024-01-01T00:00:00"}
    cell.metadata["tags"] = ["keep"]
    nb.cells = [cell]
    nbformat.write(nb, path)


@pytest.fixture
def fake_kernel(tmp_path, monkeypatch):
    """prepare/cleanup/NotebookClient replaced: records the runs; 'executing' adds an output and timing metadata."""
    runs = {"executed": [], "cleaned": []}
    home = tmp_path / "scratch"
    for key in ("HHNB_HOME", "MPLBACKEND"):  # refresh sets them: monkeypatch restores them afterwards
        monkeypatch.setenv(key, "before")

    class Client:
        def __init__(self, nb, **kw):
            self.nb, self.kw = nb, kw

        def execute(self):
            runs["executed"].append((self.nb.cells[0].source, self.kw, os.environ["HHNB_HOME"]))
            for cell in self.nb.cells:
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"ran {cell.source}\n")]
                cell.metadata["execution"]["shell.execute_reply"] = "2024-01-01T00:00:01"

    monkeypatch.setattr(refresh, "prepare", lambda: home)
    monkeypatch.setattr(refresh, "cleanup", runs["cleaned"].append)
    monkeypatch.setattr(refresh, "NotebookClient", Client)
    return runs, home


def test_existing_notebooks_run_in_order_and_are_written_back(tmp_path, fake_kernel, capsys):
    runs, home = fake_kernel
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    for name in ("summary", "train", "shap", "scratchpad"):  # scratchpad is not in ORDER: not run
        _notebook(nbdir / f"{name}.ipynb", name)
    untouched = (nbdir / "scratchpad.ipynb").read_bytes()
    refresh.refresh(nbdir=nbdir)
    assert [src for src, _, _ in runs["executed"]] == ["train", "shap", "summary"]
    _, kw, hhnb_home = runs["executed"][0]
    assert kw == {"timeout": 600, "kernel_name": "python3", "resources": {"metadata": {"path": str(nbdir)}},
                  "extra_arguments": QUIET_KERNEL}
    assert hhnb_home == str(home) and os.environ["MPLBACKEND"] == "module://matplotlib_inline.backend_inline"
    assert runs["cleaned"] == [home]
    nb = nbformat.read(nbdir / "train.ipynb", as_version=4)
    assert nb.cells[0].outputs[0]["text"] == "ran train\n"
    assert "execution" not in nb.cells[0].metadata and nb.cells[0].metadata["tags"] == ["keep"]
    assert (nbdir / "scratchpad.ipynb").read_bytes() == untouched
    assert capsys.readouterr().out.splitlines() == [f"refreshed {nbdir / n}.ipynb" for n in ("train", "shap", "summary")]


def test_names_given_are_run_as_given(tmp_path, fake_kernel):
    runs, _ = fake_kernel
    for name in ("train", "evaluate"):
        _notebook(tmp_path / f"{name}.ipynb", name)
    refresh.refresh(["evaluate"], nbdir=tmp_path)
    assert [src for src, _, _ in runs["executed"]] == ["evaluate"]
    assert "execution" in nbformat.read(tmp_path / "train.ipynb", as_version=4).cells[0].metadata  # untouched


def test_order_lists_the_shipped_notebooks_readers_after_writers():
    shipped = {p.stem for p in refresh.layout.notebooks_dir().glob("*.ipynb")}
    assert shipped <= set(refresh.ORDER), shipped - set(refresh.ORDER)
    order = list(refresh.ORDER)
    assert order[0] == "train" and order[-1] == "summary" and order.index("evaluate") < order.index("shap")
