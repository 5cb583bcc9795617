"""``hhnb apply`` on Dask: 8 files on 2 local workers side by side with 1 worker and with the serial default.

Synthetic ntuples of the toy ``resolved`` layout and one untrained (200, 200) network (scoring cost
does not depend on the weights). Each worker imports TensorFlow and loads the network before the
clock starts, so the ratio is the scoring throughput, not the start-up. Workers get cores / workers
threads each (``cluster.local_client``: TensorFlow intra/inter-op, OpenMP and BLAS threads set before
TensorFlow starts); the serial default is ``hhnb apply`` in one process with TensorFlow's own threads.

The CPU time the processes obtained is measured too (cores = CPU seconds / wall seconds): on a shared
machine 2 workers can only be faster by as much more CPU as they get, so the row quotes what each run
obtained and the throughput per CPU-second (1 = the workers lose nothing to each other).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_apply import make_file, make_networks  # noqa: E402

from hhnb.nn import apply as A  # noqa: E402
from hhnb.workflow import cluster, distributed_apply  # noqa: E402

FILES = 8
EVENTS = int(os.environ.get("HHNB_BENCH_SCALING_EVENTS", "100000"))
WORKERS = (1, 2)


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process, all its threads."""
    t = os.times()
    return t.user + t.system


def _warm(nets) -> int:
    """Import TensorFlow and load every network in this worker (what the first file would otherwise pay)."""
    for net in nets:
        A._model(net.model_path)
    return os.getpid()


def seconds(files: list[Path], nets, workers: int, outdir: Path) -> tuple[float, float]:
    """Wall time and cores used (CPU s / wall s) of ``distributed_apply.apply`` on ``workers`` local workers."""
    client = cluster.local_client(workers)
    try:
        client.run(_warm, nets)
        cpu0 = sum(client.run(_cpu_seconds).values())
        t0 = time.perf_counter()
        res = distributed_apply.apply(files, nets, client, outdir=outdir, force=True, progress=False)
        took = time.perf_counter() - t0
        cores = (sum(client.run(_cpu_seconds).values()) - cpu0) / took
    finally:
        client.cluster.close()
        client.close()
    bad = [r.error for r in res if r.status != "written"]
    if bad:
        raise RuntimeError(f"apply failed in the scaling benchmark: {bad[0]}")
    return took, cores


def serial_seconds(files: list[Path], nets, outdir: Path) -> tuple[float, float]:
    """Wall time and cores used of the serial default (``hhnb apply`` in this process, one file after another)."""
    _warm(nets)
    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    res = A.apply(files, nets, outdir=outdir, force=True, progress=False)
    took = time.perf_counter() - t0
    if any(r.status != "written" for r in res):
        raise RuntimeError(f"serial apply failed in the scaling benchmark: {res[0].error}")
    return took, (_cpu_seconds() - cpu0) / took


def rows() -> list[dict]:
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="hhnb-bench-scaling-") as tmp:
        tmp = Path(tmp)
        files = [make_file(tmp / f"f{i}.root", EVENTS, seed=10 + i) for i in range(FILES)]
        make_networks(tmp / "models", 1)
        nets = A.networks("resolved", "all", tmp / "models")
        run = {n: seconds(files, nets, n, tmp / f"out{n}") for n in WORKERS}
        run["serial"] = serial_seconds(files, nets, tmp / "out_serial")
    load1 = os.getloadavg()[0]
    rate = {k: FILES * EVENTS / t for k, (t, _) in run.items()}
    cores = {k: c for k, (_, c) in run.items()}
    ncpu = os.cpu_count() or 1
    per_cpu = (rate[2] / cores[2]) / (rate[1] / cores[1])
    noise = f"load average {load0:.1f} before, {load1:.1f} after, {ncpu} cores shared"
    return [
        {"benchmark": f"apply on Dask, {FILES} files x {EVENTS // 1000}k ev: 2 local workers (1 thread each) vs 1 "
                      f"(2 threads); CPU obtained {cores[2]:.2f} vs {cores[1]:.2f} cores, events per CPU-second "
                      f"2 vs 1 worker {per_cpu:.2f} ({noise})",
         "hhnb": rate[2], "peer": "Dask, 1 worker", "reference": rate[1], "unit": "events/s", "ratio": rate[2] / rate[1],
         "goal": f">= 1.7 (needs 1.7 x {cores[1]:.2f} = {1.7 * cores[1]:.2f} cores for hhnb; obtained {cores[2]:.2f})",
         "met": rate[2] / rate[1] >= 1.7},
        {"benchmark": f"apply on Dask, 2 local workers vs the serial default (hhnb apply, one process, "
                      f"TensorFlow's threads; CPU obtained {cores['serial']:.2f} cores)",
         "hhnb": rate[2], "reference": rate["serial"], "peer": "hhnb apply, serial", "unit": "events/s",
         "ratio": rate[2] / rate["serial"], "goal": "(for scale)", "met": None},
    ]


if __name__ == "__main__":
    for row in rows():
        print(row)
