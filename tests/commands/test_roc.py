"""hhnb.commands.roc: a ROC CSV drawn and read back (AUC, best significance), --out, and one-line errors."""

from __future__ import annotations

import pandas as pd
import pytest

from hhnb import cli
from hhnb.studies import evaluation


def test_hand_made_curve_gives_its_trapezoid_area_and_its_best_row(tmp_path, capsys):
    # four cuts (any order in the file): the curve (0,0) (0.1,0.6) (0.5,0.9) (1,1) has area 0.805
    pd.DataFrame({"score_cut": [0.5, 1.0, 0.0, 0.9], "sig_eff": [0.9, 0.0, 1.0, 0.6], "bkg_eff": [0.5, 0.0, 1.0, 0.1],
                  "nsig": [9.0, 0.0, 10.0, 6.0], "nbkg": [50.0, 0.0, 100.0, 10.0],
                  "significance": [1.2, 0.0, 1.0, 1.7]}).to_csv(tmp_path / "roc.csv", index=False)
    out_dir = tmp_path / "plots"
    assert cli.main(["roc", "--file", str(tmp_path / "roc.csv"), "--out", str(out_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == ["Score = 0.9000", "Sign. = 1.7000", "nsig. = 6.00", "nbkg. = 10.00"]
    area = 0.1 * 0.6 / 2 + 0.4 * (0.6 + 0.9) / 2 + 0.5 * (0.9 + 1.0) / 2
    assert f"AUC = {area:.4f}" in lines and area == pytest.approx(0.805)
    assert lines[-1] == f"plot: {out_dir / 'roc_from_csv.png'}"
    assert (out_dir / "roc_from_csv.pdf").exists() and not (tmp_path / "roc_from_csv.png").exists()


def test_missing_columns_are_named(tmp_path, capsys):
    pd.DataFrame({"score_cut": [0.5], "sig_eff": [0.5]}).to_csv(tmp_path / "roc.csv", index=False)
    assert cli.main(["roc", "--file", str(tmp_path / "roc.csv")]) == 2
    assert capsys.readouterr().err == (
        f"hhnb roc: error: {tmp_path / 'roc.csv'}: missing column(s) ['bkg_eff', 'nbkg', 'nsig', 'significance']; "
        "expected ['bkg_eff', 'nbkg', 'nsig', 'score_cut', 'sig_eff', 'significance']\n")


@pytest.mark.slow
def test_roc_round_trip(tiny_run, tmp_path, capsys):
    ev = evaluation.evaluate(tiny_run.scores)
    csv = evaluation.write_roc_csv(ev, tmp_path / "roc.csv")
    assert cli.main(["roc", "--file", str(csv)]) == 0
    out = capsys.readouterr().out
    assert f"Sign. = {ev.scan.best_z:.4f}" in out and f"nsig. = {ev.scan.best_nsig:.2f}" in out
    auc = float(out.split("AUC = ")[1].split()[0])  # from the CSV's 2000-point curve
    assert auc == pytest.approx(ev.auc, abs=0.005)
    assert (tmp_path / "roc_from_csv.png").exists() and (tmp_path / "roc_from_csv.pdf").exists()


def test_roc(bad, capsys, one_line_exit_2):
    one_line_exit_2(capsys, ["roc", "--file", str(bad["sig"])], str(bad["sig"]))
