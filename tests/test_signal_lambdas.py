"""Signal samples per lambda: each network reads only the signal sample(s) that provide its lambda."""

from __future__ import annotations

import numpy as np
import pytest
from userfiles import write_config, write_ntuple

from hhnb.config import analyses as config
from hhnb.config.analyses import TagFormat
from hhnb.errors import ConfigError
from hhnb.io import ntuples

# three productions, three naming conventions, none of them hhnb's own
SAMPLES = [
    {"name": "hh_sm", "class": "signal", "lambdas": [1], "files": "sig/kl_{tag}.root",
     "tag_format": {"point": "p", "decimals": 2}},                                     # kl_1p00.root
    {"name": "hh_km5", "class": "signal", "lambdas": ["m5.0"], "files": "sig/kl{tag}.root",
     "tag_format": {"point": "p", "minus": "m", "decimals": 1}},                       # klm5p0.root
    {"name": "hh_k10", "class": "signal", "lambdas": [10], "files": "sig/HH_kappa{tag}.root",
     "tag_format": {"point": "", "decimals": 0}},                                      # HH_kappa10.root
    {"name": "bkg", "class": "background", "files": "bkg.root"},
]
EVENTS = {1.0: 300, -5.0: 400, 10.0: 500}
SHIFT = {1.0: 0.5, -5.0: 1.5, 10.0: 3.0}


@pytest.fixture
def user(tmp_path):
    for (kl, name), seed in zip({1.0: "kl_1p00", -5.0: "klm5p0", 10.0: "HH_kappa10"}.items(), (1, 2, 3)):
        write_ntuple(tmp_path / "sig" / f"{name}.root", EVENTS[kl], seed=seed, shift=SHIFT[kl])
    write_ntuple(tmp_path / "bkg.root", 600, seed=4)
    return config.analysis("mine", write_config(tmp_path / "cfg.yaml", SAMPLES))


def test_tag_formats():
    assert TagFormat(point="p", decimals=2).format(1) == "1p00"
    assert TagFormat(point="p", minus="m", decimals=1).format(-5) == "m5p0"
    assert TagFormat(point="p", minus="minus", decimals=1).format(-0.5) == "minus0p5"
    assert TagFormat().format(-5) == "m5.0"


def test_each_lambda_reads_its_own_sample(user, tmp_path):
    for kl, n in EVENTS.items():
        df = ntuples.load(user, kl, tmp_path)
        signal = df[df["label"] == 0]
        assert set(signal["sample"].astype(str)) == {next(s["name"] for s in SAMPLES if s["class"] == "signal"
                                                          and float(str(s["lambdas"][0]).replace("m", "-")) == kl)}
        assert len(signal) == n
        assert signal["x1"].mean() == pytest.approx(SHIFT[kl], abs=0.2)
        assert (df["label"] == 1).sum() == 600


def test_missing_lambda_lists_the_available_ones(user, tmp_path):
    with pytest.raises(ConfigError, match=r"no signal sample for lambda 2.0: available lambdas m5.0, 1.0, 10.0"):
        ntuples.load(user, 2.0, tmp_path)


@pytest.mark.slow
def test_each_lambda_trains_on_its_own_sample(user, tmp_path):
    from hhnb.config.training import HyperParameters
    from hhnb.nn.training import train

    cfg = tmp_path / "cfg.yaml"
    hyper = HyperParameters(epochs=1, widths=(8,), batch_size=64)
    for kl, n in EVENTS.items():
        run = train("mine", kl, config=cfg, data_dir=tmp_path, models_dir=tmp_path / "models", hyper=hyper, seed=1, folds=1)
        signal = run.scores[run.scores["label"] == 0]
        assert len(signal) == n
        assert signal["sample"].nunique() == 1
        assert run.card["lambda"] == kl and run.model_path.exists()
        assert np.isfinite(run.card["metrics"]["test_auc"])
