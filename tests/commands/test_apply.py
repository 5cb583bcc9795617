"""hhnb.commands.apply: inputs checked before anything is written, the results table, exit 1 on a failed file, errors."""

from __future__ import annotations

import json

import pytest
from userfiles import write_ntuple

from hhnb import cli, layout
from hhnb.nn import apply as _apply

CARD = {"analysis": "mine", "lambda": 1.0, "features": ["x1", "x2"], "classes": ["signal", "background"],
        "tree": "Events", "event_branch": "evt"}


@pytest.fixture
def model(tmp_path):
    """A network card and a model file that is never loaded (the command checks its inputs before it scores)."""
    models = tmp_path / "models"
    models.mkdir()
    path = layout.model_path(models, "mine", 1.0)
    path.write_bytes(b"never loaded")
    layout.card_path(models, "mine", 1.0).write_text(json.dumps(CARD))
    return path


def test_the_table_lists_every_file_and_a_failed_one_exits_1(tmp_path, model, monkeypatch, capsys):
    a, b = write_ntuple(tmp_path / "a.root", 50, seed=1), write_ntuple(tmp_path / "b.root", 60, seed=2)
    seen = {}

    def fake(files, nets, **kw):
        seen.update(files=list(files), nets=[n.name for n in nets], **kw)
        return [_apply.Applied(a, layout.applied_path(a), "written", events=50, seconds=0.5),
                _apply.Applied(b, layout.applied_path(b), "failed", error=f"file {b}: disk full")]

    monkeypatch.setattr(_apply, "apply", fake)
    code = cli.main(["apply", str(tmp_path / "*.root"), "--model", str(model), "--jobs", "2", "--step", "1000",
                     "--no-progress"])
    assert code == 1
    assert seen["files"] == [str(tmp_path / "*.root")] and seen["jobs"] == 2 and seen["step"] == 1000
    assert seen["progress"] is False and seen["in_place"] is False and seen["trees"] is None
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == f"networks: {seen['nets'][0]}"
    assert lines[1].split() == ["input", "output", "status", "events", "seconds", "events/s"]
    assert lines[3].split() == [str(a), str(layout.applied_path(a)), "written", "50", "0.5", "100"]
    assert lines[4].split()[2:] == ["failed", "0", "0", "0"]
    assert err == f"hhnb apply: failed: file {b}: disk full\n"


def test_no_network_is_one_line_exit_2(tmp_path, capsys):
    assert cli.main(["apply", str(tmp_path / "x.root"), "--no-progress"]) == 2
    assert capsys.readouterr().err == ("hhnb apply: error: no network to apply: give --analysis/--lambdas or "
                                       "--model\n")


def test_in_place_on_dask_is_refused_before_a_cluster_starts(tmp_path, model, capsys):
    src = write_ntuple(tmp_path / "in.root", 40, seed=3)
    before = src.read_bytes()
    assert cli.main(["apply", str(src), "--model", str(model), "--cluster", "local", "--in-place",
                     "--no-progress"]) == 2
    assert capsys.readouterr().err == ("hhnb apply: error: --in-place is not available with --cluster/--scheduler: "
                                       "drop one of them\n")
    assert src.read_bytes() == before


def test_an_input_without_the_networks_inputs_fails_alone_and_writes_nothing(tmp_path, model, capsys):
    src = write_ntuple(tmp_path / "in.root", 40, seed=3, branches=("x1", "w", "evt"))
    assert cli.main(["apply", str(src), "--model", str(model), "--no-progress"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[3].split()[:3] == [str(src), str(layout.applied_path(src)), "failed"]
    assert err == (f"hhnb apply: failed: file {src}, tree 'Events': network nn_mine_SlfCoup_1.0 needs branch(es) x2 "
                   "(nothing written)\n")
    assert not layout.applied_path(src).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.root", "models"]  # no temporary left either


def test_apply(bad, capsys, one_line_exit_2):
    models = bad["dir"] / "models"
    models.mkdir()
    model = layout.model_path(models, "mine", 1.0)
    model.write_bytes(b"never loaded: the input is checked first")
    card = {"analysis": "mine", "lambda": 1.0, "features": ["x1", "x2"], "classes": ["signal", "background"],
            "tree": "Events", "event_branch": "evt"}
    layout.card_path(models, "mine", 1.0).write_text(json.dumps(card))
    one_line_exit_2(capsys, ["apply", str(bad["sig"]), "--model", str(model), "--no-progress"],
                    str(bad["sig"]), "not a readable ROOT file")
    assert not layout.applied_path(bad["sig"]).exists()
