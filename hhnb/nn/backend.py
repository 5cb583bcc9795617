"""TensorFlow and Keras behind one door: the quiet import, the devices, the seeds and the versions.

The only module of hhnb that imports TensorFlow or Keras (a test asserts it). It imports them when a
function first asks (:func:`keras`, :func:`tensorflow`), so that code reading saved scores, the ``hhnb``
command and the notebooks that plot start in a second; every other module of :mod:`hhnb.nn` imports this
one at its top and calls these functions when it builds, trains, predicts, saves or loads.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import os
import sys
from types import ModuleType


@contextlib.contextmanager
def quiet_stderr():
    """Silence C++ log lines written straight to file descriptor 2 (TensorFlow's start-up chatter).

    They carry timestamps and PIDs, which would make notebook outputs differ between runs.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


#: optional imports TensorFlow and Keras try at start-up and hhnb never uses through them: ``tf.lite``'s
#: JAX-to-TFLite conversion (jax) and Keras' scikit-learn wrappers (sklearn). Hidden during the import
#: (each is tried under ``except ImportError``), they cost no memory there: about 200 MB less resident
#: memory per TensorFlow process (benchmarks/bench_apply.py, peak RSS row); imported later, they load normally.
_SKIPPED_AT_TF_IMPORT = ("jax", "sklearn")


@contextlib.contextmanager
def _without(modules: tuple[str, ...]):
    """Make ``import m`` raise ImportError for ``modules`` not yet imported, for the duration of the block."""
    hidden = [m for m in modules if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # type: ignore[assignment]  # the import system's "not importable" marker
    try:
        yield
    finally:
        for m in hidden:
            if m in sys.modules and sys.modules[m] is None:
                del sys.modules[m]


@functools.cache
def keras() -> ModuleType:
    """Import Keras (TensorFlow backend) quietly; TensorFlow uses a GPU if one is visible."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with quiet_stderr(), _without(_SKIPPED_AT_TF_IMPORT):
        import keras as _keras  # deferred: TensorFlow only when a network is built, trained, loaded or run
        import tensorflow as tf  # deferred: TensorFlow only when a network is built, trained, loaded or run

        for var, setter in (("TF_NUM_INTRAOP_THREADS", tf.config.threading.set_intra_op_parallelism_threads),
                            ("TF_NUM_INTEROP_THREADS", tf.config.threading.set_inter_op_parallelism_threads)):
            if os.environ.get(var, "").isdigit():  # e.g. set per Dask worker by hhnb sweep
                setter(int(os.environ[var]))
        tf.config.list_physical_devices()
        tf.get_logger().setLevel("ERROR")
    _keras.utils.disable_interactive_logging()
    return _keras


def tensorflow() -> ModuleType:
    """The ``tensorflow`` module, imported quietly (through :func:`keras`) on first use."""
    keras()
    return sys.modules["tensorflow"]


def devices() -> list[str]:
    """The devices TensorFlow sees (``CPU:0``, ``GPU:0`` ...)."""
    return [d.name.replace("/physical_device:", "") for d in tensorflow().config.list_physical_devices()]


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow ops deterministic."""
    keras().utils.set_random_seed(int(seed))
    try:
        tensorflow().config.experimental.enable_op_determinism()
    except Exception:  # pragma: no cover - older TF
        pass


def versions() -> dict[str, str]:
    """Versions of the packages a model depends on, for its card (read from the installed metadata)."""
    out = {}
    for name in ("hhnb", "tensorflow", "keras", "numpy", "uproot"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out
