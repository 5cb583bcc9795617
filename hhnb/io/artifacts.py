"""Reading and writing what a training run leaves behind: the network's JSON card and its scores.

The scores table holds every event's network outputs with label, weight, masses and
features, for the notebooks downstream. File names come from :mod:`hhnb.layout`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from hhnb import layout
from hhnb.errors import InputFileError, MissingArtifactError
from hhnb.io.atomic import atomic_path, write_text


def _missing(path: Path, what: str, analysis: str, kl: object) -> MissingArtifactError:
    return MissingArtifactError(
        f"{what} {path} does not exist: train the network first "
        f"(papermill notebooks/train.ipynb out.ipynb -p analysis {analysis} -p lambda {layout.tag(kl)}, "
        f"or hhnb sweep --analyses {analysis} --lambdas {layout.tag(kl)})"
    )


def read_card(models_dir: str | Path, analysis: str, kl: object) -> dict[str, Any]:
    """Read a model's JSON card, with an error naming the file and the command that makes it."""
    path = layout.card_path(models_dir, analysis, kl)
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
    path = layout.scores_path(models_dir, analysis, kl)
    if not path.exists():
        raise _missing(path, "scores file", analysis, kl)
    df = pd.read_parquet(path)
    meta = df.attrs or {}
    got_a, got_l = meta.get("analysis"), meta.get("lambda")
    if got_a is not None and (got_a != analysis or layout.tag(got_l) != layout.tag(kl)):
        raise InputFileError(
            f"scores file {path} belongs to analysis {got_a!r} lambda {layout.tag(got_l)}, "
            f"not {analysis!r} lambda {layout.tag(kl)}"
        )
    return df
