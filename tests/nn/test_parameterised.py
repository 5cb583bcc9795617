"""hhnb.nn.parameterised: one network with kappa_lambda as input; training, scoring at any lambda, apply, ONNX."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import uproot

from hhnb import layout
from hhnb.cli import main
from hhnb.errors import MissingArtifactError, UserArgumentError
from hhnb.nn import parameterised as P
from hhnb.nn import training

TREE = "preselection"


def test_lambdas_inputs_and_draws():
    assert P.check_lambdas(None) == tuple(sorted(P.check_lambdas("all"))) and len(P.check_lambdas(None)) == 15
    with pytest.raises(UserArgumentError, match="at least two training lambdas"):
        P.check_lambdas("5,5.0")
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert P.with_lambda(x, "m2.0")[:, -1].tolist() == [-2.0, -2.0, -2.0]
    assert P.with_lambda(x, 3)[:, :2].tolist() == x.tolist()
    draws = P.draw_background_lambdas(30_000, (1.0, 5.0, 10.0), seed=4)
    assert set(np.unique(draws)) == {1.0, 5.0, 10.0}
    assert np.allclose(np.bincount(np.searchsorted([1.0, 5.0, 10.0], draws)) / 30_000, 1 / 3, atol=0.015)
    assert (P.draw_background_lambdas(50, (1.0, 5.0), 4) == P.draw_background_lambdas(50, (1.0, 5.0), 4)).all()
    assert P.nearest(1.5, (1.0, 2.0)) == 1.0 and P.nearest(15.0, (7.0, 10.0, 20.0)) == 10.0


def test_lambda_balanced_gives_each_signal_lambda_the_same_total():
    rng = np.random.default_rng(2)
    kl = np.r_[np.full(100, 1.0), np.full(300, 20.0), np.full(50, 7.0)]
    sig = np.r_[np.ones(400, bool), np.zeros(50, bool)]
    w = rng.uniform(0.5, 2.0, 450) * np.where(kl == 20.0, 30.0, 1.0)
    out = P.lambda_balanced(w, kl, sig)
    t1, t20 = out[sig & (kl == 1.0)].sum(), out[sig & (kl == 20.0)].sum()
    assert t1 == pytest.approx(t20) and t1 == pytest.approx((w[kl == 1.0].sum() + w[sig & (kl == 20.0)].sum()) / 2)
    assert (out[~sig] == w[~sig]).all()  # background untouched
    ratio = out[sig & (kl == 20.0)] / w[sig & (kl == 20.0)]
    assert np.allclose(ratio, ratio[0])  # shapes within one lambda kept


@pytest.fixture(scope="module")
def two_lambda_dir(toy_dir, tmp_path_factory):
    """The session toy ntuples (lambda 1) plus the HH signal at lambda 5."""
    from hhnb.toy.generate import generate_sample

    d = tmp_path_factory.mktemp("param") / "data"
    shutil.copytree(toy_dir, d)
    generate_sample(d, "hh", 5.0, events=1500, seed=7, progress=False)
    return d


@pytest.fixture(scope="module")
def param_run(two_lambda_dir, tmp_path_factory):
    from hhnb.config.training import HyperParameters

    return training.train_parameterised("resolved", lambdas=[5.0, 1.0], data_dir=two_lambda_dir,
                                 models_dir=tmp_path_factory.mktemp("pmodels"), folds=2, seed=3,
                                 hyper=HyperParameters(epochs=2, widths=(32, 32)), export_onnx=True)


@pytest.mark.slow
def test_files_card_and_events(param_run):
    card = param_run.card
    assert param_run.card_path.name == "nn_resolved_SlfCoup_param.json"
    assert [p.name for p in param_run.model_paths] == ["nn_resolved_SlfCoup_param_fold0of2.keras",
                                                       "nn_resolved_SlfCoup_param_fold1of2.keras"]
    assert card["lambda"] == "param" and card["tag"] == "param" and card["lambdas"] == [1.0, 5.0]
    assert card["head"] == "morphing" and "Brehmer" in card["head_reference"]
    assert card["inputs"][-1] == "kappa_lambda" and card["inputs"][:-1] == card["features"]
    assert set(card["test_auc_by_lambda"]) == {"1.0", "5.0"}
    assert all(0.5 < a <= 1.0 for a in card["test_auc_by_lambda"].values())
    s = param_run.scores
    assert {"hh_SlfCoup_1.0", "hh_SlfCoup_5.0", "qcd_4b", "ttbar"} <= set(s["sample"].astype(str))
    sig = s["label"] == 0
    assert (s.loc[sig & (s["sample"] == "hh_SlfCoup_5.0"), "kappa_lambda"] == 5.0).all()
    # background events carry lambdas drawn from the training grid, both values present
    assert set(s.loc[~sig, "kappa_lambda"].unique()) == {1.0, 5.0}
    assert param_run.scores_path.exists() and layout.is_param(card["lambda"])


@pytest.mark.slow
def test_score_at_lambda_is_the_prediction_with_lambda_as_input(param_run):
    from hhnb.nn.predict import predict
    from hhnb.nn.saving import load

    net = P.load(param_run.model_path.parent, "resolved")
    assert net.folds == 2 and net.lambdas == (1.0, 5.0)
    ev = param_run.scores.iloc[:400]
    x = ev[net.features].to_numpy(np.float32)
    for kl in (1.0, 5.0, 3.0, -12.5):  # grid points and lambdas it never saw
        got = net.score(ev, kl)
        want = np.zeros(len(ev), np.float32)
        for i, path in enumerate(param_run.model_paths):
            rows = (ev["event"].to_numpy() % 2) == i
            xi = np.column_stack([x[rows], np.full(rows.sum(), kl, np.float32)])
            want[rows] = predict(load(path), xi)[:, 0]
        assert np.allclose(got, want, atol=1e-6)
        assert np.allclose(P.predict_at(net.models[0], x, kl), predict(net.models[0], P.with_lambda(x, kl)))
    # the saved morphing head (custom layers, safe_mode load): signal odds x N(kl) a quadratic in kl per event
    from hhnb.nn import morphing

    model = net.models[0]
    assert morphing.is_morphing(model)
    grid = np.linspace(-20, 20, 21)
    n = morphing.cholesky_quadratic(*morphing.normalisation(model), grid / morphing.SCALE)
    checked = 0
    for row in x[:20]:
        p = predict(model, np.column_stack([np.repeat(row[None], len(grid), 0), grid]))[:, 0].astype(float)
        if p.max() > 0.99:  # 1 - p in float32 too coarse to check to 1e-4
            continue
        quad = p / (1 - p) * n
        fit = np.polynomial.polynomial.Polynomial.fit(grid, quad, 2)
        assert np.abs(fit(grid) - quad).max() <= 1e-4 * np.abs(quad).max()
        checked += 1
    assert checked >= 5
    assert not np.allclose(net.score(ev, 1.0), net.score(ev, 20.0), atol=1e-3)  # the lambda input matters
    # the out-of-fold scores written at training are each event at its own lambda
    own = ev["kappa_lambda"].to_numpy()
    redo = np.array([net.score(ev.iloc[[i]], own[i])[0] for i in range(0, 400, 40)])
    assert np.allclose(redo, ev["score_sig"].to_numpy()[::40], atol=1e-5)


@pytest.fixture(scope="module")
def small_file(two_lambda_dir, tmp_path_factory):
    src = two_lambda_dir / "resolved" / "qcd_4b.root"
    with uproot.open(src) as f:
        arrays = f[TREE].arrays(library="np", entry_stop=300)
    path = tmp_path_factory.mktemp("apply") / "qcd_4b.root"
    with uproot.recreate(path) as f:
        f.mktree(TREE, {k: v.dtype for k, v in arrays.items()})
        f[TREE].extend(arrays)
    return path


@pytest.mark.slow
def test_apply_writes_each_requested_lambda(param_run, small_file, tmp_path):
    models = param_run.model_path.parent
    assert main(["apply", str(small_file), "--analysis", "resolved", "--lambdas", "1,5,m3.0", "--parameterised",
                 "--models-dir", str(models), "--outdir", str(tmp_path), "--no-progress"]) == 0
    with uproot.open(tmp_path / "qcd_4b_withNNs.root") as f:
        out = f[TREE].arrays(library="pd")
    new = sorted(c for c in out.columns if c.startswith("nnscore_"))
    assert new == sorted([*(b for kl in (1, 5, -3) for b in layout.score_branches("resolved", kl, ["s", "qcd", "top"])),
                          "nnscore_resolved_SlfCoup_param_fold"])
    net = P.load(models, "resolved")
    frame = out.rename(columns={"eventNumber": "event"})
    for kl in (1.0, 5.0, -3.0):
        assert np.allclose(out[layout.score_branches("resolved", kl, ["s"])[0]], net.score(frame, kl), atol=1e-6)
    assert (out["nnscore_resolved_SlfCoup_param_fold"] == out["eventNumber"] % 2).all()
    # the card given with --model: scored at --lambdas, 'all' = its training lambdas
    assert main(["apply", str(small_file), "--model", str(param_run.card_path), "--lambdas", "all",
                 "--outdir", str(tmp_path / "all"), "--no-progress"]) == 0
    with uproot.open(tmp_path / "all" / "qcd_4b_withNNs.root") as f:
        keys = set(f[TREE].keys())
    assert {"nnscore_resolved_SlfCoup_1.0_sig", "nnscore_resolved_SlfCoup_5.0_sig"} <= keys
    assert "nnscore_resolved_SlfCoup_m3.0_sig" not in keys


@pytest.mark.slow
def test_onnx_round_trip_and_onnx_apply(param_run, small_file, tmp_path):
    from hhnb.nn import onnx as O

    card = json.loads(param_run.card_path.read_text())
    assert card["onnx"]["input_shape"] == ["batch", 21] and card["onnx"]["files"][0].endswith("param_fold0of2.onnx")
    sess = O.session(param_run.onnx_paths[0])
    assert sess.get_inputs()[0].shape == ["batch", 21]
    meta = json.loads(sess.get_modelmeta().custom_metadata_map["hhnb_features"])
    assert meta[-1] == "kappa_lambda" and meta[:-1] == card["features"]
    x = param_run.scores[card["features"]].to_numpy(np.float32)[:2000]
    net = P.load(param_run.model_path.parent, "resolved")
    for kl in (1.0, 4.0):
        assert np.abs(O.predict(sess, P.with_lambda(x, kl)) - P.predict_at(net.models[0], x, kl)).max() <= 1e-5
    assert main(["apply", str(small_file), "--analysis", "resolved", "--lambdas", "5", "--parameterised",
                 "--backend", "onnx", "--models-dir", str(param_run.model_path.parent), "--outdir", str(tmp_path),
                 "--no-progress"]) == 0
    with uproot.open(tmp_path / "qcd_4b_withNNs.root") as f:
        out = f[TREE].arrays(library="pd")
    want = net.score(out.rename(columns={"eventNumber": "event"}), 5.0)
    assert np.abs(out["nnscore_resolved_SlfCoup_5.0_sig"].to_numpy() - want).max() <= 1e-5


@pytest.mark.slow
def test_missing_parameterised_network(tmp_path, small_file, capsys):
    with pytest.raises(MissingArtifactError, match="nn_resolved_SlfCoup_param.json does not exist"):
        P.load(tmp_path, "resolved")
    assert main(["apply", str(small_file), "--analysis", "resolved", "--lambdas", "1", "--parameterised",
                 "--models-dir", str(tmp_path), "--no-progress"]) == 2
    assert "nn_resolved_SlfCoup_param" in capsys.readouterr().err


def test_at_lambda_rows():
    frame = pd.DataFrame({"label": [0, 0, 1, 2], "kappa_lambda": [1.0, 5.0, 5.0, 1.0]})
    assert P.at_lambda(frame, 5.0).tolist() == [False, True, True, True]
