"""Progress while a network trains: one line per epoch (loss, validation loss, elapsed).

Progress is a parameter of every function that trains: True prints, False (the library's default) stays
silent, and ``"auto"`` (what the notebooks pass) prints only where a person watches: a kernel started by a
Jupyter server (JupyterLab, Notebook) or a terminal on stdout. A kernel started by papermill or nbval, or a
Dask worker, has neither, so the outputs committed to git stay deterministic. ``HHNB_PROGRESS=0`` turns
``"auto"`` off everywhere.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from hhnb.errors import UserArgumentError
from hhnb.nn import backend

AUTO = "auto"
_SERVERS = {"jupyter-lab", "jupyter-notebook", "jupyter-server", "jupyter", "jupyterlab", "notebook", "jupyter_server"}


def interactive() -> bool:
    """True in a kernel started by a Jupyter server, or with a terminal on stdout (``HHNB_PROGRESS=0``: never)."""
    if os.environ.get("HHNB_PROGRESS", "").strip().lower() in ("0", "false", "no", "off"):
        return False
    if _started_by_jupyter_server(os.getppid()):
        return True
    return bool(getattr(sys.stdout, "isatty", lambda: False)())


def _started_by_jupyter_server(pid: int) -> bool:
    """Is process ``pid`` a Jupyter server (``jupyter lab``, ``python -m jupyterlab`` ...)? Linux /proc only."""
    try:
        argv = Path(f"/proc/{int(pid)}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return False
    words = [Path(a.decode(errors="replace")).name for a in argv[:3] if a]
    return any(w in _SERVERS for w in words)


def enabled(progress: bool | str | None = AUTO) -> bool:
    """Resolve a ``progress`` argument: True/False as given; ``"auto"``/None: :func:`interactive`."""
    if progress is None or progress == AUTO:
        return interactive()
    if isinstance(progress, str):
        raise UserArgumentError(f"progress={progress!r}: expected True, False or 'auto'")
    return bool(progress)


def format_line(epoch: int, epochs: int, logs: dict[str, Any], elapsed: float) -> str:
    """One epoch's line.

    >>> format_line(3, 20, {"loss": 0.51234, "val_loss": 0.6}, 12.34)
    'epoch  3/20  loss 0.5123  val_loss 0.6000  elapsed 12.3 s'
    """
    width = len(str(epochs))
    parts = [f"epoch {epoch:>{width}}/{epochs}"]
    for key in ("loss", "val_loss"):
        if key in logs and logs[key] is not None:
            parts.append(f"{key} {float(logs[key]):.4f}")
    parts.append(f"elapsed {elapsed:.1f} s")
    return "  ".join(parts)


def callback(epochs: int, stream: TextIO | None = None, label: str = ""):
    """A Keras callback printing :func:`format_line` after every epoch (to stdout, flushed).

    ``label``: a line printed when training starts (which network of a k-fold set), none when empty.
    """
    base = backend.keras().callbacks.Callback

    class EpochLines(base):
        def on_train_begin(self, logs=None):
            self._t0 = time.perf_counter()
            if label:
                out = stream or sys.stdout
                out.write(label + "\n")
                out.flush()

        def on_epoch_end(self, epoch, logs=None):
            out = stream or sys.stdout
            out.write(format_line(epoch + 1, epochs, logs or {}, time.perf_counter() - self._t0) + "\n")
            out.flush()

    return EpochLines()
