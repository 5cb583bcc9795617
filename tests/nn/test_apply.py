"""hhnb.nn.apply and ``hhnb apply``: outputs ROOT reads back, atomic writes, resume, bad inputs."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import numpy as np
import pytest
import uproot

from hhnb.cli import main
from hhnb.nn import apply as A

SIG = "nnscore_resolved_SlfCoup_1.0_sig"
TREE = "preselection"


def _read(path: Path) -> dict[str, np.ndarray]:
    with uproot.open(path) as f:
        return f[TREE].arrays(library="np")


def _write(path: Path, arrays: dict[str, np.ndarray], step: int | None = None) -> Path:
    with uproot.recreate(path) as f:
        f.mktree(TREE, {k: v.dtype for k, v in arrays.items()})
        n = len(next(iter(arrays.values())))
        step = step or max(n, 1)
        for start in range(0, n, step):
            f[TREE].extend({k: v[start:start + step] for k, v in arrays.items()})
    return path


def _files(tmp: Path) -> list[Path]:
    return sorted(p for p in tmp.rglob("*") if p.is_file())


# --- no network needed ---------------------------------------------------------------------------------------

def _net(tmp: Path, name: str = "nn_resolved_SlfCoup_1.0", branches=(SIG,)) -> A.Network:
    return A.Network("resolved", 1.0, tmp / f"{name}.keras", ("a", "b"), ("signal", "qcd", "top"), tuple(branches),
                     "nnscore_resolved_SlfCoup_1.0_istest", TREE, "eventNumber")


def test_output_path_and_expand(tmp_path):
    assert A.output_path("/x/y/hh.root") == Path("/x/y/hh_withNNs.root")
    assert A.output_path("/x/y/hh.root", "/out") == Path("/out/hh_withNNs.root")
    for n in ("b.root", "a.root"):
        (tmp_path / n).write_bytes(b"")
    assert A.expand([str(tmp_path / "*.root"), tmp_path / "a.root"]) == [tmp_path / "a.root", tmp_path / "b.root"]
    with pytest.raises(FileNotFoundError, match="no input file matches"):
        A.expand([str(tmp_path / "none*.root")])


def test_two_networks_same_branch_refused(tmp_path):
    with pytest.raises(ValueError, match=r"would both write branch 'nnscore_resolved_SlfCoup_1.0_sig'"):
        A.check_networks([_net(tmp_path / "m1"), _net(tmp_path / "m2")])
    with pytest.raises(ValueError, match="no network"):
        A.check_networks([])


def test_network_needs_card(tmp_path):
    (tmp_path / "nn_x_SlfCoup_1.0.keras").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"model card .*nn_x_SlfCoup_1.0.json"):
        A.network(tmp_path / "nn_x_SlfCoup_1.0.keras")
    with pytest.raises(FileNotFoundError, match="no trained network of analysis 'x'"):
        A.networks("x", "all", tmp_path)


# --- with a tiny trained network -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from hhnb.config.training import HyperParameters
    from hhnb.nn.training import train
    from hhnb.toy.generate import generate

    root = tmp_path_factory.mktemp("apply")
    generate(root / "data", analyses=["resolved"], lambdas=[1.0], events=1500, progress=False)
    train("resolved", 1.0, data_dir=root / "data", models_dir=root / "models",
          hyper=HyperParameters(epochs=2, widths=(32, 32)), folds=1)
    return root


@pytest.fixture
def inputs(trained, tmp_path):
    """Copies of two toy ntuples (hh signal, ttbar) in a fresh folder."""
    d = tmp_path / "in"
    d.mkdir()
    for name in ("hh_SlfCoup_1.0.root", "ttbar.root"):
        shutil.copy(trained / "data" / "resolved" / name, d / name)
    return d


def _nets(trained):
    return A.networks("resolved", "1.0", trained / "models")


@pytest.mark.slow
@pytest.mark.root
def test_output_opens_in_root_equal_to_input_and_network(trained, inputs, tmp_path):
    ROOT = pytest.importorskip("ROOT")
    ROOT.gSystem.ResetSignals()  # leave signals (SIGCHLD, SIGPIPE, SIGSEGV) to Python and pytest
    from hhnb.nn.predict import predict
    from hhnb.nn.saving import load

    nets = _nets(trained)
    src = inputs / "hh_SlfCoup_1.0.root"
    res = A.apply([src], nets, outdir=tmp_path / "out", step=400, progress=False)  # 4 chunks
    assert [r.status for r in res] == ["written"]
    out = tmp_path / "out" / "hh_SlfCoup_1.0_withNNs.root"
    assert res[0].output == out and res[0].events == 1500
    before = _read(src)
    rdf = ROOT.RDataFrame(TREE, str(out))
    assert int(rdf.Count().GetValue()) == 1500
    names = [*before, *nets[0].branches]
    got = rdf.AsNumpy(names)
    for name, values in before.items():  # every original branch, same values and dtype
        np.testing.assert_array_equal(got[name], values, err_msg=name)
        assert got[name].dtype == values.dtype, name
    x = np.column_stack([before[f] for f in nets[0].features])
    probs = predict(load(nets[0].model_path), x)
    for i, b in enumerate(nets[0].score_branches):
        np.testing.assert_allclose(got[b], probs[:, i], atol=1e-6, rtol=0)
    np.testing.assert_array_equal(got[nets[0].test_branch], (before["eventNumber"] % 5 == 0).astype(np.int32))
    assert 0.15 < got[nets[0].test_branch].mean() < 0.25
    with uproot.open(out) as f:
        assert str(f["hhnb_info"]).startswith("hhnb toy")


@pytest.mark.slow
def test_networks_load_once_per_file_not_once_per_chunk(trained, inputs, tmp_path):
    """Every chunk reuses the loaded network (a reload per chunk made memory grow with the file's length)."""
    A._load_model.cache_clear()
    res = A.apply([inputs / "hh_SlfCoup_1.0.root"], _nets(trained), outdir=tmp_path / "out", step=300,
                  progress=False)  # 5 chunks
    assert [r.status for r in res] == ["written"] and res[0].events == 1500
    info = A._load_model.cache_info()
    assert info.misses == 1 and info.hits == 4 and info.maxsize == A.MODEL_CACHE >= 45  # 15 lambdas x 3 folds


@pytest.mark.slow
def test_interruption_leaves_no_partial_file(trained, inputs, tmp_path, monkeypatch):
    calls = []

    def boom(src, dst, new):
        calls.append(sum(len(c[SIG]) for c in next(iter(new.values())).chunks))  # scored as the copy is written
        dst.write_bytes(src.read_bytes()[:1000])  # a partial output at the temporary name
        raise KeyboardInterrupt

    monkeypatch.setattr(A, "_write", boom)
    with pytest.raises(KeyboardInterrupt):
        A.apply([inputs / "hh_SlfCoup_1.0.root"], _nets(trained), outdir=tmp_path / "out", step=500, progress=False)
    assert calls == [uproot.open(inputs / "hh_SlfCoup_1.0.root")["preselection"].num_entries]
    assert _files(tmp_path / "out") == []


@pytest.mark.slow
def test_disk_full_mid_write_leaves_nothing_and_others_go_on(trained, inputs, tmp_path, monkeypatch):
    def full(src, dst, new):
        dst.write_bytes(src.read_bytes()[:1000])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(A, "_write", full)
    res = A.apply([inputs / "*.root"], _nets(trained), outdir=tmp_path / "out", step=200, progress=False)
    assert [r.status for r in res] == ["failed", "failed"]
    assert "disk full" in res[0].error and "nothing written" in res[0].error
    assert _files(tmp_path / "out") == []


@pytest.mark.slow
def test_resume_skips_and_force_rewrites(trained, inputs, tmp_path):
    nets = _nets(trained)
    first = A.apply([inputs / "*.root"], nets, progress=False)  # beside the inputs
    assert [r.status for r in first] == ["written", "written"]
    out = inputs / "ttbar_withNNs.root"
    stamp = out.stat().st_mtime_ns
    again = A.apply([inputs / "hh_SlfCoup_1.0.root", inputs / "ttbar.root"], nets, progress=False)
    assert [r.status for r in again] == ["skipped", "skipped"]
    assert out.stat().st_mtime_ns == stamp
    forced = A.apply([inputs / "ttbar.root"], nets, force=True, progress=False)
    assert forced[0].status == "written" and out.stat().st_mtime_ns != stamp
    assert sorted(p.name for p in _files(inputs)) == [
        "hh_SlfCoup_1.0.root", "hh_SlfCoup_1.0_withNNs.root", "ttbar.root", "ttbar_withNNs.root"]


@pytest.mark.slow
def test_missing_branches_named_other_files_go_on(trained, inputs, tmp_path, capsys):
    arrays = _read(inputs / "ttbar.root")
    bad = _write(inputs / "broken.root", {k: v for k, v in arrays.items() if k not in ("h1_M", "met_Et")})
    code = main(["apply", str(inputs / "*.root"), "--analysis", "resolved", "--lambdas", "1.0",
                 "--models-dir", str(trained / "models"), "--outdir", str(tmp_path / "out"), "--no-progress"])
    assert code == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "nn_resolved_SlfCoup_1.0 needs branch(es) h1_M, met_Et" in err
    assert sorted(p.name for p in _files(tmp_path / "out")) == ["hh_SlfCoup_1.0_withNNs.root", "ttbar_withNNs.root"]


@pytest.mark.slow
def test_corrupt_and_truncated_inputs(trained, inputs, tmp_path):
    (inputs / "garbage.root").write_bytes(b"not a root file at all" * 100)
    whole = (inputs / "ttbar.root").read_bytes()
    (inputs / "truncated.root").write_bytes(whole[: len(whole) // 2])
    res = A.apply([inputs / "garbage.root", inputs / "truncated.root", inputs / "hh_SlfCoup_1.0.root"],
                  _nets(trained), outdir=tmp_path / "out", progress=False)
    assert [r.status for r in res] == ["failed", "failed", "written"]
    assert "garbage.root is not a readable ROOT file" in res[0].error
    assert "truncated.root" in res[1].error
    assert [p.name for p in _files(tmp_path / "out")] == ["hh_SlfCoup_1.0_withNNs.root"]


@pytest.mark.slow
def test_unwritable_output_dir_refused_before_anything(trained, inputs, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(PermissionError, match=r"output directory .*a_file/out cannot be created"):
        A.apply([inputs / "*.root"], _nets(trained), outdir=blocker / "out", progress=False)
    model = trained / "models" / "nn_resolved_SlfCoup_1.0.keras"
    code = main(["apply", str(inputs / "ttbar.root"), "--model", str(model), "--outdir", str(blocker / "out"),
                 "--no-progress"])
    assert code == 2 and "cannot be created" in capsys.readouterr().err


@pytest.mark.slow
def test_duplicate_branch_from_two_model_dirs_writes_nothing(trained, inputs, tmp_path, capsys):
    other = tmp_path / "models2"
    shutil.copytree(trained / "models", other)
    code = main(["apply", str(inputs / "*.root"), "--model", str(trained / "models" / "nn_resolved_SlfCoup_1.0.keras"),
                 "--model", str(other / "nn_resolved_SlfCoup_1.0.keras"), "--outdir", str(tmp_path / "out"),
                 "--no-progress"])
    assert code == 2 and "would both write branch" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_applying_twice_to_an_output_is_refused(trained, inputs, tmp_path):
    nets = _nets(trained)
    A.apply([inputs / "ttbar.root"], nets, progress=False)
    res = A.apply([inputs / "ttbar_withNNs.root"], nets, progress=False)
    assert res[0].status == "failed" and f"{SIG}" in res[0].error and "already exist" in res[0].error


@pytest.mark.slow
def test_in_place_adds_branches(trained, inputs, tmp_path):
    nets = _nets(trained)
    src = inputs / "ttbar.root"
    before = _read(src)
    reference = A.apply([src], nets, outdir=tmp_path / "ref", progress=False)[0].output
    res = A.apply([src], nets, in_place=True, progress=False)
    assert res[0].status == "written" and res[0].method == "in-place copy"
    after = _read(src)
    ref = _read(reference)
    for k, v in before.items():
        np.testing.assert_array_equal(after[k], v)
    for b in nets[0].branches:
        np.testing.assert_array_equal(after[b], ref[b])
    # a tree of several baskets: its baskets are copied as they are, the new branch beside them
    multi = _write(inputs / "multi.root", before, step=400)
    res = A.apply([multi], nets, in_place=True, progress=False)
    assert res[0].method == "in-place copy" and res[0].status == "written"
    np.testing.assert_array_equal(_read(multi)[SIG], ref[SIG])
    assert sorted(p.name for p in _files(inputs)) == ["hh_SlfCoup_1.0.root", "multi.root", "ttbar.root"]


@pytest.mark.slow
def test_parallel_jobs_match_serial(trained, inputs, tmp_path):
    nets = _nets(trained)
    serial = A.apply([inputs / "*.root"], nets, outdir=tmp_path / "s", progress=False)
    par = A.apply([inputs / "*.root"], nets, outdir=tmp_path / "p", jobs=2, progress=False)
    assert [r.status for r in par] == ["written", "written"]
    for a, b in zip(serial, par):
        np.testing.assert_array_equal(_read(a.output)[SIG], _read(b.output)[SIG])


@pytest.fixture(scope="module")
def kfold_models(trained, tmp_path_factory):
    from hhnb.config.training import HyperParameters
    from hhnb.nn.training import train

    models = tmp_path_factory.mktemp("kfold_models")
    train("resolved", 1.0, data_dir=trained / "data", models_dir=models, hyper=HyperParameters(epochs=1, widths=(16,)),
          folds=3)
    return models


@pytest.mark.slow
def test_kfold_each_event_scored_by_the_network_blind_to_its_fold(kfold_models, inputs, tmp_path):
    from hhnb.nn.predict import predict
    from hhnb.nn.saving import load

    nets = A.networks("resolved", "all", kfold_models)
    assert len(nets) == 1 and nets[0].folds == 3 and nets[0].branches[-1] == "nnscore_resolved_SlfCoup_1.0_fold"
    src = inputs / "ttbar.root"
    res = A.apply_file(src, nets, output=tmp_path / "out.root", step=400)  # the Dask path: one file, same arguments
    assert res.status == "written" and res.events == len(_read(src)["eventNumber"])
    got, before = _read(tmp_path / "out.root"), _read(src)
    # every input event (the toy keeps fewer ttbar than signal events: generate.EVENT_SHARE)
    assert res.status == "written" and res.events == len(before["eventNumber"]) > 400  # more than one chunk
    np.testing.assert_array_equal(got["nnscore_resolved_SlfCoup_1.0_fold"], before["eventNumber"] % 3)
    assert "nnscore_resolved_SlfCoup_1.0_istest" not in got
    x = np.column_stack([before[f] for f in nets[0].features])
    for i, path in enumerate(nets[0].fold_paths):
        rows = before["eventNumber"] % 3 == i
        np.testing.assert_allclose(got[SIG][rows], predict(load(path), x[rows])[:, 0], atol=1e-6, rtol=0)
        other = predict(load(nets[0].fold_paths[(i + 1) % 3]), x[rows])[:, 0]
        assert np.abs(got[SIG][rows] - other).max() > 1e-4  # not the score of a network that trained on it
    # a fold file missing: one line naming it, exit status 2
    (kfold_models / "nn_resolved_SlfCoup_1.0_fold2of3.keras").rename(tmp_path / "moved.keras")
    with pytest.raises(FileNotFoundError, match=r"k-fold set nn_resolved_SlfCoup_1.0.json \(folds=3\) lacks fold "
                                                 r"file\(s\) nn_resolved_SlfCoup_1.0_fold2of3.keras"):
        A.networks("resolved", "1.0", kfold_models)
    assert main(["apply", str(src), "--analysis", "resolved", "--models-dir", str(kfold_models), "--no-progress"]) == 2
    (tmp_path / "moved.keras").rename(kfold_models / "nn_resolved_SlfCoup_1.0_fold2of3.keras")
