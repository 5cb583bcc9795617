"""hhnb.workflow.lock: one holder per project and kind, the holder named, released on exit, on error and on death."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from hhnb.errors import ProjectBusy
from hhnb.workflow.lock import project_lock


def test_project_lock_refuses_second_holder(tmp_path):
    with project_lock(tmp_path):
        with pytest.raises(ProjectBusy, match=r"another sweep is running on .* \(pid \d+ since"):
            with project_lock(tmp_path):
                pass
    with project_lock(tmp_path):  # released: taken again
        pass


def test_the_lock_file_names_this_process(tmp_path):
    with project_lock(tmp_path, "apply") as path:
        assert path == tmp_path / "runs" / ".apply.lock"
        assert re.fullmatch(rf"pid {os.getpid()} since \d\d:\d\d:\d\d", path.read_text())
        with pytest.raises(ProjectBusy) as exc:
            with project_lock(tmp_path, "apply"):
                pass
        assert str(exc.value).startswith(f"another apply is running on {tmp_path} (pid {os.getpid()} since ")
        assert str(exc.value).endswith("wait for it to end, or give this one its own HHNB_HOME")
        with project_lock(tmp_path, "sweep"), project_lock(tmp_path / "other"):  # another kind, another project
            pass


def test_an_error_inside_the_block_releases_it(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with project_lock(tmp_path):
            raise RuntimeError("boom")
    with project_lock(tmp_path) as path:
        assert path.read_text().startswith(f"pid {os.getpid()} ")  # rewritten by the new holder


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    code = ("import sys, time; from hhnb.workflow.lock import project_lock\n"
            f"with project_lock({str(tmp_path)!r}):\n    print('held', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(ProjectBusy, match=rf"\(pid {child.pid} since"):
            with project_lock(tmp_path):
                pass
    finally:
        child.kill()
        child.wait(timeout=30)
    with project_lock(tmp_path):  # the kernel dropped the dead holder's lock
        pass
