"""Run the notebook chain (train -> evaluate -> correlations -> shap) over analyses x lambdas on Dask.

One Dask task per grid point; inside a point the notebooks run one after another with
papermill. A point whose executed notebooks and network files exist is skipped (resume);
a notebook that raises marks only its own point as failed.
"""

from __future__ import annotations

import ast
import contextlib
import os
import time
from asyncio import CancelledError
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import papermill
from dask.distributed import as_completed
from tqdm.auto import tqdm

import hhnb.workflow.papermill_lambda  # noqa: F401 - registers the translator of -p lambda (a keyword)
from hhnb import layout as paths
from hhnb.config import analyses as _config
from hhnb.config import lambdas as _lambdas
from hhnb.errors import SchedulerLost, UserArgumentError
from hhnb.io import record
from hhnb.io.check import require
from hhnb.workflow.cluster import lost_message, scheduler_gone

CHAIN: tuple[str, ...] = ("train", "evaluate", "correlations", "shap")
TRAINS = "train"  # the notebook that writes the network files


@dataclass(frozen=True)
class Point:
    """One grid point: an analysis at one kappa_lambda."""

    analysis: str
    kl: float

    @property
    def tag(self) -> str:
        return _lambdas.tag(self.kl)


@dataclass(frozen=True)
class PointResult:
    """How a point ended: done, skipped (already complete) or failed (with the notebook's own error)."""

    point: Point
    status: str
    seconds: float = 0.0
    error: str | None = None
    failed_notebook: str | None = None
    notebook_seconds: dict[str, float] = field(default_factory=dict)


#: Kernel arguments: the kernel's own log (a TCP-transport notice at start, and "KeyboardInterrupt caught
#: in kernel" when jupyter_client interrupts it before every shutdown) stays out of the sweep's output;
#: errors in cells still reach the executed notebook and the sweep's report.
QUIET_KERNEL = ["--IPKernelApp.log_level=CRITICAL"]


def output_path(project: str | Path, notebook: str, point: Point) -> Path:
    """Where the executed copy of ``notebook`` for ``point`` goes (the older repository's names)."""
    return paths.notebook_copy(project, notebook, point.analysis, point.kl)


def failed_path(path: Path) -> Path:
    """``train.ipynb`` -> ``train.failed.ipynb``: the executed copy of a notebook that raised."""
    return path.with_name(path.stem + ".failed.ipynb")


def grid(analyses: str | Iterable[str], lambdas: str | Iterable[object], config: str | Path | None = None
         ) -> list[Point]:
    """The points of analyses x lambdas; ``all`` means every analysis of the config / the physics grid."""
    cfg = _config.load(config)
    if isinstance(analyses, str):
        names = list(cfg.analyses) if analyses.strip() == "all" else [a.strip() for a in analyses.split(",") if a]
    else:
        names = list(analyses)
    if not names:
        raise UserArgumentError("no analyses given: expected e.g. --analyses resolved,boosted or all")
    for name in names:
        _config.analysis(name, config)  # unknown name: error naming the known ones
    return [Point(a, kl) for a in names for kl in _lambdas.parse_list(lambdas)]


def preflight(points: Iterable[Point], config: str | Path | None = None, data_dir: str | Path | None = None) -> None:
    """Before any notebook runs: every input file of every point opens, with its trees and branches.

    A toy analysis may lack files (its train notebook generates them); an existing file that is
    unreadable is an error for every analysis. Raises the first problem as one line.
    """

    cfg = _config.load(config)
    folder = paths.data_dir(data_dir)
    for point in dict.fromkeys(points):
        ana = cfg.analysis(point.analysis)
        require(ana, folder, point.kl, allow_missing=ana.toy)


def parse_params(items: Iterable[str]) -> dict[str, Any]:
    """``key=value`` strings to notebook parameters; values as Python literals, else strings.

    A key may be scoped to one analysis or point: ``boosted:epochs=2``, ``resolved@m5.0:seed=3``.

    >>> parse_params(["epochs=1", "widths=[32, 32]", "optimizer=adam", "boosted:epochs=2"])
    {'epochs': 1, 'widths': [32, 32], 'optimizer': 'adam', 'boosted:epochs': 2}
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UserArgumentError(f"--param {item!r}: expected key=value, e.g. epochs=2 or boosted:epochs=2")
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            value = text.strip()
        out[key.strip()] = value
    return out


def point_parameters(params: Mapping[str, Any], point: Point) -> dict[str, Any]:
    """The parameters of one point: global keys, then ``analysis:key``, then ``analysis@tag:key`` overrides."""
    out = {k: v for k, v in params.items() if ":" not in k}
    for scope in (point.analysis, f"{point.analysis}@{point.tag}"):
        out.update({k.split(":", 1)[1]: v for k, v in params.items() if k.split(":", 1)[0] == scope and ":" in k})
    out.update({"analysis": point.analysis, "lambda": point.kl})
    return out


def notebook_parameters(path: Path) -> set[str]:
    """The names a notebook's parameters cell declares (``lambda_`` reported as ``lambda``)."""

    return set(papermill.inspect_notebook(str(path)))


def present_notebooks(names: Iterable[str], nbdir: Path) -> tuple[list[str], list[str]]:
    """Split the wanted chain into notebooks that exist in ``nbdir`` and ones that do not."""
    names = list(names)
    have = [n for n in names if (nbdir / f"{n}.ipynb").exists()]
    return have, [n for n in names if n not in have]


