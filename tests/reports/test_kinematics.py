"""hhnb.reports.kinematics: the figure groups of the HH and ttHH analyses and the files written."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_kinematics_report_groups_for_hh_and_tthh(toy_dir, tmp_path):
    from hhnb.reports import kinematics

    rep = kinematics.make("resolved", 1.0, data_dir=toy_dir, outdir=tmp_path / "r", overlay_lambdas=(1.0, 5.0))
    assert set(rep.figures) == {"kinematics_jets", "kinematics_higgs", "kinematics_event", "mhh_lambdas"}
    assert (tmp_path / "r" / "mhh_lambdas.pdf").exists()
    assert rep.title("kinematics_higgs") == "Higgs candidates"
    rep = kinematics.make("tthh", 1.0, data_dir=toy_dir, outdir=tmp_path / "t", save=False)
    assert set(rep.figures) == {"kinematics_jets", "kinematics_lepton", "kinematics_event"}
    assert rep.events["tthh"] > 0 and rep.written == []
