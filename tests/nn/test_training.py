import json

import numpy as np
import pandas as pd
import pytest

from hhnb import layout
from hhnb.config.training import HyperParameters
from hhnb.errors import ConfigError
from hhnb.io import artifacts
from hhnb.nn import saving
from hhnb.nn.predict import predict
from hhnb.studies import evaluation

pytestmark = pytest.mark.slow


def test_outputs_and_card(tiny_run):
    assert tiny_run.model_path.name == "nn_resolved_SlfCoup_1.0.keras"
    card = json.loads(tiny_run.card_path.read_text())
    assert card["features"][:2] == ["pT_hh", "m_hh"] and len(card["features"]) == 20
    assert card["classes"] == ["signal", "qcd", "top"]
    assert card["score_branches"] == ["nnscore_resolved_SlfCoup_1.0_sig", "nnscore_resolved_SlfCoup_1.0_qcd",
                                      "nnscore_resolved_SlfCoup_1.0_top"]
    assert card["hyperparameters"]["widths"] == [32, 32] and card["seed"] == 3
    assert card["negative_weights"] == "abs"  # the default policy, recorded
    assert card["max_events"] is None  # every event asked for: recorded by train() itself
    assert 0.75 < card["metrics"]["test_auc"] <= 1.0
    scores = pd.read_parquet(tiny_run.scores_path)
    np.testing.assert_allclose(scores[["score_signal", "score_qcd", "score_top"]].sum(axis=1), 1.0, rtol=1e-5)
    assert scores.attrs["analysis"] == "resolved"


def test_saved_model_alone_scores_raw_inputs_identically(tiny_run):
    loaded = saving.load(tiny_run.model_path)
    scores = pd.read_parquet(tiny_run.scores_path)
    x = scores[tiny_run.card["features"]].to_numpy(np.float32)
    np.testing.assert_array_equal(predict(loaded, x)[:, 0], scores["score_sig"].to_numpy())
    assert any(layer.name == "scaling" for layer in loaded.layers)


def test_deterministic_for_a_seed(tiny_run, toy_dir, tmp_path):
    from hhnb.nn.training import train

    again = train("resolved", 1.0, data_dir=toy_dir, models_dir=tmp_path,
                  hyper=HyperParameters(epochs=2, widths=(32, 32), learning_rate=5e-3), seed=3, folds=1)
    np.testing.assert_array_equal(again.scores["score_sig"], tiny_run.scores["score_sig"])


def test_evaluation_and_roc_csv(tiny_run, tmp_path):
    ev = evaluation.evaluate(tiny_run.scores, min_bkg=10)
    assert ev.auc == pytest.approx(tiny_run.card["metrics"]["test_auc"], abs=1e-6)
    assert ev.scan.best_nbkg >= 10 and ev.scan.best_z > 0
    path = evaluation.write_roc_csv(ev, tmp_path / "roc.csv")
    df = evaluation.read_roc_csv(path)
    line = evaluation.best_line(df)
    assert line.startswith(f"Score = {ev.scan.best_cut:.4f}\nSign. = {ev.scan.best_z:.4f}")
    row = evaluation.record_row(ev, tiny_run.card)
    assert row["architecture"] == "32-32" and row["n_inputs"] == 20


def test_bad_inputs(toy_dir, tmp_path, tiny_run):
    from hhnb.nn.training import train

    with pytest.raises(ConfigError, match="unknown analysis 'resolvd'.*did you mean 'resolved'"):
        train("resolvd", 1.0, data_dir=toy_dir, models_dir=tmp_path, folds=1)
    with pytest.raises(ConfigError, match="no signal sample for lambda 5.0: available lambdas 1.0"):
        train("tthh", 5.0, data_dir=toy_dir, models_dir=tmp_path, folds=1)
    with pytest.raises(ValueError, match="hyper-parameter epochs='ten': expected an integer"):
        HyperParameters(epochs="ten")
    with pytest.raises(ValueError, match="hyper-parameter widths"):
        HyperParameters(widths=(0,))
    with pytest.raises(ValueError, match="unknown optimizer"):
        train("resolved", 1.0, data_dir=toy_dir, models_dir=tmp_path, hyper=HyperParameters(optimizer="adagrad2"), folds=1)
    # a scores file from another analysis
    models = tiny_run.model_path.parent
    src = layout.scores_path(models, "resolved", 1.0)
    dst = layout.scores_path(models, "boosted", 1.0)
    dst.write_bytes(src.read_bytes())
    with pytest.raises(ValueError, match="belongs to analysis 'resolved' lambda 1.0, not 'boosted'"):
        artifacts.read_scores(models, "boosted", 1.0)
    dst.unlink()
    with pytest.raises(FileNotFoundError, match="train the network first.*-p analysis boosted -p lambda 2.0"):
        artifacts.read_scores(models, "boosted", 2.0)


