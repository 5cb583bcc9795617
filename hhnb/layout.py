"""Where the project's folders are, whether a notebook runs from the repo root or from notebooks/."""

from __future__ import annotations

import os
from pathlib import Path


def project_dir(start: str | Path | None = None) -> Path:
    """The hhnb project folder: $HHNB_HOME, else the nearest parent holding ``hhnb/`` and ``notebooks/``.

    Falls back to the current directory, so an installed hhnb works anywhere.
    """
    env = os.environ.get("HHNB_HOME")
    if env:
        return Path(env).resolve()
    here = Path(start or Path.cwd()).resolve()
    for p in (here, *here.parents):
        if (p / "notebooks").is_dir() and (p / "pyproject.toml").is_file():
            return p
    return here


def resolve(path: str | Path | None, default: str) -> Path:
    """A user path as given (relative to the cwd), or ``<project>/<default>`` when None."""
    if path is None or str(path) == "":
        return project_dir() / default
    return Path(path).expanduser().resolve()
