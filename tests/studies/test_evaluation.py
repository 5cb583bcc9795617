"""hhnb.studies.evaluation: known answers on synthetic scores; cut chosen on validation, quoted on test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hhnb.errors import InputFileError, MissingArtifactError, UserArgumentError
from hhnb.io import record
from hhnb.stats import significance
from hhnb.studies import evaluation


def _scores(separated: bool, n: int = 5000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = np.repeat([0, 1], n)
    if separated:
        score = np.where(label == 0, rng.uniform(0.8, 1.0, 2 * n), rng.uniform(0.0, 0.82, 2 * n))  # 2.4 % of bkg overlap
    else:
        score = rng.uniform(0.0, 1.0, 2 * n)
    event = np.arange(2 * n)
    return pd.DataFrame({"score_sig": score, "label": label, "sample": np.where(label == 0, "sig", "bkg"),
                         "weight": np.where(label == 0, 0.01, 1.0), "event": event, "is_test": event % 5 == 0,
                         "is_val": event % 5 == 1})


def test_perfect_separation():
    ev = evaluation.evaluate(_scores(True), cut=0.75)
    # background above 0.8: 0.02/0.82 of it, ranked below the signal half the time -> AUC ~ 0.9994
    assert ev.auc == pytest.approx(1.0, abs=0.002)
    # test weights stand for the whole sample: at most the 50 signal events (5000 x 0.01) pass the best cut
    assert 40.0 < ev.scan.best_nsig <= 50.0 + 1e-6
    # the weighted confusion matrix at 0.75: every signal and 7/82 of the background (scaled to 5000) above
    assert ev.confusion.sum() == pytest.approx(5050.0, rel=1e-6)


def test_no_separation_gives_auc_one_half():
    ev = evaluation.evaluate(_scores(False))
    # 1000 signal and 1000 background test events: the AUC's standard error is about 0.013
    assert ev.auc == pytest.approx(0.5, abs=0.05)


def test_record_row_and_roc_csv_round_trip(tmp_path):
    ev = evaluation.evaluate(_scores(True))
    card = {"analysis": "resolved", "lambda": 1.0, "tag": "1.0", "features": ["a", "b"], "classes": ["hh", "bkg"],
            "hyperparameters": {"widths": [200, 200], "learning_rate": 5e-3}, "seed": 1}
    row = evaluation.record_row(ev, card)
    assert row["architecture"] == "200-200" and row["n_inputs"] == 2 and row["auc"] == pytest.approx(1.0, abs=0.002)
    df = evaluation.read_roc_csv(evaluation.write_roc_csv(ev, tmp_path / "roc.csv"))
    assert df["significance"].max() == pytest.approx(ev.scan.best_z, rel=1e-6)
    assert f"Sign. = {ev.scan.best_z:.4f}" in evaluation.best_line(df)


def test_roc_csv_errors(tmp_path):
    with pytest.raises(MissingArtifactError, match="does not exist"):
        evaluation.read_roc_csv(tmp_path / "nope.csv")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputFileError, match="missing column"):
        evaluation.read_roc_csv(tmp_path / "bad.csv")


@pytest.fixture
def scores():
    rng = np.random.default_rng(21)
    n = 30000
    label = rng.choice(3, n, p=[0.2, 0.5, 0.3])
    score = np.clip(np.where(label == 0, rng.beta(5, 2, n), rng.beta(2, 5, n)), 0, 1)
    sample = np.array(["hh", "qcd", "ttbar"])[label]
    weight = np.array([0.01, 5.0, 1.0])[label] * rng.uniform(0.5, 1.5, n)
    event = np.arange(n)
    df = pd.DataFrame({"score_sig": score.astype(np.float32), "label": label, "weight": weight,
                       "sample": pd.Categorical(sample), "event": event, "is_test": event % 5 == 0,
                       "is_val": (event % 5 != 0) & (rng.random(n) < 0.15)})
    return df


def test_cut_chosen_on_validation_and_quoted_on_test(scores):
    ev = evaluation.evaluate(scores, n_boot=100, classes=["sig", "qcd", "top"])
    val, test = scores["is_val"].to_numpy(), scores["is_test"].to_numpy()
    sig = scores["label"].to_numpy() == 0
    s, w, smp = scores["score_sig"].to_numpy(float), scores["weight"].to_numpy(), scores["sample"].astype(str).to_numpy()
    ref = significance.significance(s, sig, w, val, test, smp, n_boot=100)
    assert ev.quoted.cut == ref.choice.cut
    assert ev.quoted.z == pytest.approx(ref.quoted.z) and ev.quoted.z_error == pytest.approx(ref.quoted.z_error)
    # the quoted yields are the test events above the cut, scaled per sample to the full yield
    wq = significance.scaled_weights(w, smp, test)
    assert ev.quoted.b == pytest.approx(wq[~sig[test] & (s[test] >= ev.quoted.cut)].sum())
    assert ev.quoted.n_bkg_mc == int((~sig[test] & (s[test] >= ev.quoted.cut)).sum())
    assert ev.significance.choice.n_bkg_mc[ev.significance.choice.index] >= 10
    # the confusion matrix is in weighted yields of the test events
    assert ev.confusion.sum() == pytest.approx(wq.sum())
    assert ev.overtraining["class"].tolist() == ["sig", "qcd", "top"]
    assert ev.average_precision < ev.average_precision_unweighted  # rare signal: the weighted AP is lower
    table = evaluation.summary(ev)
    assert table.loc["Z error (bootstrap)", "value"] > 0
    assert table.loc["background simulated events at the cut", "value"] == ev.quoted.n_bkg_mc


def test_record_row_carries_the_errors(scores, tmp_path):
    ev = evaluation.evaluate(scores, n_boot=50, rel_unc=0.02)
    card = {"analysis": "resolved", "lambda": 1.0, "tag": "1.0", "features": ["a", "b"], "classes": ["s", "q", "t"],
            "hyperparameters": {"widths": [8, 8]}, "seed": 3}
    row = evaluation.record_row(ev, card)
    assert row["max_significance"] == ev.quoted.z and row["significance_error"] == ev.quoted.z_error
    assert row["nbkg_mc_events"] == ev.quoted.n_bkg_mc and row["rel_unc"] == 0.02
    assert row["cut_chosen_on"] == "validation" and row["quoted_on"] == "test"
    path = tmp_path / "rec.sqlite"
    record.add(row, path)
    back = record.read(path).iloc[0]
    assert back["significance_no_mc"] == pytest.approx(ev.quoted.z_no_mc)
    assert back["nbkg_mc_events"] == ev.quoted.n_bkg_mc


def test_evaluate_needs_the_validation_flag(scores):
    with pytest.raises(UserArgumentError, match="is_val.*retrain"):
        evaluation.evaluate(scores.drop(columns="is_val"))


def test_roc_table_and_best_line_still_work(scores, tmp_path):
    ev = evaluation.evaluate(scores, n_boot=20)
    df = evaluation.read_roc_csv(evaluation.write_roc_csv(ev, tmp_path / "roc.csv"))
    assert {"score_cut", "significance"} <= set(df.columns)
    assert "Sign." in evaluation.best_line(df)


def test_variation_z_per_version_and_its_shift():
    """s = 50 (basis sample at kl = 1), b = 100 with sum w^2 = 49: Z = 3.72 (Cowan et al.); a 10 % background
    rise moves it to the value of b = 110."""
    from hhnb.stats import significance
    from hhnb.studies.constraint_inputs import SampleHistograms, VariedTemplates

    def h(y, var):
        return SampleHistograms(np.array([y]), np.array([var]), np.array([100]))

    sig = {f"signal_{i}": h(y, 1.0) for i, y in enumerate((50.0, 20.0, 80.0))}
    nominal = {"bkg": h(100.0, 49.0), **sig}
    up = {"bkg": h(110.0, 49.0), **sig}
    v = VariedTemplates("one", np.array([0.0, 1.0]), (1.0, 2.5, 5.5), nominal, {"JES": (up, nominal)}, {})
    t = evaluation.variation_z(v, 1.0)
    assert list(t.index) == ["nominal", "JES up", "JES down"]
    assert t.loc["nominal", "Z"] == pytest.approx(3.72, abs=0.005)
    assert t.loc["JES up", "Z"] == pytest.approx(float(significance.asimov_z(50.0, 110.0, 7.0)), abs=1e-4)
    assert t.loc["JES up", "Z shift"] < 0 and t.loc["JES down", "Z shift"] == 0.0
    assert evaluation.variation_z(v, 2.5).loc["nominal", "s"] == pytest.approx(20.0)
