"""hhnb.io.record: the SQLite run record: add, read, filter and sort, concurrent writers, old records."""

import multiprocessing as mp

import pandas as pd
import pytest

from hhnb.errors import UserArgumentError
from hhnb.io import record


def _writer(args):
    path, worker, n = args
    for i in range(n):
        record.add({"analysis": "resolved", "lambda": float(worker), "auc": 0.9 + i / 1000, "seed": i}, path)
    return n


def test_add_read_filter_sort(tmp_path):
    path = tmp_path / "record.sqlite"
    record.add({"analysis": "resolved", "lambda": 1.0, "auc": 0.95, "max_significance": 2.1,
                "confusion": [[1, 2], [3, 4]]}, path)
    record.add({"analysis": "boosted", "lambda": -5.0, "auc": 0.97, "max_significance": 1.1}, path)
    record.add({"analysis": "resolved", "lambda": 10.0, "auc": 0.91, "max_significance": 3.3}, path)
    df = record.read(path)
    assert list(df["id"]) == [1, 2, 3]
    assert df.loc[0, "confusion"] == "[[1, 2], [3, 4]]"
    assert list(record.read(path, analysis="resolved")["lambda"]) == [1.0, 10.0]
    assert list(record.read(path, kl=-5)["analysis"]) == ["boosted"]
    assert list(record.read(path, sort="max_significance", descending=True)["lambda"]) == [10.0, 1.0, -5.0]
    with pytest.raises(UserArgumentError, match="cannot sort"):
        record.read(path, sort="colour")
    with pytest.raises(UserArgumentError, match="unknown run-record column"):
        record.add({"analysis": "x", "colour": 1}, path)
    assert len(record.read(path)) == 3  # the refused row was not written


def test_concurrent_writers_lose_no_row(tmp_path):
    path = tmp_path / "record.sqlite"
    with mp.get_context("spawn").Pool(4) as pool:
        assert sum(pool.map(_writer, [(path, w, 25) for w in range(4)])) == 100
    df = record.read(path)
    assert len(df) == 100
    assert df.groupby("lambda").size().to_dict() == {0.0: 25, 1.0: 25, 2.0: 25, 3.0: 25}


def test_missing_record_is_empty(tmp_path):
    assert record.read(tmp_path / "none.sqlite").empty


def test_architecture_text_is_the_same_from_every_writer():
    from hhnb.config.training import HyperParameters

    assert record.architecture(HyperParameters(widths=(200, 200)).widths) == "200-200"
    assert record.architecture([120]) == "120"

def test_old_record_gains_the_new_columns(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.execute('CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, analysis TEXT, "lambda" REAL, '
                "max_significance REAL)")
    con.execute("INSERT INTO runs (analysis, \"lambda\", max_significance) VALUES ('resolved', 1.0, 11.9)")
    con.commit()
    con.close()
    record.add({"analysis": "resolved", "lambda": 1.0, "max_significance": 0.05, "significance_error": 0.01,
                "nbkg_mc_events": 12}, path)
    df = record.read(path)
    assert df["max_significance"].tolist() == [11.9, 0.05]
    assert pd.isna(df.loc[0, "significance_error"]) and df.loc[1, "significance_error"] == 0.01
    assert df.loc[1, "nbkg_mc_events"] == 12
