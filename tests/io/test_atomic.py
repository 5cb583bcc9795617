"""hhnb.io.atomic: outputs appear complete or not at all."""

from __future__ import annotations

import os
import stat

import pytest

from hhnb.io.atomic import atomic_path, write_text


def test_complete_file_appears_under_its_name(tmp_path):
    path = write_text(tmp_path / "sub" / "a.txt", "hello\n")
    assert path.read_text() == "hello\n"
    assert [p.name for p in path.parent.iterdir()] == ["a.txt"]  # no temporary left over


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    path = write_text(tmp_path / "a.txt", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_the_temporary_is_beside_the_target_and_hidden(tmp_path):
    with atomic_path(tmp_path / "b.csv") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".b.csv.") and not (tmp_path / "b.csv").exists()
        tmp.write_text("x")
    assert (tmp_path / "b.csv").read_text() == "x"


def test_outputs_get_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = write_text(tmp_path / "c.txt", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
