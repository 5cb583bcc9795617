"""hhnb.commands.export: which networks are exported (single, k-fold, --model, --analysis), the card entry, errors."""

from __future__ import annotations

import json

import pytest

from hhnb import cli, layout
from hhnb.nn import onnx

CARD = {"analysis": "mine", "features": ["x1", "x2"], "classes": ["signal", "background"], "tree": "Events",
        "note": "kept"}


@pytest.fixture
def exported(monkeypatch):
    """onnx.export replaced: writes a placeholder .onnx per file and records what it was given (no TensorFlow)."""
    calls = []

    def fake(model_paths, features, classes):
        calls.append(([p.name for p in model_paths], tuple(features), tuple(classes)))
        out = [p.with_suffix(".onnx") for p in model_paths]
        for p in out:
            p.write_bytes(b"onnx")
        return out

    monkeypatch.setattr(onnx, "export", fake)
    return calls


def _single(models, kl):
    layout.model_path(models, "mine", kl).write_bytes(b"keras")
    layout.card_path(models, "mine", kl).write_text(json.dumps({**CARD, "lambda": kl}))


def test_every_lambda_of_an_analysis_and_the_card_entry(tmp_path, exported, capsys):
    for kl in (1.0, 10.0):
        _single(tmp_path, kl)
    assert cli.main(["export", "--analysis", "mine", "--lambdas", "1,10", "--models-dir", str(tmp_path)]) == 0
    assert exported == [(["nn_mine_SlfCoup_1.0.keras"], ("x1", "x2"), ("signal", "background")),
                        (["nn_mine_SlfCoup_10.0.keras"], ("x1", "x2"), ("signal", "background"))]
    assert capsys.readouterr().out.splitlines() == [f"wrote {tmp_path / 'nn_mine_SlfCoup_1.0.onnx'}",
                                                    f"wrote {tmp_path / 'nn_mine_SlfCoup_10.0.onnx'}"]
    card = json.loads(layout.card_path(tmp_path, "mine", 10.0).read_text())
    assert card["onnx"] == onnx.card_entry([tmp_path / "nn_mine_SlfCoup_10.0.onnx"], CARD["features"], CARD["classes"])
    assert card["onnx"]["input_shape"] == ["batch", 2] and card["note"] == "kept" and card["lambda"] == 10.0


def test_a_kfold_set_exports_every_fold_through_any_of_its_files(tmp_path, exported, capsys):
    folds = ["nn_mine_SlfCoup_1.0_fold0of2.keras", "nn_mine_SlfCoup_1.0_fold1of2.keras"]
    for name in folds:
        (tmp_path / name).write_bytes(b"keras")
    layout.card_path(tmp_path, "mine", 1.0).write_text(json.dumps({**CARD, "lambda": 1.0, "folds": 2,
                                                                   "fold_models": folds}))
    assert cli.main(["export", "--model", str(tmp_path / folds[1])]) == 0
    assert exported[0][0] == folds
    card = json.loads(layout.card_path(tmp_path, "mine", 1.0).read_text())
    assert card["onnx"]["files"] == [f.replace(".keras", ".onnx") for f in folds] and card["fold_models"] == folds
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_nothing_to_export_and_a_missing_network_are_one_line_exit_2(tmp_path, exported, capsys):
    assert cli.main(["export", "--models-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "hhnb export: error: nothing to export: give --analysis/--lambdas or --model\n"
    assert cli.main(["export", "--analysis", "mine", "--lambdas", "5", "--models-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"hhnb export: error: model file {tmp_path / 'nn_mine_SlfCoup_5.0.keras'} does not exist\n"
    assert exported == []