@pytest.mark.parametrize("policy", ["keep", "abs", "zero"])
def test_negative_weights_policy_sets_the_training_weights_only(toy_dir, policy):
    from dataclasses import replace

    from hhnb.config import analyses
    from hhnb.nn.training import training_arrays

    ana = replace(analyses.analysis("resolved"), negative_weights=policy)
    arrays = training_arrays(ana, 1.0, toy_dir)
    w, sw, y = arrays.weight, arrays.sample_weight, arrays.y
    top = (arrays.frame["sample"].astype(str) == "ttbar").to_numpy()
    neg = w < 0
    assert 0.15 < neg[top].mean() < 0.25 and not neg[~top].any()  # the toy's NLO-like ttbar
    assert w.sum() == pytest.approx(arrays.frame["weight"].sum())  # evaluation weights stay signed
    expected = {"keep": w, "abs": np.abs(w), "zero": np.where(neg, 0.0, w)}[policy]
    for c in np.unique(y):  # class balancing scales each class by one factor
        m = y == c
        ratio = sw[m] / np.where(expected[m] != 0, expected[m], np.nan)
        np.testing.assert_allclose(ratio[np.isfinite(ratio)], np.nanmean(ratio), rtol=1e-9)
    if policy == "zero":
        assert (sw[neg] == 0).all() and (sw[~neg] > 0).all()
    elif policy == "abs":
        assert (sw > 0).all()
    else:
        assert ((sw < 0) == neg).all()


def test_two_class_network(toy_dir, tmp_path):
    from hhnb.nn.training import train

    run = train("tthh", 1.0, data_dir=toy_dir, models_dir=tmp_path,
                hyper=HyperParameters(epochs=2, widths=(16,)), seed=1, folds=1)
    assert run.card["classes"] == ["signal", "background"]
    assert run.card["score_branches"] == ["nnscore_tthh_SlfCoup_1.0_sig"]
    assert set(run.scores["label"]) == {0, 1}


@pytest.fixture(scope="module")
def kfold_run(toy_dir, tmp_path_factory):
    from hhnb.nn.training import train

    return train("resolved", 1.0, data_dir=toy_dir, models_dir=tmp_path_factory.mktemp("kfold"),
                 hyper=HyperParameters(epochs=2, widths=(32, 32), learning_rate=5e-3), seed=3, folds=5)


