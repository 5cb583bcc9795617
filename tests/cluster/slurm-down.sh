#!/usr/bin/env bash
# Stop the daemons tests/cluster/slurm-up.sh started (their pid files under $SLURM_TEST_DIR), nothing else.
set -uo pipefail
DIR=${SLURM_TEST_DIR:-/tmp/hhnb-slurm}
for name in slurmd slurmctld munged; do
  pidfile="$DIR/$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for i in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "slurm-down: stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
done
