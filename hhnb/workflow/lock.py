"""One writer per project: a sweep holds ``runs/.sweep.lock`` (an OS file lock) while it runs.

The lock is ``flock``: the kernel drops it when its holder dies, so a killed sweep never
leaves a stale lock behind; a second sweep on the same outputs is refused in one line.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from hhnb.errors import ProjectBusy


@contextlib.contextmanager
def project_lock(project: str | Path, what: str = "sweep") -> Iterator[Path]:
    """Hold ``<project>/runs/.<what>.lock`` for the block, or raise :class:`ProjectBusy` naming the holder."""
    path = Path(project) / "runs" / f".{what}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise ProjectBusy(f"another {what} is running on {Path(project)} ({holder}): wait for it to end, "
                              f"or give this one its own HHNB_HOME") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {time.strftime('%H:%M:%S')}".encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock
