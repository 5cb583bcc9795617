"""Names and formats of what a training run leaves behind: model, card, scores.

``models/nn_<analysis>_SlfCoup_<tag>.keras`` (the network, scaling included), its
JSON card beside it, and ``..._scores.parquet`` (every event's network outputs with
label, weight, masses and features) for the notebooks downstream.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from hhnb.config import lambdas as _lambdas
from hhnb.io.atomic import atomic_path, write_text


def stem(analysis: str, kl: object) -> str:
    """``nn_<analysis>_SlfCoup_<tag>``, the older scripts' name for one network."""
    return f"nn_{analysis}_SlfCoup_{_lambdas.tag(kl)}"


def model_path(models_dir: str | Path, analysis: str, kl: object) -> Path:
    return Path(models_dir) / f"{stem(analysis, kl)}.keras"


def card_path(models_dir: str | Path, analysis: str, kl: object) -> Path:
    return Path(models_dir) / f"{stem(analysis, kl)}.json"


def scores_path(models_dir: str | Path, analysis: str, kl: object) -> Path:
    return Path(models_dir) / f"{stem(analysis, kl)}_scores.parquet"


def fold_model_path(models_dir: str | Path, analysis: str, kl: object, fold: int, folds: int) -> Path:
    """Network ``fold`` of a k-fold set: ``nn_<analysis>_SlfCoup_<tag>_fold<i>of<k>.keras``."""
    return Path(models_dir) / f"{stem(analysis, kl)}_fold{fold}of{folds}.keras"


def onnx_path(model: str | Path) -> Path:
    """``<model>.onnx`` beside a ``.keras`` file (one per network, one per fold of a k-fold set)."""
    return Path(model).with_suffix(".onnx")


def fold_branch(analysis: str, kl: object) -> str:
    """``nnscore_<analysis>_SlfCoup_<tag>_fold``: which fold (= which blind network) scored the event."""
    return f"nnscore_{analysis}_SlfCoup_{_lambdas.tag(kl)}_fold"


def test_branch(analysis: str, kl: object) -> str:
    """``nnscore_<analysis>_SlfCoup_<tag>_istest``: 1 for events a single network never trained on."""
    return f"nnscore_{analysis}_SlfCoup_{_lambdas.tag(kl)}_istest"


def branch_names(analysis: str, kl: object, classes: list[str] | tuple[str, ...]) -> list[str]:
    """Score branch names: ``nnscore_<analysis>_SlfCoup_<tag>_sig`` (+ ``_qcd``, ``_top``)."""
    base = f"nnscore_{analysis}_SlfCoup_{_lambdas.tag(kl)}"
    return [f"{base}_sig"] + [f"{base}_{c}" for c in classes[1:]] if len(classes) > 2 else [f"{base}_sig"]


def _missing(path: Path, what: str, analysis: str, kl: object) -> FileNotFoundError:
    return FileNotFoundError(
        f"{what} {path} does not exist: train the network first "
        f"(papermill notebooks/train.ipynb out.ipynb -p analysis {analysis} -p lambda {_lambdas.tag(kl)}, "
        f"or hhnb sweep --analyses {analysis} --lambdas {_lambdas.tag(kl)})"
    )


def read_card(models_dir: str | Path, analysis: str, kl: object) -> dict[str, Any]:
    """Read a model's JSON card, with an error naming the file and the command that makes it."""
    path = card_path(models_dir, analysis, kl)
    if not path.exists():
        raise _missing(path, "model card", analysis, kl)
    return json.loads(path.read_text())


def write_card(path: str | Path, card: dict[str, Any]) -> Path:
    return write_text(path, json.dumps(card, indent=2, sort_keys=True, default=float) + "\n")


def write_scores(path: str | Path, df: pd.DataFrame) -> Path:
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return Path(path)


def read_scores(models_dir: str | Path, analysis: str, kl: object) -> pd.DataFrame:
    """Read a network's saved scores; checks they belong to ``analysis`` and ``kl``."""
    path = scores_path(models_dir, analysis, kl)
    if not path.exists():
        raise _missing(path, "scores file", analysis, kl)
    df = pd.read_parquet(path)
    meta = df.attrs or {}
    got_a, got_l = meta.get("analysis"), meta.get("lambda")
    if got_a is not None and (got_a != analysis or _lambdas.tag(got_l) != _lambdas.tag(kl)):
        raise ValueError(
            f"scores file {path} belongs to analysis {got_a!r} lambda {_lambdas.tag(got_l)}, "
            f"not {analysis!r} lambda {_lambdas.tag(kl)}"
        )
    return df
