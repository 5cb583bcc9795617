"""hhnb apply on production-shaped files: every object kept, variation trees scored, in place safe, Dask, ONNX.

The inputs come from tests/productions.py: a file written by ROOT itself (nominal and JET_JER__1up trees with
std::vector, string, bool and char branches, a cutflow histogram, a metadata/ folder), NanoAOD- and
PHYSLITE-shaped files. Each network is a tiny 2-fold set trained on the format's own expressions.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import awkward as ak
import numpy as np
import pytest
import uproot
import yaml
from productions import keys, nanoaod_file, physlite_file, production_file

from hhnb.cli import main
from hhnb.nn import apply as A

pytestmark = [pytest.mark.slow, pytest.mark.root]

FORMATS = {
    "production": {"tree": "nominal", "weight": "weight_mc", "event": "eventNumber",
                   "features": ["jet_pt[:, 0]", {"expr": "jet_pt[:, 1]", "pad": -1.0}, "ht", "met", "njet",
                                "jet_eta[:, 0]"],
                   "masses": {"lead": "jet_pt[:, 0]"},
                   "sumw": {"histogram": "metadata/sumOfWeights", "bin": 1}},
    "nanoaod": {"tree": "Events", "weight": "genWeight", "event": "event",
                "features": ["Jet_pt[:, 0]", "Jet_pt[:, 1]", "Jet_btagDeepFlavB[:, 0]", "num(Jet_pt)",
                             "sum(Jet_pt[Jet_pt > 30])", "MET_pt"],
                "masses": {"lead": "Jet_pt[:, 0]"}, "selection": "nJet >= 2",
                "sumw": {"tree": "Runs", "branch": "genEventSumw"}},
    "physlite": {"tree": "CollectionTree", "weight": "EventInfoAuxDyn.mcEventWeights[:, 0]",
                 "event": "EventInfoAuxDyn.eventNumber",
                 "features": ["AnalysisJetsAuxDyn.pt[:, 0]", "AnalysisJetsAuxDyn.pt[:, 1]",
                              "num(AnalysisJetsAuxDyn.pt)", "abs(AnalysisJetsAuxDyn.eta[:, 0])"],
                 "masses": {"lead": "AnalysisJetsAuxDyn.pt[:, 0]"}},
}
WRITERS = {"production": lambda p, seed, shift: production_file(p, 1500, seed),
           "nanoaod": lambda p, seed, shift: nanoaod_file(p, 1500, seed, shift),
           "physlite": lambda p, seed, shift: physlite_file(p, 1500, seed, shift)}


def _train(kind, d):
    from hhnb.config.training import HyperParameters
    from hhnb.nn.training import train

    spec = dict(FORMATS[kind])
    sumw = spec.pop("sumw", None)
    samples = []
    for name, klass, seed, shift in (("sig", "signal", 1, 1.0), ("bkg", "background", 2, 0.0)):
        WRITERS[kind](d / f"{name}.root", seed, shift)
        samples.append({"name": name, "class": klass, "files": f"{name}.root", "cross_section": 1.0,
                        **({"sum_of_weights": sumw} if sumw else {})})
    spec.update(classes=["signal", "background"], samples=samples)
    if not sumw:
        spec["weight"] = spec["weight"]  # the generator weight as it is
    cfg = d / f"{kind}.yaml"
    cfg.write_text(yaml.safe_dump({"luminosity": 100.0, "analyses": {kind: spec}}))
    return train(kind, 1.0, config=cfg, data_dir=d, models_dir=d / "models", folds=2, seed=3, export_onnx=True,
                 hyper=HyperParameters(epochs=2, widths=(16, 16), batch_size=256), progress=False)


@pytest.fixture(scope="module", params=list(FORMATS))
def trained(request, tmp_path_factory):
    d = tmp_path_factory.mktemp(request.param)
    return request.param, d, _train(request.param, d)


def _values(path, tree):
    with uproot.open(path) as f:
        return f[tree].arrays(library="ak")


def _same_objects(src, out, scored: dict[str, list[str]]):
    """Every key of ``src`` is in ``out`` with equal contents; scored trees have exactly the new branches more."""
    assert keys(out) == keys(src)
    with uproot.open(src) as fi, uproot.open(out) as fo:
        for key, cls in fi.classnames(recursive=True).items():
            name = key.split(";")[0]
            if cls == "TTree":
                a, b = fi[name], fo[name]
                assert set(b.keys()) - set(a.keys()) == set(scored.get(name, []))
                assert [b[k].typename for k in a.keys()] == [a[k].typename for k in a.keys()]
                va, vb = a.arrays(library="ak"), b.arrays(list(a.keys()), library="ak")
                for k in a.keys():
                    assert ak.all(ak.ravel(va[k]) == ak.ravel(vb[k])) and ak.all(ak.num(va[k], axis=-1) ==
                                                                              ak.num(vb[k], axis=-1)) \
                        if va[k].ndim > 1 else ak.all(va[k] == vb[k]), (name, k)
            elif cls.startswith("TH1"):
                np.testing.assert_array_equal(fi[name].values(flow=True), fo[name].values(flow=True))
            elif cls == "TObjString":
                assert str(fi[name]) == str(fo[name])


def _net(run):
    return A.network(run.card_path)


def test_copy_keeps_every_object_and_scores_each_tree(trained, tmp_path):
    kind, d, run = trained
    src = d / "bkg.root"
    net = _net(run)
    res = A.apply([src], [net], outdir=tmp_path, progress=False, trees="all")
    assert res[0].status == "written", res[0].error
    trees = A.trees_to_score(src, [net], "all")
    if kind == "production":
        assert sorted(trees) == ["JET_JER__1up", "nominal"]
    _same_objects(src, res[0].output, {t: list(net.branches) for t in trees})
    for t in trees:  # each tree's scores equal scoring that tree's events alone
        events = _values(src, t)
        chunk = {b: events[b] for b in events.fields}
        want = A.score_chunk([net], chunk, 0)
        got = _values(res[0].output, t)
        for b in net.branches:
            np.testing.assert_allclose(ak.to_numpy(got[b]), want[b], rtol=0, atol=1e-6)


def test_in_place_keeps_every_object(trained, tmp_path):
    kind, d, run = trained
    src = tmp_path / "copy.root"
    src.write_bytes((d / "sig.root").read_bytes())
    reference = tmp_path / "reference.root"
    reference.write_bytes(src.read_bytes())
    net = _net(run)
    res = A.apply([src], [net], in_place=True, progress=False, trees="all")
    assert res[0].status == "written" and res[0].output == src, res[0].error
    _same_objects(reference, src, {t: list(net.branches) for t in A.trees_to_score(reference, [net], "all")})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.root", "reference.root"]  # no temporary left


def test_onnx_backend_scores_the_same_expressions(trained, tmp_path):
    kind, d, run = trained
    keras_out = A.apply([d / "sig.root"], [_net(run)], outdir=tmp_path / "k", progress=False)[0].output
    onnx_out = A.apply([d / "sig.root"], [A.network(run.card_path, "onnx")], outdir=tmp_path / "o",
                       progress=False)[0].output
    a, b = _values(keras_out, run.card["tree"]), _values(onnx_out, run.card["tree"])
    for branch in run.card["score_branches"]:
        assert float(np.abs(ak.to_numpy(a[branch]) - ak.to_numpy(b[branch])).max()) <= 1e-5
    assert keys(onnx_out) == keys(d / "sig.root")


def test_dask_path_equals_local(trained, tmp_path):
    from dask.distributed import Client

    from hhnb.workflow import distributed_apply

    kind, d, run = trained
    net = _net(run)
    local = A.apply([d / "bkg.root"], [net], outdir=tmp_path / "local", progress=False, trees="all")[0].output
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        res = distributed_apply.apply([d / "bkg.root"], [net], client, outdir=tmp_path / "dask", progress=False,
                                      trees="all")
    assert res[0].status == "written", res[0].error
    assert keys(res[0].output) == keys(local) == keys(d / "bkg.root")
    for t in A.trees_to_score(d / "bkg.root", [net], "all"):
        a, b = _values(local, t), _values(res[0].output, t)
        for branch in net.branches:
            np.testing.assert_array_equal(ak.to_numpy(a[branch]), ak.to_numpy(b[branch]))


def test_cli_trees_and_bad_tree(trained, tmp_path, capsys):
    kind, d, run = trained
    if kind != "production":
        pytest.skip("variation trees: the production layout")
    args = ["apply", str(d / "bkg.root"), "--model", str(run.card_path), "--outdir", str(tmp_path), "--no-progress"]
    assert main([*args, "--trees", "*__1up"]) == 0
    with uproot.open(A.output_path(d / "bkg.root", tmp_path)) as f:
        assert run.card["score_branches"][0] in f["JET_JER__1up"].keys()
        assert run.card["score_branches"][0] not in f["nominal"].keys()
    assert main([*args, "--force", "--trees", "JET_JES__1up"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bkg.root has no tree 'JET_JES__1up'" in err and "JET_JER__1up" in err


def test_sigkill_mid_write_leaves_the_input_byte_identical(trained, tmp_path):
    kind, d, run = trained
    if kind != "production":
        pytest.skip("one format is enough")
    big = production_file(tmp_path / "big.root", 150_000, 4)
    before = hashlib.sha256(big.read_bytes()).hexdigest()
    proc = subprocess.Popen([sys.executable, "-m", "hhnb.cli", "apply", str(big), "--model", str(run.card_path),
                             "--in-place", "--trees", "all", "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    deadline = time.time() + 120
    while time.time() < deadline and not list(tmp_path.glob(".big.root.*.tmp")) and proc.poll() is None:
        time.sleep(0.01)
    tmp = list(tmp_path.glob(".big.root.*.tmp"))
    assert tmp and proc.poll() is None, "the writer finished before it could be killed"
    while tmp[0].exists() and tmp[0].stat().st_size < 1_000_000 and proc.poll() is None:
        time.sleep(0.005)  # in the middle of the write
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert hashlib.sha256(big.read_bytes()).hexdigest() == before
    assert all(p.name == "big.root" or p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_check_and_evaluate_on_the_format(trained):
    from hhnb.config import analyses as config
    from hhnb.io import check
    from hhnb.studies import evaluation

    kind, d, run = trained
    report = check.check(config.load(d / f"{kind}.yaml"), d)
    assert report.ok, report.problems
    table = report.table.set_index("sample")
    assert set(table.index) == {"sig", "bkg"} and (table["events"] == 1500).all()
    assert all(10.0 < float(v.rstrip("%")) < 30.0 for v in table["negative"])  # ~20 % negative generator weights
    if kind == "production":
        assert set(table.loc["sig", "trees with inputs"].split(", ")) == {"nominal", "JET_JER__1up"}
    assert (run.scores["weight"] < 0).any()  # evaluated with the signed weights
    ev = evaluation.evaluate(run.scores)
    assert 0.0 < ev.auc < 1.0 and ev.auc_error > 0 and np.isfinite(ev.quoted.z)
