"""Ntuples shaped like real productions, for the reader and writer tests.

* :func:`production_file`: written by ROOT itself (RDataFrame ``Snapshot`` and ``TFile``): a nominal tree
  ``nominal`` and a variation tree ``JET_JER__1up`` (the same event numbers, jets smeared), each with flat
  ``float``/``double``/``int``/``bool``/``char`` branches, ``std::vector<float>`` (``jet_pt``, ``jet_eta``) and
  ``std::vector<int>`` (``jet_truthflav``) branches, a fixed-size array ``lep_sf[3]`` (float, written by
  ``TTree::Branch`` with the leaf list ``lep_sf[3]/F``), a string branch (``sample_name``), the generator weight
  ``weight_mc`` (about 20 % negative) and ``eventNumber``; a ``cutflow`` TH1, a folder ``metadata/`` with the
  TH1 ``sumOfWeights`` (bin 1: the generated sum of weights) and a TObjString ``metadata/info``.
* :func:`odd_file`: what a key-by-key rewrite would lose, written by ROOT: a tree ``nominal`` (``x`` float,
  ``arr[4]`` float array, ``eventNumber`` int64) with an autosave cycle ``nominal;1`` beside ``nominal;2``,
  an object ``odd`` of a class (``HHNBOdd``) that no reader has a dictionary for, two cycles of a TH1F ``h``,
  a folder ``folder/`` with a tree ``inner`` (``y`` int), and an RNTuple ``ntup`` (``eventNumber``).
* :func:`nanoaod_file`: NanoAOD-shaped, written with uproot and awkward: an ``Events`` tree with the
  collections ``Jet_*`` (counts ``nJet``), ``Muon_*`` (``nMuon``), uint8 ``Jet_jetId``, bool ``HLT_*``, a
  signed ``genWeight``, uint64 ``event`` and some 300 branches in all; a ``Runs`` tree with ``genEventSumw``.
* :func:`physlite_file`: PHYSLITE-shaped, written by ROOT: a ``CollectionTree`` with dotted
  ``std::vector<float>`` branches ``AnalysisJetsAuxDyn.pt``/``.eta`` and ``EventInfoAuxDyn.eventNumber``,
  ``EventInfoAuxDyn.mcEventWeights`` (signed).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

_JETS = """
std::vector<float> v; TRandom3 r(rdfentry_ * 13 + SEED); int k = r.Poisson(4.5);
for (int i = 0; i < k; ++i) v.push_back(25. + r.Exp(45.) * SCALE);
std::sort(v.begin(), v.end(), std::greater<float>()); return v;
"""


def _frame(ROOT, n: int, seed: int, scale: float):
    jets = _JETS.replace("SEED", str(seed)).replace("SCALE", repr(scale))
    return (ROOT.RDataFrame(n)
            .Define("eventNumber", "(ULong64_t)(rdfentry_ * 7 + 3)")
            .Define("jet_pt", jets)
            .Define("jet_eta", f"std::vector<float> v; TRandom3 r(rdfentry_ + {seed} + 1); "
                               "for (size_t i = 0; i < jet_pt.size(); ++i) v.push_back(r.Uniform(-2.5, 2.5)); return v;")
            .Define("jet_truthflav", "std::vector<int> v; for (size_t i = 0; i < jet_pt.size(); ++i) "
                                     "v.push_back(i < 2 ? 5 : 0); return v;")
            .Define("njet", "(int)jet_pt.size()")
            .Define("ht", "float s = 0; for (auto p : jet_pt) s += p; return s;")
            .Define("met", f"TRandom3 r(rdfentry_ + {seed} + 2); return r.Exp(40.);")
            .Define("pass_trigger", "(bool)(rdfentry_ % 3 != 0)")
            .Define("channel", "(char)(rdfentry_ % 2)")
            .Define("weight_mc", f"TRandom3 r(rdfentry_ + {seed} + 3); return r.Uniform() < 0.2 ? -1.5 : 1.5;")
            .Define("sample_name", 'std::string("ttbar_nlo")'))


_ARRAY = r"""
namespace hhnb_tests {
void add_lep_sf(TTree *t) {  // a fixed-size array branch, which RDataFrame's Snapshot does not write from a Define
   float v[3];
   TBranch *b = t->Branch("lep_sf", v, "lep_sf[3]/F");
   for (Long64_t i = 0; i < t->GetEntries(); ++i) {
      for (int j = 0; j < 3; ++j) v[j] = 1.f + 0.01f * ((i + j) % 7);
      b->Fill();
   }
   b->ResetAddress();
   t->Write("", TObject::kOverwrite);
}
}
"""


def production_file(path: Path, n: int = 2000, seed: int = 1) -> Path:
    """A production-layout file written by ROOT (see the module docstring for its objects)."""
    import ROOT

    ROOT.gROOT.SetBatch(True)
    if not hasattr(ROOT, "hhnb_tests"):
        ROOT.gInterpreter.Declare(_ARRAY)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    opts = ROOT.RDF.RSnapshotOptions()
    opts.fMode = "UPDATE"
    _frame(ROOT, n, seed, 1.0).Snapshot("nominal", str(path))
    _frame(ROOT, n, seed, 1.05).Snapshot("JET_JER__1up", str(path), "", opts)
    f = ROOT.TFile.Open(str(path), "UPDATE")
    for tree in ("nominal", "JET_JER__1up"):
        ROOT.hhnb_tests.add_lep_sf(f.Get(tree))
    cutflow = ROOT.TH1D("cutflow", "cutflow", 4, 0, 4)
    for i, v in enumerate((4 * n, 3 * n, 2 * n, n)):
        cutflow.SetBinContent(i + 1, v)
    f.WriteTObject(cutflow, "cutflow")
    meta = f.mkdir("metadata")
    meta.cd()
    sumw = ROOT.TH1D("sumOfWeights", "sum of generator weights", 1, 0, 1)
    sumw.SetBinContent(1, 4 * n * 0.9)
    meta.WriteTObject(sumw, "sumOfWeights")
    meta.WriteTObject(ROOT.TObjString("production: test; generator: NLO"), "info")
    f.Close()
    return path


def nanoaod_file(path: Path, n: int = 1000, seed: int = 1, shift: float = 0.0, extra_branches: int = 260) -> Path:
    """A NanoAOD-shaped file written with uproot and awkward (see the module docstring)."""
    rng = np.random.default_rng(seed)
    nj = rng.poisson(5, n)
    pt = ak.sort(ak.unflatten(25 + rng.exponential(50 + 30 * shift, nj.sum()), nj), ascending=False)
    nm = rng.poisson(0.3, n)
    events = {
        "Jet_pt": ak.values_astype(pt, np.float32),
        "Jet_eta": ak.values_astype(ak.unflatten(rng.uniform(-2.5, 2.5, nj.sum()), nj), np.float32),
        "Jet_btagDeepFlavB": ak.values_astype(ak.unflatten(rng.beta(1 + 2 * shift, 2, nj.sum()), nj), np.float32),
        "Jet_jetId": ak.values_astype(ak.unflatten(rng.integers(0, 7, nj.sum()), nj), np.uint8),
        "Muon_pt": ak.values_astype(ak.unflatten(rng.exponential(30, nm.sum()), nm), np.float32),
        "HLT_PFHT1050": rng.random(n) < 0.5, "HLT_IsoMu24": rng.random(n) < 0.1,
        "MET_pt": rng.exponential(40, n).astype(np.float32),
        "genWeight": np.where(rng.random(n) < 0.2, -1.0, 1.0).astype(np.float32) * 1200.0,
        "event": (np.arange(n) * 11 + 5).astype(np.uint64), "run": np.ones(n, np.uint32),
        "luminosityBlock": (np.arange(n) // 100).astype(np.uint32),
    }
    events.update({f"Flag_filter{i}": rng.random(n) < 0.99 for i in range(extra_branches // 2)})
    events.update({f"L1_seed{i}": rng.random(n) < 0.3 for i in range(extra_branches - extra_branches // 2)})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with uproot.recreate(path) as f:
        f.mktree("Events", {"Jet": ak.zip({k[4:]: events[k] for k in events if k.startswith("Jet_")}).type.content,
                            "Muon": ak.zip({"pt": events["Muon_pt"]}).type.content,
                            **{k: np.asarray(v).dtype for k, v in events.items()
                               if not k.startswith(("Jet_", "Muon_"))}})
        f["Events"].extend({"Jet": ak.zip({k[4:]: events[k] for k in events if k.startswith("Jet_")}),
                            "Muon": ak.zip({"pt": events["Muon_pt"]}),
                            **{k: v for k, v in events.items() if not k.startswith(("Jet_", "Muon_"))}})
        f.mktree("Runs", {"genEventSumw": np.float64, "genEventCount": np.int64, "run": np.uint32})
        f["Runs"].extend({"genEventSumw": np.array([3.0 * float(events["genWeight"].sum())]),
                          "genEventCount": np.array([3 * n]), "run": np.array([1], np.uint32)})
    return path


def physlite_file(path: Path, n: int = 1000, seed: int = 1, shift: float = 0.0) -> Path:
    """A PHYSLITE-shaped file written by ROOT with dotted branch names (see the module docstring)."""
    import ROOT

    ROOT.gROOT.SetBatch(True)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scale = 1.0 + shift
    frame = (ROOT.RDataFrame(n)
             .Define("pt", _JETS.replace("SEED", str(seed)).replace("SCALE", repr(scale)))
             .Define("eta", f"std::vector<float> v; TRandom3 r(rdfentry_ + {seed}); "
                            "for (size_t i = 0; i < pt.size(); ++i) v.push_back(r.Uniform(-2.5, 2.5)); return v;")
             .Define("number", "(ULong64_t)(rdfentry_ * 3 + 1)")
             .Define("mcw", f"TRandom3 r(rdfentry_ + {seed} + 9); "
                            "return std::vector<float>{r.Uniform() < 0.2 ? -1.f : 1.f};"))
    frame.Snapshot("CollectionTree", str(path), ["pt", "eta", "number", "mcw"])
    f = ROOT.TFile.Open(str(path), "UPDATE")  # rename to the dotted names PHYSLITE uses
    t = f.Get("CollectionTree")
    for old, new in (("pt", "AnalysisJetsAuxDyn.pt"), ("eta", "AnalysisJetsAuxDyn.eta"),
                     ("number", "EventInfoAuxDyn.eventNumber"), ("mcw", "EventInfoAuxDyn.mcEventWeights")):
        b = t.GetBranch(old)
        b.SetName(new)
        b.SetTitle(new)
        leaf = b.GetLeaf(old)
        if leaf:
            leaf.SetName(new)
            leaf.SetTitle(new)
    t.Write("", ROOT.TObject.kOverwrite)
    f.Close()
    return path


_ODD = """
import array, sys
import ROOT
ROOT.gROOT.SetBatch(True)
# the class has a dictionary in this writing process only; ClassDef'd in the interpreter, so ROOT writes its
# key (class name HHNBOdd) but no reader can stream it back: only a copy of the key's bytes keeps it
ROOT.gInterpreter.Declare("class HHNBOdd : public TObject { public: int a = 3; ClassDef(HHNBOdd, 1) };")
ROOT.gErrorIgnoreLevel = ROOT.kFatal
n = int(sys.argv[2])
f = ROOT.TFile.Open(sys.argv[1], "RECREATE")
t = ROOT.TTree("nominal", "nominal")
x, arr, ev = array.array("f", [0.0]), array.array("f", [0.0] * 4), array.array("q", [0])
t.Branch("x", x, "x/F"); t.Branch("arr", arr, "arr[4]/F"); t.Branch("eventNumber", ev, "eventNumber/L")
for i in range(n):
    x[0], ev[0] = i * 0.5, i
    for j in range(4):
        arr[j] = i + j
    t.Fill()
    if i == n // 2:
        t.AutoSave()  # nominal;1, the backup an interrupted writer would have kept
