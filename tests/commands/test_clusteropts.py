"""hhnb.commands.clusteropts: the --scheduler/--cluster/job options parsed, their defaults, and ClusterOptions built."""

from __future__ import annotations

import argparse
import sys

import pytest

from hhnb.commands import clusteropts
from hhnb.errors import ClusterError
from hhnb.workflow import cluster


def _parser(cluster_default=None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--jobs", type=int, default=3)  # the caller's own option
    clusteropts.add_arguments(p, cluster_default)
    return p


def test_defaults_are_one_local_core_and_4gb():
    args = _parser().parse_args([])
    assert (args.scheduler, args.cluster, args.cores, args.memory, args.walltime, args.queue) == (
        None, None, 1, "4GB", "02:00:00", None)
    assert (args.directive, args.env, args.log_dir) == ([], [], None)
    assert _parser("local").parse_args([]).cluster == "local"
    opts = clusteropts.options(args)
    assert opts == cluster.ClusterOptions(kind="local", jobs=3, env={}, workers=None)
    assert opts.python == sys.executable


def test_every_option_reaches_cluster_options():
    args = _parser().parse_args(["--cluster", "slurm", "--cores", "4", "--memory", "8GB", "--walltime", "00:10:00",
                                 "--queue", "short", "--directive=--account=hh", "--directive=--qos=low",
                                 "--env", "A=1", "--env", "B=x=y", "--log-dir", "/tmp/logs", "--jobs", "5"])
    opts = clusteropts.options(args, workers=7)
    assert (opts.kind, opts.jobs, opts.cores, opts.memory, opts.walltime, opts.queue) == (
        "slurm", 5, 4, "8GB", "00:10:00", "short")
    assert opts.directives == ("--account=hh", "--qos=low") and opts.env == {"A": "1", "B": "x=y"}
    assert (opts.log_directory, opts.workers) == ("/tmp/logs", 7)


def test_bad_kind_and_bad_env_fail_in_one_line():
    with pytest.raises(ClusterError, match=r"^unknown --cluster 'pbs': expected one of local, slurm, htcondor$"):
        clusteropts.options(_parser().parse_args(["--cluster", "pbs"]))
    with pytest.raises(ValueError, match="--env 'NOVALUE': expected KEY=VALUE"):
        clusteropts.options(_parser().parse_args(["--env", "NOVALUE"]))


def test_sweep_uses_the_extra_options_only():
    """``hhnb sweep`` spells its own --cores/--memory: add_extra_arguments adds the three others and nothing else."""
    p = argparse.ArgumentParser()
    clusteropts.add_extra_arguments(p)
    assert {a.dest for a in p._actions} - {"help"} == {"directive", "env", "log_dir"}
    p = argparse.ArgumentParser()
    clusteropts.add_job_arguments(p)
    assert {a.dest for a in p._actions} - {"help"} == {"cores", "memory", "walltime", "queue", "directive", "env",
                                                       "log_dir"}
