"""hhnb.cli: the parser (one subparser per command, arguments loaded on demand), exit 2 on a user error, tracebacks kept."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from hhnb import cli


def test_errors_exit_2_with_a_message(tmp_path, capsys):
    assert cli.main(["samples", "--analysis", "resolvd", "--data-dir", str(tmp_path)]) == 2
    assert "unknown analysis 'resolvd'" in capsys.readouterr().err
    assert cli.main(["generate", "--lambdas", "ten", "--data-dir", str(tmp_path)]) == 2
    assert "lambda 'ten' is not a number" in capsys.readouterr().err
    assert cli.main(["roc", "--file", str(tmp_path / "none.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_anything_else_keeps_its_traceback(monkeypatch):
    from hhnb.commands import record

    def broken(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(record, "run", broken)
    with pytest.raises(ZeroDivisionError):
        cli.main(["record"])


def test_every_command_has_a_module_with_add_arguments_and_run():
    modules = {p.stem for p in (Path(cli.__file__).parent / "commands").glob("*.py")} - {"__init__", "clusteropts"}
    assert sorted(cli.COMMANDS) == sorted(modules)  # clusteropts: the --cluster options several commands share
    for name in cli.COMMANDS:
        module = importlib.import_module(f"hhnb.commands.{name}")
        assert callable(module.add_arguments) and callable(module.run), name


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: hhnb [-h] [-v] COMMAND")
    for name, text in cli.COMMANDS.items():
        assert name in out and text[:40] in " ".join(out.split()), name


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([])
    assert exc.value.code == 2
    assert "the following arguments are required: COMMAND" in capsys.readouterr().err


def test_only_the_wanted_command_gets_its_arguments():
    parser = cli.build_parser(["record", "--sort", "auc"])
    args = parser.parse_args(["record", "--sort", "auc", "--desc"])
    assert (args.command, args.sort, args.desc, args.path) == ("record", "auc", True, None)
    # the other subparsers are bare: an option of record is unknown to roc when roc was not asked for
    with pytest.raises(SystemExit):
        cli.build_parser(["record"]).parse_args(["roc", "--file", "x.csv"])
    assert cli.build_parser(["roc"]).parse_args(["roc", "--file", "x.csv"]).file == "x.csv"


def test_a_command_module_is_imported_only_when_it_runs():
    code = ("import sys; from hhnb import cli; cli.build_parser(['record']); "
            "print(sorted(m for m in sys.modules if m.startswith('hhnb.commands.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "['hhnb.commands.record']"


def test_verbose_logs_at_info(tmp_path, monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr(logging, "basicConfig", lambda **kw: seen.update(kw))
    assert cli.main(["-v", "record", "--path", str(tmp_path / "r.sqlite")]) == 0
    assert seen["level"] == logging.INFO
    assert cli.main(["record", "--path", str(tmp_path / "r.sqlite")]) == 0
    assert seen["level"] == logging.WARNING
    capsys.readouterr()
