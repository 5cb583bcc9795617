"""A shipped analysis trains from its notebook in a fresh project with no prior command.

The train notebook generates the missing toy files itself (``generate=True``) and says so.
"""

from __future__ import annotations

import pytest

from hhnb import layout


@pytest.mark.slow
@pytest.mark.heavy
@pytest.mark.parametrize("analysis", ["boosted", "tthh"])
def test_train_notebook_on_a_fresh_project(analysis, tmp_path, monkeypatch):
    import papermill

    import hhnb.workflow.papermill_lambda  # noqa: F401
    from hhnb.workflow.sweep import QUIET_KERNEL

    monkeypatch.setenv("HHNB_HOME", str(tmp_path))
    out = tmp_path / "train.ipynb"
    nb = papermill.execute_notebook(str(layout.notebook("train")), str(out), kernel_name="python3",
                                    parameters={"analysis": analysis, "lambda": 1, "epochs": 1, "max_events": 300},
                                    progress_bar=False, extra_arguments=QUIET_KERNEL)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    signal = "tthh" if analysis == "tthh" else "hh"
    assert f"generating the toy sample {signal} (lambda 1.0) in {tmp_path / 'data'}" in text
    assert layout.card_path(tmp_path / "models", analysis, 1.0).is_file()  # a k-fold set by default: card + folds
    assert layout.fold_model_path(tmp_path / "models", analysis, 1.0, 0, 3).is_file()
    assert layout.scores_path(tmp_path / "models", analysis, 1.0).is_file()
