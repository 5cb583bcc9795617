"""Faults survived on a LocalCluster: killed workers, a lost scheduler, two sweeps at once.

The sweep faults run the real sweep machinery (Dask tasks, papermill, atomic writes, the
SQLite record) on a tiny fake ``train`` notebook that writes a model, card, scores and a
record row the way the real one does, and can hold still inside its model write so that a
kill lands mid-write. The apply faults score real ROOT files with a real (untrained) Keras
network through ``hhnb.nn.apply.apply_file``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
import uproot

from hhnb import layout
from hhnb.io import artifacts, record
from hhnb.workflow import cluster, sweep
from hhnb.workflow.sweep import Point

MODEL_BYTES = b"complete-model " * 64
FAKE_TRAIN = """
import os, time
from pathlib import Path
import pandas as pd
from hhnb import layout
from hhnb.io import artifacts, record
from hhnb.io.atomic import atomic_path
project = Path(os.environ["HHNB_HOME"])
models = project / "models"
first = Path(marker_dir, f"{analysis}-{lambda_}.pid")
with atomic_path(layout.model_path(models, analysis, lambda_)) as tmp:
    tmp.write_bytes(b"half")
    if marker_dir and not first.exists():
        first.write_text(str(os.getppid()))  # the Dask worker process running this kernel
        time.sleep(hold)
    tmp.write_bytes(MODEL)
artifacts.write_card(layout.card_path(models, analysis, lambda_), {"analysis": analysis, "lambda": lambda_})
artifacts.write_scores(layout.scores_path(models, analysis, lambda_), pd.DataFrame({"score": [0.1, 0.9]}))
record.add({"analysis": analysis, "lambda": lambda_, "auc": 0.75, "notes": "fake"}, project / "runs/record.sqlite")
""".replace("MODEL", repr(MODEL_BYTES))
PYTHON = sys.executable
HHNB = [PYTHON, "-m", "hhnb.cli"]


@pytest.fixture
def fake_nbdir(tmp_path):
    """A notebooks folder whose ``train`` is the fake above."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('analysis = "resolved"\nlambda_ = 1.0\nhold = 0.0\nmarker_dir = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(FAKE_TRAIN)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    d = tmp_path / "nbs"
    d.mkdir()
    nbformat.write(nb, d / "train.ipynb")
    return d


def _complete_or_absent(project: Path, points) -> list[str]:
    """Problems with the final-named outputs: each is absent or complete; at most one record row per point."""
    bad = []
    models = project / "models"
    for p in points:
        m = layout.model_path(models, p.analysis, p.kl)
        if m.exists() and m.read_bytes() != MODEL_BYTES:
            bad.append(f"half-written {m.name}")
        c = layout.card_path(models, p.analysis, p.kl)
        if c.exists() and json.loads(c.read_text())["analysis"] != p.analysis:
            bad.append(f"bad card {c.name}")
        s = layout.scores_path(models, p.analysis, p.kl)
        if s.exists() and len(artifacts.read_scores(models, p.analysis, p.kl)) != 2:
            bad.append(f"bad scores {s.name}")
    rec = project / "runs" / "record.sqlite"
    if rec.exists():
        rows = record.read(rec)
        counts = rows.groupby(["analysis", "lambda"]).size()
        bad += [f"{k}: {n} record rows" for k, n in counts.items() if n > 1]
    return bad


class _Watcher(threading.Thread):
    """Checks the outputs every 50 ms while a run goes on; remembers any problem it ever saw."""

    def __init__(self, project: Path, points):
        super().__init__(daemon=True)
        self.project, self.points, self.problems, self.stop = project, points, set(), threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.problems.update(_complete_or_absent(self.project, self.points))
            except (OSError, ValueError):  # a file renamed away between exists() and read: not a problem
                pass
            time.sleep(0.05)


