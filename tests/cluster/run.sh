#!/usr/bin/env bash
# make test-cluster: a real one-node Slurm up, the cluster tests against it, the jobs' sacct lines, Slurm down.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python  # with the [test,cluster] extras: make test-cluster installs them
if ! "$PY" -c "import dask_jobqueue, pytest" 2>/dev/null; then
    echo "tests/cluster/run.sh: $PY lacks dask-jobqueue or pytest: run make test-cluster (installs .[test,cluster])" >&2
    exit 2
fi
export SLURM_TEST_DIR=${SLURM_TEST_DIR:-/tmp/hhnb-slurm}
export SLURM_CONF=$SLURM_TEST_DIR/slurm.conf
trap 'tests/cluster/slurm-down.sh' EXIT
tests/cluster/slurm-up.sh
start=$(date +%Y-%m-%dT%H:%M:%S)
status=0
HHNB_TEST_SLURM=1 "$PY" -m pytest tests/cluster -p no:randomly -p no:cacheprovider -q -rA -s || status=$?
# the heavy multi-process tests (marker "heavy": Dask workers killed, sweeps, the wheel in a new venv, notebooks in
# fresh projects), kept out of make test for its time
"$PY" -m pytest -n 2 -m heavy tests -p no:cacheprovider -q -rfE || status=$?
echo
echo "Slurm jobs of this run (sacct --completion, from the job completion log):"
sacct -c -S "$start" -o JobID,JobName,Partition,NodeList,State,Start,End 2>&1 || true
exit $status
