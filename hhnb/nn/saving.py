"""Save and load networks as ``.keras`` files: written atomically, read with ``safe_mode`` (nothing unpickled)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hhnb.errors import MissingArtifactError
from hhnb.io.atomic import atomic_path
from hhnb.nn import backend, layers, morphing


def save(model: Any, path: str | Path) -> Path:
    """Save a ``.keras`` file atomically (temporary name, then rename)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        real = tmp.with_name(tmp.name + ".keras")
        model.save(real)
        os.replace(real, tmp)
    return path


def load(path: str | Path) -> Any:
    """Load a ``.keras`` model with ``safe_mode=True`` (no arbitrary code, nothing unpickled)."""
    path = Path(path)
    if not path.exists():
        raise MissingArtifactError(f"model file {path} does not exist")
    layers.log_layer()  # registers the custom layers before Keras reads the file
    morphing.layers()
    return backend.keras().models.load_model(path, compile=False, safe_mode=True)