def _wait_for(predicate, timeout: float, what: str):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.mark.slow
@pytest.mark.heavy
def test_worker_killed_during_sweep_point(fake_nbdir, tmp_path, monkeypatch):
    import dask
    import distributed  # noqa: F401 - loads the distributed.* config defaults

    project = tmp_path / "proj"
    monkeypatch.setenv("HHNB_HOME", str(project))
    markers = tmp_path / "markers"
    markers.mkdir()
    points = [Point("resolved", 1.0), Point("boosted", 1.0)]
    params = {"marker_dir": str(markers), "hold": 60.0, "boosted:marker_dir": ""}
    watcher = _Watcher(project, points)
    watcher.start()
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):  # no retry: the point is reported
        client = cluster.local_client(2)
    try:
        seen = []
        done = threading.Event()

        def run():
            seen.extend(sweep.sweep(points, ["train"], client, params, nbdir=fake_nbdir, project=project,
                                    progress=False))
            done.set()

        threading.Thread(target=run, daemon=True).start()
        pid = int(_wait_for(lambda: (markers / "resolved-1.0.pid").exists()
                            and (markers / "resolved-1.0.pid").read_text(), 60, "the point to start"))
        time.sleep(0.5)
        os.kill(pid, signal.SIGKILL)  # the worker dies inside the model write
        assert done.wait(60)
        by_point = {r.point: r for r in seen}
        assert by_point[points[1]].status == "done"
        assert by_point[points[0]].status == "failed"
        assert "KilledWorker" in by_point[points[0]].error
        time.sleep(2)  # the orphaned kernel (if it outlived its worker) would finish its write now
        assert not layout.model_path(project / "models", "resolved", 1.0).exists()
        assert len(record.read(project / "runs/record.sqlite")) == 1

        again = sweep.sweep(points, ["train"], client, params, nbdir=fake_nbdir, project=project, progress=False)
        assert [r.status for r in again] == ["done", "skipped"]
    finally:
        watcher.stop.set()
        watcher.join()
        client.cluster.close()
        client.close()
    assert watcher.problems == set()
    assert _complete_or_absent(project, points) == []
    rows = record.read(project / "runs/record.sqlite")
    assert sorted(zip(rows["analysis"], rows["lambda"])) == [("boosted", 1.0), ("resolved", 1.0)]


# --- apply -----------------------------------------------------------------------------------------------------

TREE = "preselection"


@pytest.fixture(scope="module")
def scoring(tmp_path_factory):
    """An untrained resolved network (scoring cost does not depend on the weights) and 4 ntuples of 60k events."""
    from hhnb.config import analyses as config
    from hhnb.config.training import HyperParameters
    from hhnb.nn.network import build
    from hhnb.nn.saving import save

    root = tmp_path_factory.mktemp("faults-apply")
    ana = config.analysis("resolved")
    rng = np.random.default_rng(7)
    x = rng.normal(100, 30, (500, len(ana.features))).astype(np.float32)
    save(build(x, len(ana.classes), HyperParameters(widths=(16,))), layout.model_path(root / "models", "resolved", 1))
    artifacts.write_card(layout.card_path(root / "models", "resolved", 1), {
        "analysis": "resolved", "lambda": 1.0, "features": list(ana.features), "classes": list(ana.classes),
        "tree": TREE, "event_branch": "eventNumber"})
    (root / "in").mkdir()
    for i in range(4):
        n = 60_000
        cols = {f: rng.normal(100, 30, n).astype(np.float32) for f in ana.features}
        cols["eventNumber"] = np.arange(n, dtype=np.int64)
        with uproot.recreate(root / "in" / f"f{i}.root") as f:
            f.mktree(TREE, {k: v.dtype for k, v in cols.items()})
            f[TREE].extend(cols)
    return root


def _outputs_ok(outdir: Path, n_files: int) -> list[str]:
    problems = []
    for p in sorted(outdir.glob("*_withNNs.root")):
        with uproot.open(p) as f:
            if f[TREE].num_entries != 60_000 or "nnscore_resolved_SlfCoup_1.0_sig" not in f[TREE].keys():
                problems.append(f"incomplete {p.name}")
    return problems


