"""Sweep overhead: kernel start + imports per notebook vs its compute; 2 Dask workers vs the points one by one."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PARAMS = {"epochs": 1, "max_events": 300, "widths": [32]}
# two points of one category (the same work each, so 2 workers can at best halve the wall time): the per-notebook
# cost is fixed (kernel, imports, tracing, plots), so more points measure the same ratio more slowly
ANALYSIS = "resolved"
LAMBDAS = (1.0, 10.0)


def _import_only_notebook(path: Path) -> Path:
    """A notebook whose only work is ``import hhnb`` (what every sweep notebook pays before computing)."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import hhnb")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children that have ended (the kernels)."""
    import resource

    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def rows() -> list[dict]:
    import papermill

    import hhnb.workflow.papermill_lambda  # noqa: F401
    from hhnb.toy.generate import generate
    from hhnb.workflow import cluster, sweep

    load0, ncpu = os.getloadavg()[0], os.cpu_count() or 1
    home = Path(tempfile.mkdtemp(prefix="hhnb-bench-sweep-"))
    os.environ["HHNB_HOME"] = str(home)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    generate(home / "data", analyses=[ANALYSIS], lambdas=list(LAMBDAS), events=1500, progress=False)
    points = sweep.grid(ANALYSIS, ",".join(f"{kl:g}" for kl in LAMBDAS))

    bare = _import_only_notebook(home / "import_only.ipynb")
    t0 = time.perf_counter()
    papermill.execute_notebook(str(bare), str(home / "import_only.out.ipynb"), kernel_name="python3",
                               progress_bar=False, log_output=False)
    overhead = time.perf_counter() - t0

    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    seq = [sweep.run_point(p, ["train"], str(NOTEBOOKS), str(home), PARAMS, force=True) for p in points]
    sequential = time.perf_counter() - t0
    cores = (_cpu_seconds() - cpu0) / sequential  # this process and its (finished) notebook kernels
    train_compute = sum(r.notebook_seconds["train"] for r in seq) / len(seq) - overhead

    client = cluster.local_client(2)
    try:
        client.submit(sum, [1], pure=False).result()  # workers up before timing
        cpu_par = sum(client.run(_cpu_seconds).values())
        t0 = time.perf_counter()
        par = sweep.sweep(points, ["train"], client, PARAMS, force=True, project=home, progress=False)
        parallel = time.perf_counter() - t0
        cores_par = (sum(client.run(_cpu_seconds).values()) - cpu_par) / parallel
    finally:
        client.cluster.close()
        client.close()
    failed = [r.error for r in seq + par if r.status != "done"]
    if failed:
        raise RuntimeError(f"benchmark sweep points failed: {failed}")
    each = ", ".join(f"{r.notebook_seconds['train']:.1f}" for r in seq)
    return [
        {"benchmark": "sweep: per-notebook overhead (kernel start + import hhnb) vs train.ipynb compute (tiny)",
         "hhnb": round(overhead, 2), "peer": "train.ipynb compute", "reference": round(train_compute, 2), "unit": "s",
         "ratio": round(train_compute / overhead, 2), "goal": "informational: compute / overhead"},
        {"benchmark": f"sweep: {len(points)} train points ({ANALYSIS} kl={','.join(f'{kl:g}' for kl in LAMBDAS)}), "
                      f"one after another (each {each} s) vs 2 Dask workers (wall); CPU obtained {cores_par:.2f} "
                      f"vs {cores:.2f} cores (load average {load0:.1f} before, {os.getloadavg()[0]:.1f} after, "
                      f"{ncpu} cores shared)",
         "hhnb": round(parallel, 1), "peer": "one after another", "reference": round(sequential, 1), "unit": "s",
         "ratio": round(sequential / parallel, 2),
         "goal": f">= 1.7x (needs 1.7 x {cores:.2f} = {1.7 * cores:.2f} cores for hhnb; obtained {cores_par:.2f})",
         "met": sequential / parallel >= 1.7},
    ]


if __name__ == "__main__":
    for row in rows():
        print(row)
