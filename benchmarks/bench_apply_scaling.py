"""``hhnb apply`` on Dask: 8 files on 2 local workers side by side with the same 8 files on 1 worker.

Synthetic ntuples of the toy ``resolved`` layout and one untrained (200, 200) network (scoring cost
does not depend on the weights). Each worker imports TensorFlow and loads the network before the
clock starts, so the ratio is the scoring throughput, not the start-up.
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


def _warm(nets) -> int:
    """Import TensorFlow and load every network in this worker (what the first file would otherwise pay)."""
    for net in nets:
        A._model(net.model_path)
    return os.getpid()


def seconds(files: list[Path], nets, workers: int, outdir: Path) -> float:
    """Wall time of one ``distributed_apply.apply`` over ``files`` on ``workers`` local workers, warmed."""
    client = cluster.local_client(workers)
    try:
        client.run(_warm, nets)
        t0 = time.perf_counter()
        res = distributed_apply.apply(files, nets, client, outdir=outdir, force=True, progress=False)
        took = time.perf_counter() - t0
    finally:
        client.cluster.close()
        client.close()
    bad = [r.error for r in res if r.status != "written"]
    if bad:
        raise RuntimeError(f"apply failed in the scaling benchmark: {bad[0]}")
    return took


def rows() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="hhnb-bench-scaling-") as tmp:
        tmp = Path(tmp)
        files = [make_file(tmp / f"f{i}.root", EVENTS, seed=10 + i) for i in range(FILES)]
        make_networks(tmp / "models", 1)
        nets = A.networks("resolved", "all", tmp / "models")
        t = {n: seconds(files, nets, n, tmp / f"out{n}") for n in WORKERS}
    rate = {n: FILES * EVENTS / t[n] for n in WORKERS}
    return [{"benchmark": f"apply on Dask, {FILES} files x {EVENTS // 1000}k ev: 2 local workers vs 1",
             "hhnb": rate[2], "reference": rate[1], "unit": "events/s", "ratio": rate[2] / rate[1],
             "goal": ">= 1.7"}]


if __name__ == "__main__":
    for row in rows():
        print(row)
