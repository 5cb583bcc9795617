"""Dask clients for the sweep and apply: a local cluster, a running scheduler, or batch jobs (Slurm, HTCondor).

The batch clusters are dask-jobqueue's: each job runs one Dask worker with the project's own
Python (``sys.executable``), so the workers import the same hhnb and the same libraries as
the command that submitted them. Before any job is queued the job script is checked by the
batch system itself (``sbatch --test-only``), so a rejected option or a controller that is
down is one clear line, not a worker that never comes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from asyncio import CancelledError
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import CancelledError as FutureCancelled
from dataclasses import dataclass, field

from dask.distributed import Client, LocalCluster
from distributed.comm import CommClosedError

from hhnb.errors import ClusterError

KINDS: tuple[str, ...] = ("local", "slurm", "htcondor")
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                "TF_NUM_INTEROP_THREADS")


@dataclass(frozen=True)
class ClusterOptions:
    """What a user sets for batch jobs: one Dask worker per job, ``cores`` threads, ``memory`` each."""

    kind: str = "local"
    jobs: int = 2
    cores: int = 1
    memory: str = "4GB"
    walltime: str = "02:00:00"
    queue: str | None = None
    directives: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    python: str = sys.executable
    log_directory: str | None = None
    workers: int | None = None  # local only
    wait: float = 300.0  # seconds to wait for the first batch worker


def check_kind(kind: str) -> str:
    """``kind`` if it is one of :data:`KINDS`, else a :class:`ClusterError` naming them."""
    if kind not in KINDS:
        raise ClusterError(f"unknown --cluster {kind!r}: expected one of {', '.join(KINDS)}")
    return kind


def parse_env(items: Sequence[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings (``--env``) to a dict.

    >>> parse_env(["HHNB_HOME=/data/hh", "OMP_NUM_THREADS=1"])
    {'HHNB_HOME': '/data/hh', 'OMP_NUM_THREADS': '1'}
    """
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ClusterError(f"--env {item!r}: expected KEY=VALUE, e.g. HHNB_HOME=/data/hh")
        out[key.strip()] = value
    return out


def quiet_logs() -> None:
    """Keep Dask's, papermill's and Jupyter's informational chatter out of the commands' output."""

    prefixes = ("distributed", "papermill", "traitlets", "tornado", "dask_jobqueue")
    for name in [*prefixes, *logging.root.manager.loggerDict]:
        if name.split(".")[0] in prefixes:
            logging.getLogger(name).setLevel(logging.CRITICAL)


