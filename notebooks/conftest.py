"""nbval set-up: run the notebooks in a scratch project with toy data and the default network ready."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # plots inline, as in JupyterLab


def pytest_sessionstart(session):
    from hhnb.workflow.nbsetup import prepare

    prepare()
