"""hhnb.workflow.papermill_engine: the ``hhnb`` engine entry point, its delegation to nbclient, the translator it registers."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

from hhnb.workflow.papermill_engine import HHNBEngine


def test_the_entry_point_names_the_engine():
    (ep,) = [e for e in importlib.metadata.entry_points(group="papermill.engine") if e.name == "hhnb"]
    assert ep.value == "hhnb.workflow.papermill_engine:HHNBEngine"
    assert ep.load() is HHNBEngine


def test_papermill_alone_registers_the_keyword_safe_translator():
    """A fresh interpreter that imports only papermill gets ``lambda_ = ...``: the entry point did it."""
    code = ("import sys, papermill.engines as pe\n"
            "from papermill.translators import papermill_translators as t\n"
            "print('hhnb' in pe.papermill_engines._engines, 'hhnb.workflow.papermill_engine' in sys.modules)\n"
            "print(t.find_translator('python3', 'python').codify({'lambda': 10.0, 'analysis': 'boosted'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120).stdout
    lines = out.splitlines()
    assert lines[0] == "True True"
    assert "lambda_ = 10.0" in lines and "analysis = 'boosted'" in [line.replace('"', "'") for line in lines]
    assert not any(line.startswith("lambda =") for line in lines)


def test_execute_notebook_is_nbclients(monkeypatch):
    from papermill.engines import NBClientEngine

    seen = []

    def fake(cls, *args, **kwargs):
        seen.append((cls, args, kwargs))
        return "executed"

    monkeypatch.setattr(NBClientEngine, "execute_notebook", classmethod(fake))
    assert HHNBEngine.execute_notebook("nb", "python3", log_output=False) == "executed"
    assert seen == [(NBClientEngine, ("nb", "python3"), {"log_output": False})]