t.Write()
f.WriteTObject(ROOT.HHNBOdd(), "odd")
h = ROOT.TH1F("h", "h", 3, 0, 3); h.Fill(1); f.WriteTObject(h, "h"); h.Fill(2); f.WriteTObject(h, "h")
d = f.mkdir("folder"); d.cd()
u = ROOT.TTree("inner", "inner"); y = array.array("i", [0]); u.Branch("y", y, "y/I")
for i in range(n):
    y[0] = i; u.Fill()
u.Write()
f.Close()
opts = ROOT.RDF.RSnapshotOptions(); opts.fMode = "UPDATE"
opts.fOutputFormat = ROOT.RDF.ESnapshotOutputFormat.kRNTuple
ROOT.RDataFrame(50).Define("eventNumber", "(ULong64_t)rdfentry_").Snapshot("ntup", sys.argv[1], "", opts)
"""


def odd_file(path: Path, n: int = 1000) -> Path:
    """A file of the objects a key-by-key rewrite loses (see the module docstring), written in a process of its
    own (the class ``HHNBOdd`` must not be known to the reader)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", textwrap.dedent(_ODD), str(path), str(n)], check=True, capture_output=True)
    return path


def keys(path: Path) -> list[str]:
    """Every object path of a file, without cycles (uproot's recursive keys)."""
    with uproot.open(path) as f:
        return sorted({k.split(";")[0] for k in f.keys(recursive=True)})
