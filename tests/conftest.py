"""Shared fixtures: small seeded toy ntuples and a tiny trained network (made once per session)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def toy_dir(tmp_path_factory):
    """Toy ntuples (1500 events per sample and category) for all analyses at lambda 1."""
    from hhnb.toy.generate import generate

    d = tmp_path_factory.mktemp("toy") / "data"
    generate(d, lambdas=[1.0], events=1500, seed=7, progress=False)
    return d


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, toy_dir):
    """A tiny resolved kl=1 network trained on the toy ntuples."""
    from hhnb.config.training import HyperParameters
    from hhnb.nn.training import train

    models = tmp_path_factory.mktemp("models")
    return train("resolved", 1.0, data_dir=toy_dir, models_dir=models,
                 hyper=HyperParameters(epochs=2, widths=(32, 32), learning_rate=5e-3), seed=3, folds=1)


@pytest.fixture
def small_record(tmp_path):
    """A run record (pandas frame) of three evaluated points, one of them re-run, and a search row."""
    from hhnb.io import record

    path = tmp_path / "r.sqlite"
    rows = [
        ("resolved", 1.0, 0.95, 2.0, "evaluate"), ("resolved", 10.0, 0.97, 3.5, "evaluate"),
        ("resolved", 1.0, 0.96, 2.4, "evaluate"),  # a re-run: the latest row counts
        ("boosted", 1.0, 0.90, 1.2, "evaluate"), ("resolved", 1.0, 0.99, None, "search"),
    ]
    for a, kl, auc, z, src in rows:
        record.add({"analysis": a, "lambda": kl, "auc": auc, "max_significance": z, "source": src}, path)
    return record.read(path)
