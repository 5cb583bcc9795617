"""hhnb.commands.record: the printed layout, filters and sorting, the CSV of the selected rows, the Date column."""

from __future__ import annotations

import pandas as pd

from hhnb import cli
from hhnb.commands import record as record_cmd
from hhnb.io import record


def test_record_layout_and_filters(tmp_path, capsys):
    path = tmp_path / "r.sqlite"
    record.add({"analysis": "resolved", "lambda": 1.0, "tag": "1.0", "auc": 0.951, "max_significance": 2.2}, path)
    record.add({"analysis": "boosted", "lambda": -5.0, "tag": "m5.0", "auc": 0.97, "max_significance": 1.1}, path)
    assert cli.main(["record", "--path", str(path), "--sort", "auc", "--desc"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["Run", "Date", "Analysis", "Lambda"] and "Sign." in lines[0]
    assert "boosted" in lines[2] and "resolved" in lines[3]
    assert cli.main(["record", "--path", str(path), "--lambda", "m5.0"]) == 0
    out = capsys.readouterr().out
    assert "boosted" in out and "resolved" not in out


def test_csv_holds_the_selected_rows_with_the_record_columns(tmp_path, capsys):
    path = tmp_path / "r.sqlite"
    for kl, auc in ((1.0, 0.91), (10.0, 0.95), (-5.0, 0.93)):
        record.add({"analysis": "resolved", "lambda": kl, "auc": auc}, path)
    record.add({"analysis": "boosted", "lambda": 1.0, "auc": 0.99}, path)
    csv = tmp_path / "sel.csv"
    assert cli.main(["record", "--path", str(path), "--analysis", "resolved", "--sort", "auc", "--csv", str(csv)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + 3  # header, rule, three resolved rows
    df = pd.read_csv(csv)
    assert df["auc"].tolist() == [0.91, 0.93, 0.95] and df["lambda"].tolist() == [1.0, -5.0, 10.0]
    assert set(df["analysis"]) == {"resolved"} and list(df.columns) == list(record.read(path).columns)


def test_format_record_renames_rounds_and_cuts_the_date():
    df = pd.DataFrame({"id": [7], "time": ["2024-05-01T12:34:56+00:00"], "analysis": ["tthh"], "tag": ["10.0"],
                       "auc": [0.912345678], "not_shown": ["x"]})
    lines = record_cmd.format_record(df).splitlines()
    assert lines[0].split() == ["Run", "Date", "Analysis", "Lambda", "AUC"]
    assert lines[2].split() == ["7", "2024-05-01", "12:34", "tthh", "10.0", "0.9123"]


def test_a_missing_record_prints_no_rows_and_creates_nothing(tmp_path, capsys):
    assert cli.main(["record", "--path", str(tmp_path / "none.sqlite")]) == 0
    assert capsys.readouterr().out == "(no rows)\n"
    assert not (tmp_path / "none.sqlite").exists()
