import pytest

from hhnb import cli
from hhnb.io import record
from hhnb.studies import evaluation


def test_generate_and_samples(tmp_path, capsys):
    assert cli.main(["generate", "--analyses", "tthh", "--events", "300", "--data-dir", str(tmp_path),
                     "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "tthh" in out and "yield (3000 fb^-1)" in out and str(tmp_path / "tthh" / "ttbb.root") in out
    assert cli.main(["samples", "--analysis", "tthh", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ttbb" in out and "background" in out


def test_errors_exit_2_with_a_message(tmp_path, capsys):
    assert cli.main(["samples", "--analysis", "resolvd", "--data-dir", str(tmp_path)]) == 2
    assert "unknown analysis 'resolvd'" in capsys.readouterr().err
    assert cli.main(["generate", "--lambdas", "ten", "--data-dir", str(tmp_path)]) == 2
    assert "lambda 'ten' is not a number" in capsys.readouterr().err
    assert cli.main(["roc", "--file", str(tmp_path / "none.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


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
