"""Re-execute the committed notebooks in place with their default parameters (``make notebooks``).

The notebooks are run in a fresh scratch project (HHNB_HOME) prepared exactly like the
nbval run, so the committed outputs are what ``pytest --nbval`` will see. A notebook in
``ORDER`` that does not exist is skipped (``parameterised`` and ``constraints`` join when added).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from hhnb import layout
from hhnb.workflow.nbsetup import cleanup, prepare
from hhnb.workflow.sweep import QUIET_KERNEL

#: Run order (later notebooks read what earlier ones wrote); a name without a notebook is skipped,
#: so a new notebook is added here when it is added to notebooks/.
ORDER = ("train", "evaluate", "correlations", "shap", "kinematics", "random_search", "parameterised", "constraints",
         "decorrelation", "summary")


def refresh(names: list[str] | None = None, nbdir: Path | None = None) -> None:
    nbdir = Path(nbdir or layout.notebooks_dir())
    home = prepare()
    os.environ["HHNB_HOME"] = str(home)
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # plots inline, as in JupyterLab
    wanted = names or [n for n in ORDER if (nbdir / f"{n}.ipynb").exists()]
    for name in wanted:
        path = nbdir / f"{name}.ipynb"
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(nbdir)}},
                       extra_arguments=QUIET_KERNEL).execute()
        for cell in nb.cells:
            cell.get("metadata", {}).pop("execution", None)
        nbformat.write(nb, path)
        print(f"refreshed {path}")
    cleanup(home)


if __name__ == "__main__":
    refresh(sys.argv[1:] or None)
