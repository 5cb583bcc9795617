"""A scratch project for running the committed notebooks reproducibly (nbval, ``make notebooks``).

It holds toy ntuples generated with the notebook defaults and the network train.ipynb trains with its
default parameters (read from its parameters cell: one owner), so downstream notebooks have their inputs
whatever order they run in. Each run gets its own fresh folder (models, run record, plots), so concurrent runs
never see each other's rows; only the deterministic toy ntuples are shared, in a per-user cache.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hhnb import layout
from hhnb.config import defaults
from hhnb.errors import MissingArtifactError
from hhnb.reports import train as train_report
from hhnb.toy import generate as toy

PREFIX = "hhnb-notebooks-"

#: Numerical libraries pinned to code paths that every x86-64 machine with AVX2 runs alike, for the runs whose
#: outputs are committed and compared (``make notebooks``, strict nbval). Without it a network trained on an
#: AVX-512 machine differs in the last bits from one trained on an AVX2 machine (oneDNN, OpenBLAS and NumPy
#: pick their kernels by the CPU), and a few heavy-weight events moving across a cut change a printed yield
#: by percents. oneDNN off (TensorFlow's Eigen kernels are compiled for one instruction set), OpenBLAS's
#: Haswell kernels, NumPy's and XLA's AVX2 paths. Users' own runs keep the fastest kernels.
REPRODUCIBLE_ENV = {
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "OPENBLAS_CORETYPE": "Haswell",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512F AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR",
    "XLA_FLAGS": "--xla_cpu_max_isa=AVX2",
    "PYTHONHASHSEED": "0",
}


def reproducible_env() -> str:
    """``REPRODUCIBLE_ENV`` as shell assignments, for the Makefile (it must be set before NumPy is imported).

    >>> reproducible_env().split()[0]
    "TF_ENABLE_ONEDNN_OPTS='0'"
    """
    return " ".join(f"{k}='{v}'" for k, v in REPRODUCIBLE_ENV.items())


def data_cache() -> Path:
    """The per-user folder of toy ntuples shared by the scratch projects (files are written atomically)."""
    return Path(tempfile.gettempdir()) / f"{PREFIX}data-{os.getuid()}"


def prepare(home: str | Path | None = None) -> Path:
    """Create a scratch project (a fresh temporary folder unless ``home`` is given), set HHNB_HOME to it and
    return it: toy ntuples linked from the shared cache, the default network trained, an empty run record."""
    for key, value in REPRODUCIBLE_ENV.items():  # the kernels started later inherit it (too late for this NumPy)
        os.environ.setdefault(key, value)
    home = Path(home) if home is not None else Path(tempfile.mkdtemp(prefix=PREFIX))
    (home / "notebooks").mkdir(parents=True, exist_ok=True)
    os.environ["HHNB_HOME"] = str(home)

    cache = data_cache()
    toy.generate(cache, lambdas=[1.0], events=defaults.EVENTS, seed=defaults.SEED, progress=False, skip_existing=True)
    if not layout.data_dir().exists():
        layout.data_dir().symlink_to(cache, target_is_directory=True)
    layout.record_path().unlink(missing_ok=True)
    params = notebook_parameters("train")
    analysis, kl = params.pop("analysis"), params.pop("lambda_")  # papermill's -p lambda is lambda_ in the cell
    if not layout.scores_path(layout.models_dir(), analysis, kl).exists():
        train_report.make(analysis, kl, **params, save=False, progress=False)
    return home


def notebook_parameters(name: str) -> dict[str, Any]:
    """The default parameters of a shipped notebook: the assignments of its cell tagged ``parameters``.

    The notebook owns them; the scratch project and the benchmarks read them here rather than repeat them.
    """
    nb = json.loads(layout.notebook(name).read_text())
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise MissingArtifactError(f"notebook {name}.ipynb: expected one cell tagged 'parameters', found {len(cells)}")
    return {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse("".join(cells[0]["source"])).body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}


def cleanup(home: str | Path) -> None:
    """Remove a scratch project made by :func:`prepare` (only folders with its prefix)."""
    home = Path(home)
    if home.name.startswith(PREFIX) and home != data_cache():
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    print(reproducible_env())
