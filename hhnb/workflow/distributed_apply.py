"""``hhnb apply`` on Dask: one task per input file, scored by :func:`hhnb.nn.apply.apply_file`.

A file is one task, whatever its size: ``apply_file`` already reads, scores and writes it in
chunks of ``step`` events (flat memory), and one task per file keeps one ``<stem>_withNNs.root``
per input, written to a temporary name and renamed when complete, with no merge step. The
parallelism comes from the number of files (analyses have thousands), not from splitting one.
Finished outputs are skipped before anything is submitted (resume); a worker that dies takes
only its own temporary file with it, and the task is retried on another worker.
"""

from __future__ import annotations

import contextlib
import threading
import time
from asyncio import CancelledError
from collections.abc import Callable, Iterable
from pathlib import Path

import uproot
from dask.distributed import as_completed
from distributed import get_worker
from tqdm.auto import tqdm

from hhnb.errors import SchedulerLost, UserArgumentError
from hhnb.nn import apply as _apply
from hhnb.nn.apply import Applied, Network
from hhnb.workflow.cluster import lost_message, scheduler_gone

TOPIC = "hhnb-apply-progress"


def clear_stale(output: Path) -> list[Path]:
    """Remove the temporaries a killed writer of ``output`` left (``.<name>.*.tmp`` beside it)."""
    gone = []
    for tmp in output.parent.glob(f".{output.name}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            gone.append(tmp)
    return gone


def score_file(path: str, nets: list[Network], output: str, force: bool, step: int,
               trees: str | Iterable[str] | None = None) -> Applied:
    """What one Dask task does: clear a dead attempt's temporary, score the file, report events as they go."""
    report: Callable[[int], None] | None = None
    try:
        worker = get_worker()

        def report(n: int) -> None:
            worker.log_event(TOPIC, {"input": path, "events": int(n)})
    except ValueError:  # not inside a worker (called directly)
        pass
    clear_stale(Path(output))
    return _apply.apply_file(path, nets, output=output, force=force, step=step, progress=report, trees=trees)


def _entries(path: Path, tree: str) -> int:
    try:
        with uproot.open(path) as f:
            return int(f[tree].num_entries)
    except Exception:  # noqa: BLE001 - an unreadable file is reported by its task
        return 0


def apply(files: Iterable[str | Path], nets: list[Network], client, outdir: str | Path | None = None,
          force: bool = False, step: int = _apply.STEP, progress: bool = True,
          on_result: Callable[[Applied], None] | None = None, retries: int = 1,
          trees: str | Iterable[str] | None = None) -> list[Applied]:
    """Score every file on ``client``'s workers; one :class:`Applied` per input, in input order.

    ``trees``: as for :func:`hhnb.nn.apply.apply` (the networks' tree, names or globs, or ``all``).

    Outputs that exist are skipped without a task unless ``force``. A lost scheduler ends the
    run with :class:`SchedulerLost` (the outputs already renamed into place are complete).
    """

    _apply.check_networks(nets)
    paths = _apply.expand(files)
    outputs = [_apply.output_path(p, outdir) for p in paths]
    seen: dict[Path, Path] = {}
    for p, o in zip(paths, outputs):
        if o.resolve() in seen:
            raise UserArgumentError(f"inputs {seen[o.resolve()]} and {p} would both write {o}")
        seen[o.resolve()] = p
    if outdir is not None:
        Path(outdir).mkdir(parents=True, exist_ok=True)
    results: dict[int, Applied] = {}
    todo = []
    for i, (p, o) in enumerate(zip(paths, outputs)):
        if o.exists() and not force:
            results[i] = Applied(p, o, "skipped", error="output exists (use --force to rewrite)")
        else:
            todo.append(i)
    sizes = {i: _entries(paths[i], nets[0].tree) for i in todo}
    bar = tqdm(total=sum(sizes.values()), desc="apply", unit=" ev", unit_scale=True, disable=not progress)
    lock = threading.Lock()
    counted = dict.fromkeys(todo, 0)
    index = {str(paths[i]): i for i in todo}
    n_done = len(results)

    def _postfix() -> None:
        bar.set_postfix_str(f"{n_done}/{len(paths)} files", refresh=False)

    def _on_event(event) -> None:
        _, msg = event
        i = index.get(msg.get("input"))
        if i is None:
            return
        with lock:
            add = min(msg["events"], sizes[i] - counted[i])
            counted[i] += add
            bar.update(add)

    _postfix()
    if progress and todo:
        with contextlib.suppress(Exception):
            client.subscribe_topic(TOPIC, _on_event)
    futures = {client.submit(score_file, str(paths[i]), nets, str(outputs[i]), force, step, trees, pure=False,
                             retries=retries, key=f"apply-{paths[i].name}-{time.time_ns()}"): i for i in todo}
    try:
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                res = fut.result()
            except (Exception, CancelledError) as exc:  # noqa: BLE001
                if scheduler_gone(client, exc):
                    raise SchedulerLost(lost_message(client, exc, n_done, len(paths), "files")) from None
                res = Applied(paths[i], outputs[i], "failed",
                              error=f"file {paths[i]}: task error: {type(exc).__name__}: {exc} (nothing written)")
            results[i] = res
            with lock:
                bar.update(max(0, sizes[i] - counted[i]) if res.status == "written" else 0)
                counted[i] = sizes[i]
                n_done += 1
                _postfix()
            if on_result:
                on_result(res)
    finally:
        with contextlib.suppress(Exception):
            client.unsubscribe_topic(TOPIC)
        bar.close()
    return [results[i] for i in range(len(paths))]
