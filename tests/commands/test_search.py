"""hhnb.commands.search: options passed on to hhnb.nn.search, the printed study and best lines, one-line errors."""

from __future__ import annotations

import pytest

from hhnb import cli
from hhnb.nn import search


@pytest.fixture
def fake_search(monkeypatch):
    """search.search replaced: records its arguments and returns a fixed best trial (nothing is trained)."""
    calls = []

    def fake(analysis, kl, **kw):
        calls.append({"analysis": analysis, "kl": kl, **kw})
        params = {"width_units": 12, "depth": 2, "batch_size": 256, "learning_rate": 0.00123, "dropout": 0.25}
        return search.SearchResult(None, params, 0.87654, kw["trials"], 4 if kw["write_record"] else None)

    monkeypatch.setattr(search, "search", fake)
    return calls


def test_options_reach_the_search_and_the_best_is_printed(fake_search, capsys):
    assert cli.main(["search", "--analysis", "boosted", "--lambda", "m5.0", "--trials", "3", "--epochs", "2",
                     "--sampler", "tpe", "--seed", "9", "--batch-sizes", "32,64", "--max-events", "500",
                     "--storage", "sqlite:///x.sqlite"]) == 0
    (call,) = fake_search
    assert (call["analysis"], call["kl"], call["trials"], call["epochs"], call["sampler"], call["seed"]) == (
        "boosted", -5.0, 3, 2, "tpe", 9)
    assert call["name"] == "boosted_lambdam5.0" and call["storage"] == "sqlite:///x.sqlite"
    assert call["space"].batch_sizes == (32, 64) and call["space"].depth == search.Space().depth
    assert call["max_events"] == 500 and call["write_record"] is True
    assert call["decorrelation"].method == "none"  # the default: a plain search
    assert capsys.readouterr().out.splitlines() == [
        "study boosted_lambdam5.0: boosted lambda m5.0, 3 trials, tpe sampler",
        "best of 3 trials: validation AUC 0.8765 with widths 120 x 2, batch 256, learning rate 0.00123, dropout 0.250",
        "added to the run record as row 4 (hhnb record)"]


def test_defaults_and_no_record(fake_search, capsys):
    assert cli.main(["search", "--no-record", "--study", "mine"]) == 0
    (call,) = fake_search
    assert (call["analysis"], call["kl"], call["trials"], call["sampler"], call["name"]) == (
        "resolved", 1.0, 15, "random", "mine")
    assert call["space"] == search.Space() and call["write_record"] is False and call["epochs"] is None
    assert "added to the run record" not in capsys.readouterr().out


def test_decorrelation_option_reaches_the_search(fake_search, capsys):
    assert cli.main(["search", "--decorrelation", "disco:10"]) == 0
    assert fake_search[-1]["decorrelation"].as_dict() == {"method": "disco", "strength": 10.0, "masses": [], "bins": 20}
    assert cli.main(["search", "--decorrelation", "flat"]) == 0
    assert fake_search[-1]["decorrelation"].method == "flat"


@pytest.mark.parametrize("argv, message", [
    (["--batch-sizes", "64,big"], "--batch-sizes '64,big': expected integers like 64,128,256"),
    (["--trials", "0"], "--trials must be at least 1, got 0"),
    (["--decorrelation", "disco"], "decorrelation disco needs its strength, e.g. disco:10"),
    (["--decorrelation", "disco:strong"], "decorrelation 'disco:strong': the strength must be a number, e.g. disco:10"),
    (["--decorrelation", "flat:2"], "decorrelation 'flat:2': only disco takes a strength (disco:10)"),
    (["--decorrelation", "planing"], "decorrelation 'planing': expected one of none, disco, flat")])
def test_bad_options_are_one_line_exit_2_before_any_search(fake_search, capsys, argv, message):
    assert cli.main(["search", *argv]) == 2
    assert capsys.readouterr().err == f"hhnb search: error: {message}\n"
    assert fake_search == []


def test_search(bad, capsys, one_line_exit_2):
    one_line_exit_2(capsys, ["search", "--config", str(bad["cfg"]), "--analysis", "mine", "--lambda", "1",
                             "--trials", "1", "--epochs", "1", "--storage", f"sqlite:///{bad['dir'] / 'o.sqlite'}",
                             "--data-dir", str(bad["dir"]), "--no-record"],
                    str(bad["sig"]), "not a readable ROOT file")
