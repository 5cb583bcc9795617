"""hhnb.nn.backend: TensorFlow imported on first use only, quietly, with seeds, devices and versions."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hhnb.nn import backend


def test_importing_hhnb_never_imports_tensorflow():
    """Every module of the package imports without TensorFlow: only a function of the backend loads it."""
    code = ("import importlib, pkgutil, sys, hhnb\n"
            "for m in pkgutil.walk_packages(hhnb.__path__, 'hhnb.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(sorted(k for k in ('tensorflow', 'keras', 'tf2onnx') if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_keras_is_imported_once_and_quietly(capfd):
    k = backend.keras()
    assert k is backend.keras() and backend.tensorflow() is sys.modules["tensorflow"]
    assert "CPU:0" in backend.devices()
    assert capfd.readouterr().err == ""  # the C++ start-up lines went to /dev/null


def test_tensorflow_import_leaves_out_jax_and_sklearn_but_they_import_afterwards():
    """Hidden only during the import: ``import m`` fails inside the block and works after it."""
    name = "hhnb_test_not_imported_yet"
    with backend._without((name,)):
        with pytest.raises(ImportError):
            __import__(name)
    assert name not in sys.modules
    with backend._without(("numpy",)):  # already imported: left alone
        import numpy  # noqa: F401


def test_set_seed_makes_tensorflow_draws_repeat():
    tf = backend.tensorflow()
    backend.set_seed(3)
    a = tf.random.uniform((4,)).numpy()
    backend.set_seed(3)
    assert np.array_equal(a, tf.random.uniform((4,)).numpy())


def test_versions_name_the_packages_a_model_depends_on():
    v = backend.versions()
    assert {"hhnb", "tensorflow", "keras", "numpy", "uproot"} <= set(v)
    assert v["numpy"] == np.__version__