def test_kfold_files_card_and_out_of_fold_scores(kfold_run, tiny_run):
    run = kfold_run
    assert [p.name for p in run.model_paths] == [f"nn_resolved_SlfCoup_1.0_fold{i}of5.keras" for i in range(5)]
    assert all(p.exists() for p in run.model_paths) and not layout.model_path(run.model_path.parent,
                                                                                  "resolved", 1.0).exists()
    card = json.loads(run.card_path.read_text())
    assert card["folds"] == 5 and card["test_rule"] == "eventNumber % 5" and card["warnings"] == []
    assert card["fold_models"] == [p.name for p in run.model_paths] and len(card["per_fold"]) == 5
    m = card["metrics"]
    assert len(m["fold_auc"]) == 5 and m["fold_auc_mean"] == pytest.approx(np.mean(m["fold_auc"]), abs=1e-6)
    assert m["test_auc"] == m["oof_auc"]
    s = run.scores
    np.testing.assert_array_equal(s["fold"], s["event"] % 5)
    assert s["is_test"].all() and len(s) == len(tiny_run.scores)  # every event scored by a blind network
    for i, p in enumerate(run.model_paths):  # each event's score is the one of the network blind to its fold
        rows = s["fold"].to_numpy() == i
        assert card["per_fold"][i]["events"]["test"] == int(rows.sum())
        assert card["per_fold"][i]["events"]["train"] + card["per_fold"][i]["events"]["validation"] == int((~rows).sum())
        np.testing.assert_array_equal(predict(saving.load(p), s.loc[rows, card["features"]].to_numpy(np.float32))[:, 0],
                                      s.loc[rows, "score_sig"].to_numpy())
    # out-of-fold AUC (all events) agrees with the single split's test AUC (20 % of them) on the toy: k = 5 so
    # that each network trains on as many events (80 %) as the single network. Tolerance: 3 standard
    # deviations of the difference, from Poisson-bootstrap errors of both weighted AUCs (the single split's
    # rests on ~20 % of a 1500-event-per-sample toy whose background weights vary: 0.01-0.05)
    from hhnb.stats.metrics import luminosity_weights
    from hhnb.studies.comparison import paired_auc

    errors = []
    for sc, auc in ((s, m["oof_auc"]), (tiny_run.scores, tiny_run.card["metrics"]["test_auc"])):
        te = sc["is_test"].to_numpy(bool)
        w = luminosity_weights(sc["weight"].to_numpy(float), sc["sample"].astype(str).to_numpy(), te)
        score = sc["score_sig"].to_numpy()[te]
        boot = paired_auc((sc["label"] == 0).to_numpy()[te], score, score, w, n_boot=100, seed=2)
        assert boot.a == pytest.approx(auc, abs=1e-6) and 0 < boot.a_error < 0.06
        errors.append(boot.a_error)
    assert abs(m["oof_auc"] - tiny_run.card["metrics"]["test_auc"]) < 3 * np.hypot(*errors)
    # downstream evaluation reads the out-of-fold scores unchanged: cuts chosen on the is_val half, numbers
    # (the AUC included) quoted on the other half
    ev = evaluation.evaluate(s, min_bkg=10)
    from hhnb.stats import metrics, significance

    q = (s["is_test"] & ~s["is_val"]).to_numpy()
    assert 0.3 < q.mean() < 0.7
    w = significance.scaled_weights(s["weight"].to_numpy(), s["sample"].astype(str).to_numpy(), q)
    assert ev.auc == pytest.approx(metrics.roc((s["label"].to_numpy()[q] == 0).astype(int),
                                               s["score_sig"].to_numpy()[q], w).area, abs=1e-6)


def test_kfold_bad_inputs(toy_dir, tmp_path):
    import yaml

    from hhnb.config import analyses as config
    from hhnb.nn.training import train

    with pytest.raises(ValueError, match=r"folds=0: expected 1"):
        train("resolved", 1.0, data_dir=toy_dir, models_dir=tmp_path, folds=0)
    spec = yaml.safe_load(config.DEFAULT_CONFIG.read_text())
    for ana in spec["analyses"].values():
        ana.pop("event", None)
    cfg = tmp_path / "noevent.yaml"
    cfg.write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match=r"analysis 'resolved' \(config .*noevent.yaml\): no event branch"):
        train("resolved", 1.0, config=cfg, data_dir=toy_dir, models_dir=tmp_path, folds=3)


def test_input_matrix_is_the_frames_float32_inputs_without_a_float64_copy(toy_dir):
    """training_arrays' input matrix, filled column by column (peak memory of a 5M-event training), holds the same
    values in the same column-major layout as ``df[inputs].to_numpy(np.float32)`` did."""
    from hhnb.config import analyses
    from hhnb.nn.training import input_matrix, training_arrays

    a = training_arrays(analyses.analysis("resolved"), 1.0, toy_dir, folds=1)
    old = a.frame[a.inputs].to_numpy(np.float32)
    assert a.x.dtype == np.float32 and a.x.shape == (len(a.frame), 20) and a.x.flags["F_CONTIGUOUS"]
    np.testing.assert_array_equal(a.x, old)
    x = input_matrix(pd.DataFrame({"m": [125.0, 1e-8], "n": [3, 4]}), ["n", "m"])
    assert x.tolist() == [[3.0, 125.0], [4.0, np.float32(1e-8)]]
