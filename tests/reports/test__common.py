"""hhnb.reports._common: save_all writes PNG + PDF per figure and a CSV per table; shown() prints project-relative paths."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from hhnb.reports import _common


def test_save_all_writes_every_figure_and_table(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    table = pd.DataFrame({"lambda": [1.0, 10.0], "auc": [0.912345678, 0.95]})
    out = tmp_path / "new" / "folder"
    written = _common.save_all(out, {"roc": fig}, {"aucs": table, "empty": table.iloc[:0]})
    assert written == [out / "roc.png", out / "roc.pdf", out / "aucs.csv", out / "empty.csv"]
    assert (out / "roc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (out / "roc.pdf").read_bytes()[:5] == b"%PDF-"
    assert (out / "aucs.csv").read_text() == "lambda,auc\n1,0.912346\n10,0.95\n"  # %.6g
    assert (out / "empty.csv").read_text() == "lambda,auc\n"
    assert sorted(p.name for p in out.iterdir()) == ["aucs.csv", "empty.csv", "roc.pdf", "roc.png"]  # no temporaries
    assert _common.save_all(tmp_path / "none", {}, {}) == []


def test_shown_is_relative_inside_the_project_and_the_name_outside(tmp_path, monkeypatch):
    project = tmp_path / "project"
    monkeypatch.setenv("HHNB_HOME", str(project))
    assert _common.shown(project.resolve() / "runs" / "resolved" / "lambda1.0") == "runs/resolved/lambda1.0"
    assert _common.shown(tmp_path.resolve() / "elsewhere" / "plots") == "plots"
