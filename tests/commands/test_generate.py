"""hhnb.commands.generate: the toy ntuples written and tabulated, --skip-existing, unknown analyses, unreadable files."""

from __future__ import annotations

import shutil

import uproot

from hhnb import cli, layout


def test_generate_and_samples(tmp_path, capsys):
    assert cli.main(["generate", "--analyses", "tthh", "--events", "300", "--data-dir", str(tmp_path),
                     "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "tthh" in out and "yield (3000 fb^-1)" in out and str(tmp_path / "tthh" / "ttbb.root") in out
    assert cli.main(["samples", "--analysis", "tthh", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ttbb" in out and "background" in out


def test_the_table_counts_the_events_in_the_files_and_skip_existing_keeps_them(tmp_path, capsys):
    argv = ["generate", "--analyses", "tthh", "--events", "200", "--lambdas", "1", "--data-dir", str(tmp_path),
            "--no-progress"]
    assert cli.main(argv) == 0
    rows = {line.split()[1]: line.split() for line in capsys.readouterr().out.splitlines()[2:]}
    assert set(rows) == {"tthh", "ttbb", "tth", "ttz"}
    for name, row in rows.items():
        with uproot.open(tmp_path / "tthh" / f"{name}.root") as f:
            assert int(row[2]) == f["preselection"].num_entries, name
    assert int(rows["tthh"][2]) == 200  # the signal: exactly --events
    stamp = (tmp_path / "tthh" / "ttbb.root").stat().st_mtime_ns
    assert cli.main([*argv, "--skip-existing"]) == 0
    assert (tmp_path / "tthh" / "ttbb.root").stat().st_mtime_ns == stamp
    again = {line.split()[1]: line.split()[2] for line in capsys.readouterr().out.splitlines()[2:]}
    assert again == {name: row[2] for name, row in rows.items()}  # the kept files, counted again


def test_unknown_toy_analysis_is_one_line_exit_2(tmp_path, capsys):
    assert cli.main(["generate", "--analyses", "tthh,nope", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == ("hhnb generate: error: --analyses: unknown toy analysis nope: expected resolved, intermediate, "
                   "boosted, tthh\n")
    assert not any(tmp_path.iterdir())  # refused before anything is written


def test_unreadable_existing_toy_file_is_one_line_exit_2(bad, capsys, one_line_exit_2):
    data = bad["dir"] / "data"
    for category in ("resolved", "intermediate", "boosted"):
        (data / category).mkdir(parents=True)
        shutil.copy(bad["sig"], data / category / layout.toy_file_name("hh", 1.0))
    one_line_exit_2(capsys, ["generate", "--analyses", "resolved", "--lambdas", "1", "--events", "50",
                             "--data-dir", str(data), "--skip-existing", "--no-progress"],
                    "is not a readable toy ntuple")
