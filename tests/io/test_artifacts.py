"""hhnb.io.artifacts: model cards and scores tables, and the errors when they are missing or mismatched."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hhnb import layout
from hhnb.errors import HHNBError, InputFileError, MissingArtifactError
from hhnb.io import artifacts


def test_card_round_trip(tmp_path):
    card = {"analysis": "boosted", "lambda": -5.0, "features": ["m_hh"], "metrics": {"test_auc": np.float32(0.75)}}
    path = artifacts.write_card(layout.card_path(tmp_path, "boosted", -5), card)
    assert path.name == "nn_boosted_SlfCoup_m5.0.json"
    back = artifacts.read_card(tmp_path, "boosted", "m5.0")
    assert back["lambda"] == -5.0 and back["metrics"]["test_auc"] == pytest.approx(0.75)


def test_missing_card_names_the_file_and_the_command(tmp_path):
    with pytest.raises(MissingArtifactError, match=r"nn_resolved_SlfCoup_2.0.json does not exist.*"
                                                   r"-p analysis resolved -p lambda 2.0") as err:
        artifacts.read_card(tmp_path, "resolved", 2)
    assert isinstance(err.value, HHNBError) and isinstance(err.value, FileNotFoundError)


def test_scores_round_trip_keeps_which_network_they_belong_to(tmp_path):
    df = pd.DataFrame({"score_sig": np.array([0.1, 0.9], np.float32), "label": [1, 0]})
    df.attrs.update({"analysis": "resolved", "lambda": 10.0})
    artifacts.write_scores(layout.scores_path(tmp_path, "resolved", 10), df)
    back = artifacts.read_scores(tmp_path, "resolved", "10")
    assert back["score_sig"].tolist() == pytest.approx([0.1, 0.9])
    assert back.attrs["lambda"] == 10.0


def test_scores_of_another_network_are_refused(tmp_path):
    df = pd.DataFrame({"score_sig": [0.5]})
    df.attrs.update({"analysis": "boosted", "lambda": 1.0})
    artifacts.write_scores(layout.scores_path(tmp_path, "resolved", 1), df)  # wrong file name on purpose
    with pytest.raises(InputFileError, match="belongs to analysis 'boosted' lambda 1.0, not 'resolved'"):
        artifacts.read_scores(tmp_path, "resolved", 1)
