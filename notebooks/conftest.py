"""nbval set-up: run the notebooks in a fresh scratch project (private to this pytest run) with toy data and
the default network ready; removed at the end."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # plots inline, as in JupyterLab

_HOME: list = []


def pytest_sessionstart(session):
    from hhnb.workflow.nbsetup import prepare

    _HOME.append(prepare())


def pytest_sessionfinish(session, exitstatus):
    from hhnb.workflow.nbsetup import cleanup

    for home in _HOME:
        cleanup(home)
