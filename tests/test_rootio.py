"""ROOT interop both ways, with ROOT itself (the ``root`` package from PyPI)."""

import textwrap

import numpy as np
import pytest

ROOT = pytest.importorskip("ROOT")

ROOT.gSystem.ResetSignals()  # leave signals (SIGCHLD, SIGPIPE, SIGSEGV) to Python and pytest

from hhnb.config import analyses as config  # noqa: E402
from hhnb.io import ntuples as data  # noqa: E402

pytestmark = pytest.mark.root


def _root_written_tree(path, n=1000):
    """Write a TTree with double, float, int and bool branches using ROOT's own RDataFrame."""
    df = ROOT.RDataFrame(n)
    df = (df.Define("x_double", "double(rdfentry_) * 0.5")
            .Define("x_float", "float(rdfentry_) * 0.25f")
            .Define("n_int", "int(rdfentry_ % 7)")
            .Define("is_b", "bool(rdfentry_ % 2)")
            .Define("evt", "(Long64_t) rdfentry_"))
    df.Snapshot("tree", str(path))


def test_hhnb_reads_a_tree_written_by_root(tmp_path):
    _root_written_tree(tmp_path / "sig.root")
    _root_written_tree(tmp_path / "bkg.root")
    yaml = tmp_path / "root.yaml"
    yaml.write_text(textwrap.dedent("""
        analyses:
          fromroot:
            tree: tree
            event: evt
            features: [x_double, x_float, n_int, is_b]
            classes: [signal, background]
            samples:
              - {name: s, class: signal, files: sig.root, cross_section: 1.0}
              - {name: b, class: background, files: bkg.root, cross_section: 1.0}
    """))
    df = data.load(config.analysis("fromroot", yaml), 1.0, tmp_path)
    s = df[df["sample"] == "s"].sort_values("event")
    i = np.arange(1000)
    np.testing.assert_array_equal(s["x_double"], i * 0.5)
    np.testing.assert_array_equal(s["x_float"], (i * 0.25).astype(np.float32))
    np.testing.assert_array_equal(s["n_int"], i % 7)
    np.testing.assert_array_equal(s["is_b"].astype(bool), (i % 2).astype(bool))
    np.testing.assert_array_equal(s["is_test"], i % 5 == 0)


def test_root_reads_a_file_written_by_hhnb(toy_dir):
    import uproot

    path = toy_dir / "resolved" / "hh_SlfCoup_1.0.root"
    with uproot.open(path) as f:
        ref = f["preselection"].arrays(["m_hh", "eventNumber", "h1_j1_BTag", "weight"], library="np")
    rdf = ROOT.RDataFrame("preselection", str(path))
    assert rdf.Count().GetValue() == len(ref["m_hh"])
    got = rdf.AsNumpy(["m_hh", "eventNumber", "h1_j1_BTag", "weight"])
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k])
    f = ROOT.TFile.Open(str(path))
    tree = f.Get("preselection")
    assert tree.ClassName() == "TTree"
    assert tree.GetEntries() == len(ref["m_hh"])
    f.Close()
