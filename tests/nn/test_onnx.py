"""hhnb.nn.onnx: ONNX export with the scaling inside, the onnxruntime round trip, apply --backend onnx without TF."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import uproot

from hhnb.cli import main
from hhnb.nn import apply as A
from hhnb.nn import onnx as O

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kfold(toy_dir, tmp_path_factory):
    from hhnb.config.training import HyperParameters
    from hhnb.nn.training import train

    return train("resolved", 1.0, data_dir=toy_dir, models_dir=tmp_path_factory.mktemp("onnx"),
                 hyper=HyperParameters(epochs=2, widths=(32, 32)), seed=2, folds=2, export_onnx=True)


def test_round_trip_10000_events(kfold):
    from hhnb.nn.predict import predict
    from hhnb.nn.saving import load

    card = json.loads(kfold.card_path.read_text())
    assert card["onnx"]["files"] == ["nn_resolved_SlfCoup_1.0_fold0of2.onnx", "nn_resolved_SlfCoup_1.0_fold1of2.onnx"]
    assert card["onnx"]["input"] == "features" and card["onnx"]["output"] == "probabilities"
    assert {"pT_hh", "m_hh"} <= set(card["log_inputs"])  # the log(1 + x) layer is part of the exported graph
    base = kfold.scores[card["features"]].to_numpy(np.float32)
    rng = np.random.default_rng(4)
    x = base[rng.integers(0, len(base), 10_000)] * rng.normal(1, 0.05, (10_000, base.shape[1])).astype(np.float32)
    for keras_file, onnx_file in zip(kfold.model_paths, kfold.onnx_paths):
        sess = O.session(onnx_file)
        assert [i.name for i in sess.get_inputs()] == ["features"] and sess.get_inputs()[0].shape == ["batch", 20]
        assert [o.name for o in sess.get_outputs()] == ["probabilities"]
        got, want = O.predict(sess, x, batch_size=3000), predict(load(keras_file), x)  # batches of any size
        assert got.shape == (10_000, 3)
        assert float(np.abs(got - want).max()) <= 1e-5


def test_inputs_differing_from_the_config_refused(kfold, tmp_path):
    sess = O.session(kfold.onnx_paths[0])
    features = list(kfold.card["features"])
    with pytest.raises(O.OnnxInputError, match=r"takes 20 features, the config has 19"):
        O.check_inputs(sess, features[:-1], kfold.onnx_paths[0])
    swapped = [features[1], features[0], *features[2:]]
    with pytest.raises(O.OnnxInputError, match=r"its inputs are .* but the config's features are .*pT_hh!=m_hh"):
        O.check_inputs(sess, swapped, kfold.onnx_paths[0])
    d = tmp_path / "m"
    shutil.copytree(kfold.model_path.parent, d)
    card = json.loads((d / kfold.card_path.name).read_text())
    card["features"] = swapped
    (d / kfold.card_path.name).write_text(json.dumps(card))
    # the check comes before any input is opened (none.root does not exist)
    with pytest.raises(ValueError, match="its inputs are"):
        A.apply([tmp_path / "none.root"], [A.network(d / kfold.card_path.name, "onnx")], progress=False)
    (d / "nn_resolved_SlfCoup_1.0_fold1of2.onnx").unlink()
    with pytest.raises(FileNotFoundError, match=r"lacks fold file\(s\) nn_resolved_SlfCoup_1.0_fold1of2.onnx"):
        A.network(d / "nn_resolved_SlfCoup_1.0.json", "onnx")


_NO_TF = """
import sys
from hhnb.cli import main
code = main(sys.argv[1:])
assert "tensorflow" not in sys.modules, "tensorflow was imported"
assert "keras" not in sys.modules, "keras was imported"
print("NO-TF-OK", code)
"""


def test_apply_onnx_matches_keras_without_tensorflow(kfold, toy_dir, tmp_path):
    src = tmp_path / "hh.root"
    shutil.copy(toy_dir / "resolved" / "hh_SlfCoup_1.0.root", src)
    models = kfold.model_path.parent
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", _NO_TF, "apply", str(src), "--analysis", "resolved", "--lambdas", "1.0",
                          "--models-dir", str(models), "--backend", "onnx", "--outdir", str(tmp_path / "onnx"),
                          "--no-progress"], capture_output=True, text=True, env=env, timeout=300)
    assert "NO-TF-OK 0" in out.stdout, out.stderr
    code = main(["apply", str(src), "--analysis", "resolved", "--lambdas", "1.0", "--models-dir", str(models),
                 "--outdir", str(tmp_path / "keras"), "--no-progress"])
    assert code == 0
    with uproot.open(tmp_path / "onnx" / "hh_withNNs.root") as a, uproot.open(tmp_path / "keras" / "hh_withNNs.root") as b:
        ta, tb = a["preselection"].arrays(library="np"), b["preselection"].arrays(library="np")
    sig, fold = "nnscore_resolved_SlfCoup_1.0_sig", "nnscore_resolved_SlfCoup_1.0_fold"
    assert float(np.abs(ta[sig] - tb[sig]).max()) <= 1e-5
    np.testing.assert_array_equal(ta[fold], tb["eventNumber"] % 2)
    assert "nnscore_resolved_SlfCoup_1.0_istest" not in ta


def test_export_command_for_a_single_network(tiny_run, tmp_path, capsys):
    d = tmp_path / "m"
    shutil.copytree(tiny_run.model_path.parent, d)
    assert main(["export", "--analysis", "resolved", "--lambdas", "1.0", "--models-dir", str(d)]) == 0
    assert (d / "nn_resolved_SlfCoup_1.0.onnx").exists() and "wrote" in capsys.readouterr().out
    card = json.loads((d / "nn_resolved_SlfCoup_1.0.json").read_text())
    assert card["onnx"]["files"] == ["nn_resolved_SlfCoup_1.0.onnx"] and card["onnx"]["input_shape"] == ["batch", 20]
    assert main(["export", "--models-dir", str(d)]) == 2
