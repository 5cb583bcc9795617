"""hhnb.config.defaults: the toy's and the demo's settings, their values and that the demo command reads them."""

from __future__ import annotations

import argparse

from hhnb.config import analyses, defaults, lambdas


def test_values():
    assert defaults.EVENTS == 5000 and isinstance(defaults.EVENTS, int)
    assert defaults.SEED == 42 and isinstance(defaults.SEED, int)
    assert defaults.DEMO_ANALYSES == ("resolved", "boosted")
    assert defaults.DEMO_LAMBDAS == (1.0, 10.0)


def test_demo_points_exist_in_the_shipped_config_and_the_grid():
    cfg = analyses.load()
    for name in defaults.DEMO_ANALYSES:
        assert cfg.analysis(name).toy  # the demo generates its own ntuples: toy analyses only
    assert set(defaults.DEMO_LAMBDAS) <= set(lambdas.GRID)
    assert [lambdas.tag(k) for k in defaults.DEMO_LAMBDAS] == ["1.0", "10.0"]
    # every demo analysis has a signal sample at every demo lambda
    for name in defaults.DEMO_ANALYSES:
        for kl in defaults.DEMO_LAMBDAS:
            assert [s.name for s in cfg.analysis(name).samples_at(kl)
                    if s.klass == cfg.analysis(name).signal_class] == ["hh"]


def test_the_demo_command_defaults_are_these(monkeypatch):
    from hhnb.commands import demo

    monkeypatch.setattr(defaults, "EVENTS", 123)
    p = argparse.ArgumentParser()
    demo.add_arguments(p)
    args = p.parse_args([])
    assert args.analyses == "resolved,boosted"
    assert lambdas.parse_list(args.lambdas) == [1.0, 10.0]
    assert args.events == 123  # read when the parser is built, not copied at import