def is_complete(point: Point, notebooks: Iterable[str], project: Path, models_dir: Path) -> bool:
    """Every executed notebook of the chain exists and (if the chain trains) the card and scores exist.

    The card, not a model file: a k-fold set has one file per fold and no single-network file.
    """
    notebooks = list(notebooks)
    if not all(output_path(project, n, point).exists() for n in notebooks):
        return False
    if TRAINS in notebooks:
        return (paths.card_path(models_dir, point.analysis, point.kl).exists()
                and paths.scores_path(models_dir, point.analysis, point.kl).exists())
    return True


def run_point(point: Point, notebooks: list[str], nbdir: str, project: str, params: dict[str, Any],
              force: bool = False, home: str | None = None, timeout: int | None = None) -> PointResult:
    """Execute the chain for one point (what one Dask task does); never raises for a notebook error."""
    if home:
        os.environ["HHNB_HOME"] = home
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # executed notebooks keep their plots

    nbdir_p, project_p = Path(nbdir), Path(project)
    models_dir = paths.models_dir(params.get("models_dir")) if params.get("models_dir") else project_p / "models"
    if not force and is_complete(point, notebooks, project_p, models_dir):
        return PointResult(point, "skipped")
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    for name in notebooks:
        src = nbdir_p / f"{name}.ipynb"
        final = output_path(project_p, name, point)
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_name(f".{final.stem}.partial.ipynb")
        declared = notebook_parameters(src)
        given = {k: v for k, v in point_parameters(params, point).items() if k in declared}
        t1 = time.perf_counter()
        try:
            papermill.execute_notebook(str(src), str(partial), parameters=given, kernel_name="python3",
                                       progress_bar=False, log_output=False, cwd=str(nbdir_p),
                                       execution_timeout=timeout, extra_arguments=QUIET_KERNEL)
        except Exception as exc:  # noqa: BLE001 - the point fails, the sweep goes on
            bad = failed_path(final)
            if partial.exists():
                os.replace(partial, bad)
            final.unlink(missing_ok=True)
            ename, evalue = getattr(exc, "ename", type(exc).__name__), getattr(exc, "evalue", str(exc))
            return PointResult(point, "failed", time.perf_counter() - t0, f"{name}: {ename}: {evalue}",
                               str(bad), timings)
        os.replace(partial, final)
        failed_path(final).unlink(missing_ok=True)
        timings[name] = time.perf_counter() - t1
    return PointResult(point, "done", time.perf_counter() - t0, None, None, timings)


def sweep(points: list[Point], notebooks: list[str], client, params: Mapping[str, Any] | None = None,
          force: bool = False, nbdir: str | Path | None = None, project: str | Path | None = None,
          on_result: Callable[[PointResult], None] | None = None, progress: bool = True,
          timeout: int | None = None) -> list[PointResult]:
    """Submit one task per point and collect the results as they finish (in grid order at the end)."""

    project = Path(project or paths.project_dir())
    nbdir = Path(nbdir or paths.notebooks_dir())
    home = str(project)  # the workers' notebooks write into the same project, wherever they start
    futures = {client.submit(run_point, p, list(notebooks), str(nbdir), str(project), dict(params or {}), force,
                             home, timeout, key=f"point-{p.analysis}-{p.tag}-{time.time_ns()}", pure=False): p
               for p in points}
    results: dict[Point, PointResult] = {}

    bar = tqdm(total=len(points), desc="sweep", unit="point") if progress else None
    for fut in as_completed(futures):
        point = futures[fut]
        try:
            res = fut.result()
        except (Exception, CancelledError) as exc:  # noqa: BLE001 - a worker died: the point fails, the others go on
            if scheduler_gone(client, exc):
                raise SchedulerLost(lost_message(client, exc, len(results), len(points), "points")) from None
            res = PointResult(point, "failed", error=f"task error: {type(exc).__name__}: {exc}")
        results[point] = res
        if bar is not None:
            bar.update(1)
        if on_result:
            with tqdm.external_write_mode() if bar is not None else contextlib.nullcontext():
                on_result(res)  # one line per finished point, printed above the bar
    if bar is not None:
        bar.close()
    return [results[p] for p in points]


def results_table(results: list[PointResult], record_path: str | Path | None = None) -> pd.DataFrame:
    """One row per point: status, the latest evaluation in the run record, and the point's wall time."""
    rec = record.read(record_path)
    rec = rec[rec["source"].fillna("") != "search"] if "source" in rec else rec
    rows = []
    for res in results:
        row = {"analysis": res.point.analysis, "lambda": res.point.kl, "status": res.status}
        hit = rec[(rec["analysis"] == res.point.analysis) & ((rec["lambda"] - res.point.kl).abs() < 1e-9)]
        last = hit.iloc[-1] if len(hit) else None
        for col, key in (("AUC", "auc"), ("max significance", "max_significance"), ("nsig", "nsig"),
                         ("nbkg", "nbkg")):
            val = None if last is None else last.get(key)
            row[col] = round(float(val), 4) if val is not None and pd.notna(val) else None
        row["time_s"] = round(res.seconds, 1)
        rows.append(row)
    return pd.DataFrame(rows)
