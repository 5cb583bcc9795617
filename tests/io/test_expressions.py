"""hhnb.io.expressions: features over jagged branches, padded element access, reductions, errors."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import uproot

from hhnb.errors import ExpressionError, InputFileError
from hhnb.io import expressions


@pytest.fixture
def chunk():
    return {"Jet_pt": ak.Array([[120.0, 45.0, 31.0, 12.0], [], [60.0]]),
            "nJet": np.array([4, 0, 1], np.int32),
            "AnalysisJetsAuxDyn.pt": ak.Array([[3.0, 2.0], [1.0], []]),
            "met": np.array([10.0, 20.0, 30.0])}


def test_element_access_pads_and_reductions(chunk):
    out = expressions.evaluate(["Jet_pt[:, 0]", "Jet_pt[:, 2]", "Jet_pt[:, -1]", "num(Jet_pt)", "nJet",
                                "sum(Jet_pt[Jet_pt > 30])", "max(Jet_pt)", "AnalysisJetsAuxDyn.pt[:, 1]",
                                "sqrt(met) * 2"], chunk, pads={"Jet_pt[:, 2]": -999.0})
    assert out["Jet_pt[:, 0]"].tolist() == [120.0, 0.0, 60.0]
    assert out["Jet_pt[:, 2]"].tolist() == [31.0, -999.0, -999.0]
    assert out["Jet_pt[:, -1]"].tolist() == [12.0, 0.0, 60.0]
    assert out["num(Jet_pt)"].tolist() == out["nJet"].tolist() == [4, 0, 1]
    assert out["sum(Jet_pt[Jet_pt > 30])"].tolist() == [196.0, 0.0, 60.0]
    assert out["max(Jet_pt)"].tolist() == [120.0, 0.0, 60.0]
    assert out["AnalysisJetsAuxDyn.pt[:, 1]"].tolist() == [2.0, 0.0, 0.0]
    np.testing.assert_allclose(out["sqrt(met) * 2"], 2 * np.sqrt([10.0, 20.0, 30.0]))
    assert all(v.dtype == np.float64 for v in out.values())


def test_default_pad_and_mask(chunk):
    assert expressions.evaluate(["Jet_pt[:, 1]"], chunk, default_pad=-1.0)["Jet_pt[:, 1]"].tolist() == [45.0, -1, -1]
    assert expressions.mask("(nJet >= 1) & (Jet_pt[:, 0] > 100)", chunk).tolist() == [True, False, False]
    assert expressions.mask(None, chunk).tolist() == [True, True, True]


def test_needed_branches_resolves_dotted_names(chunk):
    keys = list(chunk)
    assert expressions.needed_branches(["AnalysisJetsAuxDyn.pt[:, 0] + met", "nJet"], keys) == \
        ["AnalysisJetsAuxDyn.pt", "met", "nJet"]
    assert expressions.is_branch("AnalysisJetsAuxDyn.pt") and not expressions.is_branch("Jet_pt[:, 0]")


@pytest.mark.parametrize(("expr", "message"), [
    ("Jet_pt[:, 0", "expression 'Jet_pt[:, 0' does not parse"),
    ("Jets_pt[:, 0]", "names 'Jets_pt', which is no branch or collection of the tree (close: Jet_pt)"),
    ("met[:, 0]", "cannot be evaluated: [:, 0] needs a list per event"),
    ("Jet_pt * 2", "gives a list per event: take an element"),
])
def test_bad_expressions_are_one_line(chunk, expr, message):
    with pytest.raises(ExpressionError) as info:
        expressions.evaluate([expr], chunk, where="file a.root, tree 'Events'")
    text = str(info.value)
    assert text.startswith("file a.root, tree 'Events': ") and message in text and "\n" not in text
    assert isinstance(info.value, InputFileError)


def test_ttree_and_rntuple_chunks_agree(tmp_path):
    jets = ak.Array([[50.0, 20.0], [], [30.0], [70.0, 65.0, 10.0]] * 50)
    w = np.tile([1.0, -1.0, 0.5, 2.0], 50)
    with uproot.recreate(tmp_path / "t.root") as f:
        f.mktree("Events", {"Jet_pt": "var * float64", "w": "float64"})
        f["Events"].extend({"Jet_pt": jets, "w": w})
        f.mkrntuple("Ntuple", {"Jet_pt": jets, "w": w})
    values = {}
    with uproot.open(tmp_path / "t.root") as f:
        for name in ("Events", "Ntuple"):
            t = f[name]
            parts = [expressions.evaluate(["Jet_pt[:, 1]", "w"], arrays) for arrays, _, _ in
                     expressions.iterate(t, expressions.needed_branches(["Jet_pt[:, 1]", "w"], t.keys()), 60)]
            values[name] = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    for k in ("Jet_pt[:, 1]", "w"):
        np.testing.assert_array_equal(values["Events"][k], values["Ntuple"][k])
    assert values["Events"]["Jet_pt[:, 1]"][:4].tolist() == [20.0, 0.0, 0.0, 65.0]
