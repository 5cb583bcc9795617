"""Copies of ROOT files that keep every object, with new branches added to some of their trees.

ROOT itself writes the copy, because uproot cannot write every object a production holds
(``std::vector`` branches keep their type only through ROOT, and uproot's writer knows a few classes
only). Every key of the input is copied, folders recursively, the highest cycle of each name:

* trees: ``TTree::CloneTree(-1, "fast")``, which copies the compressed baskets as they are (no
  decompression, so every branch of any type keeps its bytes), then each new branch is filled in
  one compiled loop (``TBranch::Fill`` per entry, the classic recipe for adding a branch);
* every other object (histograms, ``TObjString``, ``TNamed``, anything with a dictionary): read and
  written back under its name.

RNTuples cannot be cloned this way (their pages live outside the key): :func:`copy_with_branches`
refuses a file that holds one, in one line naming the file and the key. The new branches' values are
held in memory for one tree at a time (4 bytes an event and branch: 20 MB for 5 million events).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from hhnb.errors import InputFileError

RNTUPLE_CLASSES = ("ROOT::RNTuple", "ROOT::Experimental::RNTuple")
_LEAF = {np.dtype(np.float32): "F", np.dtype(np.float64): "D", np.dtype(np.int32): "I", np.dtype(np.int64): "L"}

_HELPER = r"""
namespace hhnb_rootcopy {
template <typename T>
Long64_t fill_branch(TTree *tree, const char *name, const char *leaflist, const T *values, Long64_t n) {
   T value{};
   TBranch *branch = tree->Branch(name, &value, leaflist);
   for (Long64_t i = 0; i < n; ++i) {
      value = values[i];
      branch->Fill();
   }
   branch->ResetAddress();
   return branch->GetEntries();
}
}
"""


@functools.cache
def _root():
    """PyROOT, quiet, with the compiled branch filler declared once per process."""
    import ROOT  # noqa: PLC0415 - ROOT is slow to import: only where a file is copied

    ROOT.gROOT.SetBatch(True)
    ROOT.TH1.AddDirectory(False)
    ROOT.gErrorIgnoreLevel = ROOT.kError
    ROOT.gInterpreter.Declare(_HELPER)
    return ROOT


def _add_branches(ROOT, tree, branches: Mapping[str, np.ndarray], where: str) -> None:
    n = int(tree.GetEntries())
    for name, values in branches.items():
        values = np.ascontiguousarray(values)
        if values.dtype not in _LEAF:
            raise TypeError(f"{where}: branch {name!r} of dtype {values.dtype}: expected float32/64 or int32/64")
        if len(values) != n:
            raise ValueError(f"{where}: branch {name!r} has {len(values)} values for {n} entries")
        filler = ROOT.hhnb_rootcopy.fill_branch[{"F": "float", "D": "double", "I": "int", "L": "Long64_t"}[
            _LEAF[values.dtype]]]
        filler(tree, name, f"{name}/{_LEAF[values.dtype]}", values, n)


def _copy_dir(ROOT, din, dout, new: Mapping[str, Mapping[str, np.ndarray]], prefix: str, src: Path) -> list[str]:
    """Copy every key of ``din`` into ``dout``; returns the paths written (``folder/name``)."""
    written = []
    seen: set[str] = set()
    for key in din.GetListOfKeys():  # ROOT lists the highest cycle of a name first
        name, cls = key.GetName(), key.GetClassName()
        if name in seen:
            continue
        seen.add(name)
        path = f"{prefix}{name}"
        klass = ROOT.TClass.GetClass(cls)
        if cls in RNTUPLE_CLASSES:
            raise InputFileError(f"file {src}: {path!r} is an RNTuple: hhnb apply writes into TTrees only (ROOT "
                                 "cannot clone an RNTuple with new fields); convert it to a TTree, or score it with "
                                 "hhnb.nn.apply.score_events and write the scores as an RNTuple of their own")
        if klass and klass.InheritsFrom("TDirectory"):
            sub = dout.mkdir(name, key.GetTitle())
            written += _copy_dir(ROOT, din.Get(name), sub, new, f"{path}/", src)
            continue
        dout.cd()
        if klass and klass.InheritsFrom("TTree"):
            tree = din.Get(name)
            clone = tree.CloneTree(-1, "fast")
            if path in new:
                _add_branches(ROOT, clone, new[path], f"file {src}, tree {path!r}")
            clone.Write(name, ROOT.TObject.kOverwrite)
        else:
            obj = key.ReadObj()
            dout.WriteTObject(obj, name, "Overwrite")
        written.append(path)
    return written


def copy_with_branches(src: str | Path, dst: str | Path, new: Mapping[str, Mapping[str, np.ndarray]]) -> list[str]:
    """Write ``dst``: every object of ``src``, and in each tree named in ``new`` (``folder/tree``) its branches.

    Returns the object paths written. ``dst`` should be a temporary name (``hhnb.io.atomic``): a failure
    leaves a partial file there, never at the final name.
    """
    ROOT = _root()
    src, dst = Path(src), Path(dst)
    fin = ROOT.TFile.Open(str(src), "READ")
    if not fin or fin.IsZombie():
        raise InputFileError(f"file {src} is not a readable ROOT file")
    fout = ROOT.TFile.Open(str(dst), "RECREATE", "", fin.GetCompressionSettings())
    try:
        written = _copy_dir(ROOT, fin, fout, new, "", src)
        missing = [t for t in new if t not in written]
        if missing:
            raise InputFileError(f"file {src}: no tree {missing[0]!r} to add branches to")
    finally:
        fout.Close()
        fin.Close()
    return written
