"""hhnb.io.rootcopy: the copy keeps every key's bytes and every branch, adds the new branches, refuses in one line.

The inputs are written by ROOT itself (tests/productions.py): the production layout, and ``odd_file`` with what
a key-by-key rewrite loses (an object of a class without a dictionary in the reading process, two cycles of
a histogram, a tree's autosave cycle, a fixed-size array branch, a tree in a folder, an RNTuple beside it).
"""

from __future__ import annotations

import hashlib

import awkward as ak
import numpy as np
import pytest
import uproot
from productions import odd_file, production_file

from hhnb.errors import InputFileError
from hhnb.io import rootcopy

pytestmark = pytest.mark.root
ROOT = pytest.importorskip("ROOT")

N = 1000

@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    return odd_file(tmp_path_factory.mktemp("odd") / "odd.root", N)


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    return production_file(tmp_path_factory.mktemp("prod") / "prod.root", 600, 5)


def _key_bytes(path) -> dict[str, bytes]:
    """Each key's stored payload (compressed as written), by ``folder/name;cycle``."""
    out = {}
    with uproot.open(path) as f:
        for name in f.keys(recursive=True):
            folder, _, leaf = name.rpartition("/")
            d = f[folder] if folder else f
            key = d.key(leaf)
            chunk = f.file.source.chunk(key.data_cursor.index, key.data_cursor.index + key.data_compressed_bytes)
            out[name] = chunk.raw_data.tobytes()
    return out


