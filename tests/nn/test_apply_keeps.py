"""hhnb apply end to end on what a key-by-key rewrite would lose, and its one-line refusals (exit 2).

One untrained (8,) network with a hand-written card (scoring does not depend on the weights), so the tests
take seconds: the inputs are tests/productions.py's ``odd_file`` (an object of a class without a dictionary,
older cycles, a fixed-size array, a tree in a folder, an RNTuple beside the tree) and ``production_file``.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import uproot
from productions import odd_file, production_file

from hhnb import layout
from hhnb.cli import main
from hhnb.io import artifacts, rootcopy
from hhnb.nn import apply as A

pytestmark = pytest.mark.root
pytest.importorskip("ROOT")

N = 800


def _network(models, name: str, tree: str, features: list[str], pads: dict | None = None) -> A.Network:
    from hhnb.config.training import HyperParameters
    from hhnb.nn.network import build
    from hhnb.nn.saving import save

    x = np.random.default_rng(1).normal(1, 1, (200, len(features))).astype(np.float32)
    path = save(build(x, 2, HyperParameters(widths=(8,))), layout.model_path(models, name, 1.0))
    artifacts.write_card(layout.card_path(models, name, 1.0), {
        "analysis": name, "lambda": 1.0, "features": features, "classes": ["signal", "background"],
        "score_branches": layout.score_branches(name, 1.0, ["signal", "background"]), "tree": tree,
        "event_branch": "eventNumber", "pads": pads or {}})
    return A.network(path)


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    return {"odd": _network(models, "odd", "nominal", ["x", "arr[:, 1]"]),
            "prod": _network(models, "prod", "nominal", ["jet_pt[:, 0]", "jet_pt[:, 1]", "ht", "lep_sf[:, 0]"],
                             {"jet_pt[:, 1]": -1.0})}


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    d = tmp_path_factory.mktemp("src")
    return {"odd": odd_file(d / "odd.root", N), "prod": production_file(d / "prod.root", N, 3)}


def _hash(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _scores_alone(net: A.Network, path, tree: str) -> dict[str, np.ndarray]:
    """What scoring that tree's events alone gives (the branches read with uproot, then score_chunk)."""
    with uproot.open(path) as f:
        t = f[tree]
        chunk = t.arrays(list(t.keys()), library="ak")
    return A.score_chunk([net], {k: chunk[k] for k in chunk.fields}, 0)


@pytest.mark.parametrize("in_place", [False, True])
def test_every_key_with_its_cycles_kept(nets, sources, tmp_path, in_place):
    src = tmp_path / "odd.root"
    src.write_bytes(sources["odd"].read_bytes())
    before = rootcopy.object_paths(src)
    res = A.apply([src], [nets["odd"]], in_place=in_place, outdir=None if in_place else tmp_path / "out",
                  progress=False)[0]
    assert res.status == "written", res.error
    assert rootcopy.object_paths(res.output) == before  # HHNBOdd, h;1 and h;2, nominal;1, folder/inner, ntup
    with uproot.open(sources["odd"]) as fi, uproot.open(res.output) as fo:
        a, b = fi["nominal"].arrays(library="np"), fo["nominal"].arrays(library="np")
        assert set(b) - set(a) == set(nets["odd"].branches)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        want = _scores_alone(nets["odd"], sources["odd"], "nominal")
        for k in nets["odd"].branches:
            np.testing.assert_allclose(b[k], want[k], atol=1e-6, rtol=0)
        assert fo.classnames()["odd;1"] == "HHNBOdd" and fo.classnames()["ntup;1"] == "ROOT::RNTuple"
    names = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert names == (["odd.root"] if in_place else ["odd.root", "odd_withNNs.root"])  # no temporary left


def test_production_variation_scored_alone(nets, sources, tmp_path):
    res = A.apply([sources["prod"]], [nets["prod"]], outdir=tmp_path, progress=False, trees="*__1up")[0]
    assert res.status == "written", res.error
    assert rootcopy.object_paths(res.output) == rootcopy.object_paths(sources["prod"])
    want = _scores_alone(nets["prod"], sources["prod"], "JET_JER__1up")
    with uproot.open(res.output) as f:
        assert not set(nets["prod"].branches) & set(f["nominal"].keys())  # not asked for: untouched
        for k in nets["prod"].branches:
            np.testing.assert_allclose(f["JET_JER__1up"][k].array(library="np"), want[k], atol=1e-6, rtol=0)
        fold = f["JET_JER__1up"][nets["prod"].test_branch].array(library="np")
        np.testing.assert_array_equal(fold, (f["JET_JER__1up"]["eventNumber"].array(library="np") % 5 == 0))


def test_in_place_failure_midway_leaves_the_input_byte_identical(nets, sources, tmp_path, monkeypatch):
    src = tmp_path / "prod.root"
    src.write_bytes(sources["prod"].read_bytes())
    before = _hash(src)

    def fail(ROOT, tree, branches, where):  # the copy is made and half its new branches are in
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rootcopy, "_add_branches", fail)
    res = A.apply([src], [nets["prod"]], in_place=True, progress=False, trees="all")[0]
    assert res.status == "failed" and "disk full" in res.error and "nothing written" in res.error
    assert _hash(src) == before
    assert [p.name for p in tmp_path.iterdir()] == ["prod.root"]


def _cli(capsys, *args) -> tuple[int, str]:
    code = main(["apply", *map(str, args), "--no-progress"])
    return code, capsys.readouterr().err.strip()


def test_explicit_tree_without_the_inputs_is_one_line(nets, sources, tmp_path, capsys):
    code, err = _cli(capsys, sources["odd"], "--model", nets["odd"].model_path, "--outdir", tmp_path,
                     "--trees", "folder/inner")
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"file {sources['odd']}" in err and "tree 'folder/inner'" in err and "needs branch(es) x" in err
    assert not list(tmp_path.iterdir())


def test_rntuple_refused_in_one_line(nets, tmp_path, capsys):
    src = tmp_path / "ntuple.root"
    with uproot.recreate(src) as f:
        f.mkrntuple("nominal", {"x": np.ones(10, np.float32), "arr": np.ones((10, 4), np.float32),
                                "eventNumber": np.arange(10, dtype=np.int64)})
    before = _hash(src)
    code, err = _cli(capsys, src, "--model", nets["odd"].model_path, "--in-place")
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"file {src}: 'nominal' is an RNTuple" in err and "convert it to a TTree" in err
    assert _hash(src) == before and [p.name for p in tmp_path.iterdir()] == ["ntuple.root"]


def test_missing_collection_in_an_expression_is_one_line(nets, sources, tmp_path, capsys):
    code, err = _cli(capsys, sources["odd"], "--model", nets["prod"].model_path, "--outdir", tmp_path,
                     "--trees", "nominal")
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"file {sources['odd']}" in err and "'nominal'" in err and "jet_pt" in err