@pytest.mark.slow
@pytest.mark.heavy
def test_worker_killed_during_apply(scoring, tmp_path):
    from hhnb.nn.apply import networks
    from hhnb.workflow import distributed_apply

    nets = networks("resolved", "1.0", scoring / "models")
    out = tmp_path / "out"
    client = cluster.local_client(2)
    try:
        pids = set(client.run(os.getpid).values())
        result: list = []
        th = threading.Thread(target=lambda: result.extend(distributed_apply.apply(
            [scoring / "in" / "*.root"], nets, client, outdir=out, step=2000, progress=False)), daemon=True)
        th.start()
        _wait_for(lambda: list(out.glob(".*.tmp")), 120, "a file being written")
        victim = sorted(pids)[0]
        os.kill(victim, signal.SIGKILL)
        th.join(180)
        assert not th.is_alive()
    finally:
        client.cluster.close()
        client.close()
    # the killed worker's file was retried on the restarted worker: every file written, each complete
    assert [r.status for r in result] == ["written"] * 4
    assert [r.events for r in result] == [60_000] * 4
    assert _outputs_ok(out, 4) == []
    assert sorted(p.name for p in out.iterdir()) == [f"f{i}_withNNs.root" for i in range(4)]  # no temporaries


def _start(cmd: list[str], **kw) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **kw.pop("env", {})}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **kw)


@pytest.mark.slow
@pytest.mark.heavy
def test_scheduler_lost_mid_apply(scoring, tmp_path):
    port = 8700 + os.getpid() % 200
    address = f"tcp://127.0.0.1:{port}"
    sched = _start([PYTHON, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
                    "--dashboard-address", ":0", "--no-show"])
    worker = None
    try:
        time.sleep(3)
        worker = _start([PYTHON, "-m", "distributed.cli.dask_worker", address, "--nworkers", "1", "--nthreads", "1",
                         "--no-dashboard", "--death-timeout", "20"])
        out = tmp_path / "out"
        cmd = _start([*HHNB, "apply", str(scoring / "in" / "*.root"), "--analysis", "resolved", "--lambdas", "1.0",
                      "--models-dir", str(scoring / "models"), "--outdir", str(out), "--step", "2000",
                      "--scheduler", address, "--no-progress"])
        _wait_for(lambda: list(out.glob("*_withNNs.root")), 180, "the first output")
        sched.send_signal(signal.SIGKILL)
        t0 = time.monotonic()
        _, err = cmd.communicate(timeout=120)
        took = time.monotonic() - t0
    finally:
        for proc in (sched, worker):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    print(f"scheduler killed: command ended {took:.1f} s later, exit {cmd.returncode}: {lines}")
    assert cmd.returncode == 2
    assert len(lines) == 1 and lines[0].startswith("hhnb apply: error: the Dask scheduler at")
    assert "rerun" in lines[0]
    assert took < 60
    time.sleep(1)
    assert _outputs_ok(out, 4) == []


@pytest.mark.slow
@pytest.mark.heavy
def test_two_sweeps_at_once_one_refused(fake_nbdir, tmp_path):
    project = tmp_path / "proj"
    env = {"HHNB_HOME": str(project)}
    cmd = [*HHNB, "sweep", "--analyses", "resolved,boosted", "--lambdas", "1", "--notebooks", "train",
           "--notebook-dir", str(fake_nbdir), "--workers", "1", "--no-progress"]
    first, second = _start(cmd, env=env), _start(cmd, env=env)
    outs = [p.communicate(timeout=180) for p in (first, second)]
    codes = sorted([first.returncode, second.returncode])
    errs = [e for p, (_, e) in zip((first, second), outs) if p.returncode == 2]
    print(f"exit codes {codes}; refusal: {errs}")
    assert codes == [0, 2]
    assert errs[0].strip().startswith("hhnb sweep: error: another sweep is running on")
    assert len(errs[0].strip().splitlines()) == 1
    points = [Point("resolved", 1.0), Point("boosted", 1.0)]
    assert _complete_or_absent(project, points) == []
    rows = record.read(project / "runs/record.sqlite")
    assert sorted(zip(rows["analysis"], rows["lambda"])) == [("boosted", 1.0), ("resolved", 1.0)]
