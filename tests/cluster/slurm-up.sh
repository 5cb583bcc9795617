#!/usr/bin/env bash
# A one-node Slurm on this machine for the cluster tests: controller and compute daemon on localhost,
# one partition "debug" with this machine's CPUs (at most 2). Installs slurm-wlm and munge with apt-get
# when missing (needs root), writes its configuration and state under $SLURM_TEST_DIR, starts munged,
# slurmctld and slurmd with pid files there, and waits until sinfo shows the node idle.
# tests/cluster/slurm-down.sh stops exactly these daemons.
set -euo pipefail
DIR=${SLURM_TEST_DIR:-/tmp/hhnb-slurm}
CPUS=${SLURM_TEST_CPUS:-2}
mkdir -p "$DIR"/{state,spool,log,munge}

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "slurm-up: installing slurm-wlm and munge (apt-get)"
  for i in $(seq 60); do  # another apt-get may hold the lock
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >"$DIR/log/apt.log" 2>&1 && break
    if ! grep -q "Could not get lock\|Unable to locate" "$DIR/log/apt.log"; then cat "$DIR/log/apt.log" >&2; exit 1; fi
    grep -q "Unable to locate" "$DIR/log/apt.log" && apt-get update -qq
    sleep 5
  done
  command -v slurmctld >/dev/null || { echo "slurm-up: slurm-wlm did not install (see $DIR/log/apt.log)" >&2; exit 1; }
fi

# munge: its own key and socket under $DIR (no system service needed)
KEY="$DIR/munge/munge.key"
[ -f "$KEY" ] || { dd if=/dev/urandom of="$KEY" bs=1 count=1024 status=none; chmod 400 "$KEY"; }
SOCK="$DIR/munge/munge.socket"
if ! [ -f "$DIR/munged.pid" ] || ! kill -0 "$(cat "$DIR/munged.pid")" 2>/dev/null; then
  munged --force --key-file="$KEY" --socket="$SOCK" --pid-file="$DIR/munged.pid" \
         --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munge.seed"
fi

HOST=$(hostname -s)
cat >"$DIR/slurm.conf" <<CONF
ClusterName=hhnbtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCK
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=${SLURM_TEST_PORT:-6817}
SlurmdPort=$(( ${SLURM_TEST_PORT:-6817} + 1 ))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=8000 State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$DIR/slurm.conf"

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
running "$DIR/slurmctld.pid" || slurmctld -f "$SLURM_CONF"
running "$DIR/slurmd.pid" || slurmd -f "$SLURM_CONF"

for i in $(seq 60); do
  state=$(sinfo -h -N -o '%t' 2>/dev/null | head -1 || true)
  case "$state" in
    idle|mix|alloc) echo "slurm-up: node $HOST $state (SLURM_CONF=$SLURM_CONF)"; exit 0 ;;
    down*|drain*) scontrol update nodename="$HOST" state=resume 2>/dev/null || true ;;
  esac
  sleep 1
done
echo "slurm-up: the node did not become idle within 60 s; state '${state:-none}'" >&2
tail -5 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
exit 1
