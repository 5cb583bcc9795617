"""A scratch project for running the committed notebooks reproducibly (nbval, ``make notebooks``).

It holds toy ntuples generated with the notebook defaults and the default network (a k-fold set,
``training.DEFAULT_FOLDS``) trained, so downstream notebooks have their inputs whatever order
they run in. Each run gets its own fresh folder (models, run record, plots), so concurrent runs
never see each other's rows; only the deterministic toy ntuples are shared, in a per-user cache.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hhnb.config import defaults

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
    from hhnb import layout
    from hhnb.toy.generate import generate

    cache = data_cache()
    generate(cache, lambdas=[1.0], events=defaults.EVENTS, seed=defaults.SEED, progress=False, skip_existing=True)
    if not layout.data_dir().exists():
        layout.data_dir().symlink_to(cache, target_is_directory=True)
    layout.record_path().unlink(missing_ok=True)
    if not layout.scores_path(layout.models_dir(), "resolved", 1.0).exists():
        from hhnb.nn.model import HyperParameters
        from hhnb.nn.training import DEFAULT_FOLDS, train

        train("resolved", 1.0, data_dir=layout.data_dir(), models_dir=layout.models_dir(),
              hyper=HyperParameters(epochs=defaults.EPOCHS, batch_size=defaults.BATCH_SIZE, learning_rate=5e-3),
              seed=defaults.TRAIN_SEED, folds=DEFAULT_FOLDS)
    return home


def cleanup(home: str | Path) -> None:
    """Remove a scratch project made by :func:`prepare` (only folders with its prefix)."""
    home = Path(home)
    if home.name.startswith(PREFIX) and home != data_cache():
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    print(reproducible_env())
