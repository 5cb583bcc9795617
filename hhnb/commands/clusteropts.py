"""The options that say where Dask work runs (``--scheduler``, ``--cluster`` and the batch-job options)."""

from __future__ import annotations

import argparse

from hhnb.workflow import cluster


def add_arguments(p: argparse.ArgumentParser, cluster_default: str | None = None) -> None:
    """``--scheduler``, ``--cluster`` and the per-job options a batch user sets (``--jobs`` is the caller's)."""
    p.add_argument("--scheduler", default=None, help="address of a running Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--cluster", default=cluster_default, metavar="{local,slurm,htcondor}",
                   help="run on Dask: local processes, Slurm or HTCondor jobs (one Dask worker per job)")
    add_job_arguments(p)


def add_job_arguments(p: argparse.ArgumentParser) -> None:
    """Per batch job: cores, memory, wall time, queue, extra directives, environment, log folder."""
    p.add_argument("--cores", type=int, default=1, help="cores per batch job (default 1)")
    p.add_argument("--memory", default="4GB", help="memory per batch job (default 4GB)")
    p.add_argument("--walltime", default="02:00:00", help="Slurm wall time per job (default 02:00:00)")
    p.add_argument("--queue", default=None, help="Slurm partition")
    add_extra_arguments(p)


def add_extra_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--directive", action="append", default=[], metavar="LINE",
                   help="extra job directive, repeatable: '--account=hh' (#SBATCH) or '+JobFlavour=\"long\"'")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="environment variable exported in each batch job, repeatable")
    p.add_argument("--log-dir", default=None, help="folder for the batch jobs' own logs (default: none kept)")


def options(args: argparse.Namespace, workers: int | None = None):
    """A :class:`hhnb.workflow.cluster.ClusterOptions` from parsed arguments."""

    kind = cluster.check_kind(args.cluster or "local")
    return cluster.ClusterOptions(kind=kind, jobs=args.jobs, cores=args.cores, memory=args.memory,
                                  walltime=args.walltime, queue=args.queue, directives=tuple(args.directive),
                                  env=cluster.parse_env(args.env), log_directory=args.log_dir, workers=workers)
