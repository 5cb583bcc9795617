"""Tests for hhnb.nn.search: seeded sampling, the search-space guard, two processes on one study."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest

from hhnb.errors import SpaceMismatch
from hhnb.io import record
from hhnb.nn import search

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_space_and_hyper_from_params():
    params = {"depth": 2, "width_units": 17, "dropout": 0.25, "learning_rate": 1e-3, "batch_size": 256}
    hyper = search.hyper_from_params(params, epochs=3)
    assert hyper.widths == (170, 170)
    assert (hyper.batch_size, hyper.epochs, hyper.dropout) == (256, 3, 0.25)
    assert search.Space().as_dict()["batch_sizes"] == [64, 128, 256, 512, 1024]
    assert search.study_name("boosted", -5) == "boosted_lambdam5.0"


def test_trial_seeded_sampler_reproducible_and_in_range():
    def draws(seed):
        study = optuna.create_study(direction="maximize", sampler=search.TrialSeededRandomSampler(seed))
        out = []
        for _ in range(5):
            trial = study.ask()
            hyper = search.suggest(trial, search.Space(), epochs=1)
            study.tell(trial, 0.5)
            out.append(hyper)
        return out

    a, b, c = draws(3), draws(3), draws(4)
    assert a == b and a != c
    for h in a:
        assert h.batch_size in (64, 128, 256, 512, 1024)
        assert 1e-6 <= h.learning_rate <= 1.0 and 0.1 <= h.dropout <= 0.5
        assert 1 <= len(h.widths) <= 3 and 100 <= h.widths[0] <= 590 and h.widths[0] % 10 == 0


def test_study_with_other_space_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.sqlite'}"
    fixed = {"analysis": "resolved", "lambda": 1.0, "epochs": 2, "max_events": None, "seed": 1}
    study = search.open_study("s", url, search.Space(), fixed)
    assert study.user_attrs["search"]["space"]["depth"] == [1, 3]
    search.open_study("s", url, search.Space(), fixed)  # same space: loads
    with pytest.raises(SpaceMismatch, match=r"study 's' .*batch_sizes: study has \[64, 128, 256, 512, 1024\]"):
        search.open_study("s", url, search.Space(batch_sizes=(32,)), fixed)
    with pytest.raises(SpaceMismatch, match="epochs: study has 2, asked 5"):
        search.open_study("s", url, search.Space(), {**fixed, "epochs": 5})


@pytest.fixture(scope="module")
def toy_project(tmp_path_factory):
    from hhnb.toy.generate import generate

    home = tmp_path_factory.mktemp("search")
    generate(home / "data", analyses=["resolved"], lambdas=[1.0], events=1500, progress=False)
    return home


@pytest.mark.slow
def test_two_processes_share_one_study(toy_project):
    env = {**os.environ, "HHNB_HOME": str(toy_project), "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = [sys.executable, "-m", "hhnb.cli", "search", "--analysis", "resolved", "--lambda", "1", "--trials", "4",
           "--epochs", "1", "--max-events", "500", "--study", "shared"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert re.search(r"best of [1-4] trials: validation AUC", out)  # the study's best when this process ended
    # a process prints "new best" only when its own trial beats the study's best so far: the other
    # process may have set it first (load-dependent), so at least one of the two prints it
    assert any("new best validation AUC" in out for out, _ in outs)
    storage = f"sqlite:///{Path(toy_project) / 'runs' / 'optuna.sqlite'}"
    study = optuna.load_study(study_name="shared", storage=storage)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) == 4
    assert len({tuple(sorted(t.params.items())) for t in done}) == 4  # trial-seeded: no duplicate draws
    assert 0.5 < study.best_value <= 1.0
    rows = record.read(Path(toy_project) / "runs" / "record.sqlite")
    assert set(rows["source"]) == {"search"} and len(rows) == 2
    assert rows["auc"].max() == pytest.approx(study.best_value)
    # the same text as the evaluate path writes (record.architecture), e.g. "120-120", never "[120, 120]"
    assert all(a.replace("-", "").isdigit() for a in rows["architecture"]), list(rows["architecture"])


@pytest.mark.slow
def test_prepare_with_a_decorrelation_trains_as_train_does(toy_project):
    from hhnb.config.training import Decorrelation, HyperParameters
    from hhnb.nn import decorrelation as decor

    plain = search.prepare("resolved", 1.0, data_dir=toy_project / "data", max_events=500)
    assert plain.penalty is None
    disco = search.prepare("resolved", 1.0, data_dir=toy_project / "data", max_events=500,
                           decorrelation=Decorrelation("disco", 10.0))
    assert isinstance(disco.penalty, decor.Penalty) and disco.penalty.strength == 10.0
    np.testing.assert_array_equal(disco.w_train, plain.w_train)  # DisCo changes the loss, not the weights
    assert disco.penalty.mass.shape == (len(plain.y_train), 2)  # h1_M, h2_M of the training events
    flat = search.prepare("resolved", 1.0, data_dir=toy_project / "data", max_events=500,
                          decorrelation=Decorrelation("flat"))
    sig = plain.y_train == 0
    np.testing.assert_array_equal(flat.w_train[sig], plain.w_train[sig])  # signal untouched
    assert not np.allclose(flat.w_train[~sig], plain.w_train[~sig]) and flat.penalty is None
    # a one-epoch decorrelated trial runs and scores
    auc = search.validation_auc(disco, HyperParameters(epochs=1, widths=(16,)), seed=1)
    assert 0.5 < auc <= 1.0
