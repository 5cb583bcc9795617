"""hhnb.studies.summary: the latest evaluation per point of the run record, the best per analysis, the table."""

import pytest

from hhnb.errors import UserArgumentError
from hhnb.io import record
from hhnb.studies import summary


@pytest.fixture
def rec(small_record):
    return small_record  # tests/conftest.py


def test_latest_evaluation_per_point(rec):
    ev = summary.evaluations(rec)
    assert list(zip(ev["analysis"], ev["lambda"], ev["auc"])) == [
        ("boosted", 1.0, 0.90), ("resolved", 1.0, 0.96), ("resolved", 10.0, 0.97)]


def test_best_per_analysis(rec):
    best = summary.best_per_analysis(summary.evaluations(rec))
    assert dict(zip(best["analysis"], best["lambda"])) == {"boosted": 1.0, "resolved": 10.0}
    best_auc = summary.best_per_analysis(summary.evaluations(rec), metric="auc")
    assert dict(zip(best_auc["analysis"], best_auc["auc"])) == {"boosted": 0.90, "resolved": 0.97}
    with pytest.raises(UserArgumentError, match="cannot rank by 'colour'"):
        summary.best_per_analysis(summary.evaluations(rec), metric="colour")


def test_table(rec):
    ev = summary.evaluations(rec)
    tab = summary.table(ev, digits=1)
    assert "time" not in tab and "git_commit" not in tab
    assert list(tab["auc"]) == [0.9, 1.0, 1.0]


def test_empty_record(tmp_path):
    ev = summary.evaluations(record.read(tmp_path / "none.sqlite"))
    assert ev.empty and summary.best_per_analysis(ev).empty
