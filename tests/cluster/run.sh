#!/usr/bin/env bash
# make test-cluster: a real one-node Slurm up, the cluster tests against it, the jobs' sacct lines, Slurm down.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SLURM_TEST_DIR=${SLURM_TEST_DIR:-/tmp/hhnb-slurm}
export SLURM_CONF=$SLURM_TEST_DIR/slurm.conf
trap 'tests/cluster/slurm-down.sh' EXIT
tests/cluster/slurm-up.sh
start=$(date +%Y-%m-%dT%H:%M:%S)
status=0
HHNB_TEST_SLURM=1 .venv/bin/python -m pytest tests/cluster -p no:randomly -p no:cacheprovider -q -rA -s || status=$?
echo
echo "Slurm jobs of this run (sacct --completion, from the job completion log):"
sacct -c -S "$start" -o JobID,JobName,Partition,NodeList,State,Start,End 2>&1 || true
exit $status