def _hash(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_key_kept_and_branches_added(odd, tmp_path):
    before = _hash(odd)
    out = tmp_path / "out.root"
    new = {"nominal": {"score": np.arange(N, dtype=np.float32), "istest": np.arange(N, dtype=np.int32) % 5},
           "folder/inner": {"score": np.full(N, 0.5, np.float64)}}
    assert rootcopy.copy_with_branches(odd, out, new) == ["nominal", "folder/inner"]
    assert _hash(odd) == before  # the input is only read
    assert rootcopy.object_paths(out) == rootcopy.object_paths(odd)  # cycles and all
    with uproot.open(odd) as fi, uproot.open(out) as fo:
        assert fo.classnames()["odd;1"] == "HHNBOdd" and fo.classnames()["ntup;1"] == "ROOT::RNTuple"
        a, b = fi["nominal"].arrays(library="np"), fo["nominal"].arrays(library="np")
        assert set(b) - set(a) == {"score", "istest"}
        for k in a:  # the fixed-size array keeps its type and values
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
            assert fi["nominal"][k].typename == fo["nominal"][k].typename
        assert fo["nominal"]["arr"].typename == "float[4]"
        np.testing.assert_array_equal(b["score"], np.arange(N, dtype=np.float32))
        assert b["score"].dtype == np.float32 and b["istest"].dtype == np.int32
        np.testing.assert_array_equal(fo["folder/inner"]["score"].array(library="np"), np.full(N, 0.5))
        assert fo["nominal;1"].num_entries == fi["nominal;1"].num_entries  # the autosave cycle, untouched
        np.testing.assert_array_equal(fo["h;1"].values(), fi["h;1"].values())
        np.testing.assert_array_equal(fo["h;2"].values(), fi["h;2"].values())
        assert ak.all(fo["ntup"].arrays()["eventNumber"] == fi["ntup"].arrays()["eventNumber"])
    got, want = _key_bytes(out), _key_bytes(odd)  # a folder's record lists its keys: it changes with them
    assert [k for k in want if got[k] != want[k]] == ["nominal;2", "folder;1", "folder/inner;1"]


def test_production_layout_read_back_by_root(production, tmp_path):
    out = tmp_path / "out.root"
    n = uproot.open(production)["nominal"].num_entries
    rootcopy.copy_with_branches(production, out, {t: {"s": np.linspace(0, 1, n).astype(np.float32)}
                                                 for t in ("nominal", "JET_JER__1up")})
    digest = ("ROOT::VecOps::Sum(jet_pt) + 3 * ROOT::VecOps::Sum(jet_truthflav) + 7 * sample_name.size()"
              " + 11 * pass_trigger + 13 * channel + eventNumber % 17 + lep_sf[2]")
    for tree in ("nominal", "JET_JER__1up"):  # ROOT reads every kind of branch back, with the same values
        got, ref = ROOT.RDataFrame(tree, str(out)), ROOT.RDataFrame(tree, str(production))
        assert got.Define("q", digest).Sum("q").GetValue() == ref.Define("q", digest).Sum("q").GetValue()
        np.testing.assert_array_equal(got.AsNumpy(["s"])["s"], np.linspace(0, 1, n).astype(np.float32))
        with uproot.open(production) as fi, uproot.open(out) as fo:
            a, b = fi[tree].arrays(library="ak"), fo[tree].arrays(library="ak")
            assert set(b.fields) - set(a.fields) == {"s"}
            for k in a.fields:
                assert ak.all(ak.ravel(a[k]) == ak.ravel(b[k])) and ak.all(ak.num(a[k], axis=-1) == ak.num(
                    b[k], axis=-1)) if a[k].ndim > 1 else ak.all(a[k] == b[k]), (tree, k)
    with uproot.open(production) as fi, uproot.open(out) as fo:
        np.testing.assert_array_equal(fi["cutflow"].values(flow=True), fo["cutflow"].values(flow=True))
        np.testing.assert_array_equal(fi["metadata/sumOfWeights"].values(flow=True),
                                      fo["metadata/sumOfWeights"].values(flow=True))
        assert str(fi["metadata/info"]) == str(fo["metadata/info"])


@pytest.mark.parametrize(("tree", "match"), [
    ("ntup", r"odd\.root: 'ntup' is an RNTuple: hhnb apply cannot add score fields to it .*convert it to a TTree"),
    ("h", r"odd\.root: 'h' is a TH1F, not a TTree"),
    ("JET_JES__1up", r"odd\.root: no tree 'JET_JES__1up'"),
    ("nofolder/x", r"odd\.root: no tree 'nofolder/x'"),
])
def test_refusals_are_one_line_and_write_nothing(odd, tmp_path, tree, match):
    out = tmp_path / "out.root"
    with pytest.raises(InputFileError, match=match) as info:
        rootcopy.copy_with_branches(odd, out, {tree: {"s": np.zeros(N, np.float32)}})
    assert "\n" not in str(info.value) and not out.exists()


def test_chunks_are_written_as_they_come_and_equal_whole_arrays(odd, tmp_path):
    values = np.linspace(0.0, 1.0, N).astype(np.float32)
    seen = []

    def chunks():
        for start in range(0, N, 300):  # 300, 300, 300, 100: ROOT has filled each before the next is made
            seen.append(start)
            yield {"score": values[start:start + 300], "idx": np.arange(start, min(start + 300, N), dtype=np.int32)}

    new = rootcopy.NewBranches({"score": np.dtype(np.float32), "idx": np.dtype(np.int32)}, chunks())
    rootcopy.copy_with_branches(odd, tmp_path / "chunks.root", {"nominal": new})
    whole = {"score": values, "idx": np.arange(N, dtype=np.int32)}
    rootcopy.copy_with_branches(odd, tmp_path / "whole.root", {"nominal": whole})
    assert seen == [0, 300, 600, 900]
    a = uproot.open(tmp_path / "chunks.root")["nominal"].arrays(["score", "idx"], library="np")
    b = uproot.open(tmp_path / "whole.root")["nominal"].arrays(["score", "idx"], library="np")
    assert np.array_equal(a["score"], values) and np.array_equal(a["idx"], b["idx"])
    f = ROOT.TFile.Open(str(tmp_path / "chunks.root"))
    t = f.Get("nominal")
    t.GetEntry(N - 1)
    assert t.GetEntries() == N and t.idx == N - 1 and t.score == pytest.approx(1.0)
    f.Close()


def test_a_chunk_past_the_entries_or_short_of_them_is_refused(odd, tmp_path):
    over = rootcopy.NewBranches({"s": np.dtype(np.float32)}, [{"s": np.zeros(600, np.float32)}] * 2)
    with pytest.raises(ValueError, match="has 1200 values for 1000 entries"):
        rootcopy.copy_with_branches(odd, tmp_path / "a.root", {"nominal": over})
    short = rootcopy.NewBranches({"s": np.dtype(np.float32)}, [{"s": np.zeros(600, np.float32)}])
    with pytest.raises(ValueError, match="has 600 values for 1000 entries"):
        rootcopy.copy_with_branches(odd, tmp_path / "b.root", {"nominal": short})


def test_wrong_length_or_dtype_is_a_bug_not_a_user_error(odd, tmp_path):
    with pytest.raises(ValueError, match="has 3 values for 1000 entries"):
        rootcopy.copy_with_branches(odd, tmp_path / "a.root", {"nominal": {"s": np.zeros(3, np.float32)}})
    with pytest.raises(TypeError, match="dtype int8"):
        rootcopy.copy_with_branches(odd, tmp_path / "b.root", {"nominal": {"s": np.zeros(N, np.int8)}})


def test_not_a_root_file(tmp_path):
    bad = tmp_path / "bad.root"
    bad.write_bytes(b"not root at all" * 10)
    with pytest.raises(InputFileError, match="bad.root is not a readable ROOT file"):
        rootcopy.copy_with_branches(bad, tmp_path / "out.root", {"t": {}})