def local_client(n_workers: int | None = None):
    """A ``LocalCluster`` client: one single-threaded worker process per core (or ``n_workers``)."""

    quiet_logs()
    n = n_workers or os.cpu_count() or 1
    # each worker gets its share of the cores: TensorFlow and BLAS would otherwise
    # start one thread per core in every worker and the workers would fight over them
    threads = str(max(1, (os.cpu_count() or 1) // n))
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.CRITICAL, env=dict.fromkeys(_THREAD_VARS, threads))
    return Client(cluster)


def connect(address: str, timeout: str = "10s"):
    """A client of an existing scheduler; a clear error (not a hang) when nothing answers."""

    quiet_logs()
    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(
            f"no Dask scheduler answers at {address!r} within {timeout} ({type(exc).__name__}): start one "
            "(dask scheduler; dask worker ADDRESS) or leave out --scheduler to use a local cluster"
        ) from None


def batch_cluster(kind: str, cores: int = 1, memory: str = "4GB", walltime: str = "02:00:00",
                  queue: str | None = None, home: str | None = None, directives: Sequence[str] = (),
                  env: Mapping[str, str] | None = None, python: str | None = None,
                  log_directory: str | None = None):
    """An HTCondor or Slurm cluster (dask-jobqueue) whose jobs each run one worker with this Python."""
    check_kind(kind)
    try:
        import dask_jobqueue  # deferred: optional, the [cluster] extra, only for a batch system
    except ImportError:
        raise ClusterError(f"--cluster {kind} needs dask-jobqueue: pip install 'hhnb[cluster]' "
                           "(in a checkout: pip install -e '.[cluster]')") from None
    variables = {"TF_CPP_MIN_LOG_LEVEL": "3", **dict.fromkeys(_THREAD_VARS, str(cores))}
    if home:
        variables["HHNB_HOME"] = home
    variables.update(env or {})
    prologue = [f"export {k}={_quote(v)}" for k, v in variables.items()]
    common = {"cores": cores, "memory": memory, "processes": 1, "job_script_prologue": prologue,
              "python": python or sys.executable, "job_extra_directives": list(directives),
              "log_directory": log_directory, "silence_logs": logging.CRITICAL,
              "scheduler_options": {"dashboard_address": None}}
    if kind == "htcondor":  # its directives are a submit-description dict: "Key = Value" lines
        common["job_extra_directives"] = dict(_condor_directive(d) for d in directives)
        return dask_jobqueue.HTCondorCluster(disk=memory, **common)
    if kind == "slurm":
        return dask_jobqueue.SLURMCluster(walltime=walltime, queue=queue, **common)
    raise ClusterError(f"--cluster {kind!r} runs locally: it builds no batch cluster")


def _condor_directive(line: str) -> tuple[str, str]:
    """``'+JobFlavour = "long"'`` -> ``('+JobFlavour', '"long"')`` (an HTCondor submit-description line)."""
    key, sep, value = line.partition("=")
    if not sep or not key.strip():
        raise ClusterError(f"--directive {line!r}: an HTCondor directive is 'Key = Value', e.g. +JobFlavour = \"long\"")
    return key.strip(), value.strip()


def _quote(value: str) -> str:
    return shlex.quote(str(value))


def check_submission(kind: str, job_script: str) -> None:
    """Ask the batch system whether it would accept ``job_script``; its own error, in one line, if not."""
    tool = {"slurm": "sbatch", "htcondor": "condor_submit"}[kind]
    if shutil.which(tool) is None:
        raise ClusterError(f"--cluster {kind}: {tool} is not on PATH (is this a {kind} submit host?)")
    if kind != "slurm":
        return  # condor_submit has no side-effect-free check; a rejected job shows up as no worker
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as fh:
        fh.write(job_script)
    try:
        out = subprocess.run([tool, "--test-only", fh.name], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise ClusterError(f"--cluster {kind}: {tool} --test-only did not answer within 60 s") from None
    finally:
        os.unlink(fh.name)
    if out.returncode != 0:
        lines = [ln.strip() for ln in out.stderr.splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit status {out.returncode}"
        raise ClusterError(f"--cluster {kind}: the batch system rejects the job: {why}")


@contextlib.contextmanager
def client_for(options: ClusterOptions, scheduler: str | None = None, home: str | None = None) -> Iterator:
    """A Dask client for ``options`` (or the scheduler at ``scheduler``), closed with its cluster afterwards."""

    check_kind(options.kind)
    if scheduler:
        client, cluster = connect(scheduler), None
    elif options.kind == "local":
        client = local_client(options.workers)
        cluster = client.cluster
    else:
        quiet_logs()
        cluster = batch_cluster(options.kind, options.cores, options.memory, options.walltime, options.queue,
                                home, options.directives, options.env, options.python, options.log_directory)
        try:
            check_submission(options.kind, cluster.job_script())
            cluster.scale(jobs=options.jobs)
            client = Client(cluster)
            try:
                client.wait_for_workers(1, timeout=options.wait)
            except TimeoutError:
                client.close()
                raise ClusterError(f"--cluster {options.kind}: no worker started within {options.wait:.0f} s "
                                   f"(jobs still queued? check {'squeue' if options.kind == 'slurm' else 'condor_q'}"
                                   ")") from None
        except BaseException:
            cluster.close()
            raise
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()


def scheduler_gone(client, exc: BaseException) -> bool:
    """Whether a task's error means the scheduler (not the task) is gone."""

    # nothing here cancels a task: a cancelled one was dropped by a scheduler that went away
    if isinstance(exc, (CommClosedError, OSError, TimeoutError, CancelledError, FutureCancelled)):
        return True
    return client.status not in ("running", "connecting", "newly-created")


def lost_message(client, exc: BaseException, done: int, total: int, what: str) -> str:
    """One line for a lost scheduler: where, after how much, and what to do."""
    address = getattr(client.scheduler, "address", None) or "?"
    return (f"the Dask scheduler at {address} stopped answering ({type(exc).__name__}) after {done} of {total} "
            f"{what}; the outputs written are complete: rerun to do the rest")
