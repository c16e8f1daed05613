#!/bin/bash
# A one-node Slurm on loopback, for testing `ggep submit` without a cluster.
#
#   scripts/slurm-local.sh start    install slurm-wlm + munge if missing, configure, start, wait for the node
#   scripts/slurm-local.sh stop     stop slurmd, slurmctld and munged (by the PIDs in their pid files)
#   scripts/slurm-local.sh status   which daemons run, and sinfo
#
# Idempotent: `start` leaves running daemons alone, `stop` does nothing when nothing runs.
# Needs root (sudo is used when not root). Debian 12's Slurm 22.05; the settings are those of
# a real one-node Slurm (docs/cluster.md). It overwrites /etc/slurm/slurm.conf.
set -euo pipefail

SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
HOST=$(hostname -s)
CPUS=${SLURM_LOCAL_CPUS:-$(nproc)}
CONF=/etc/slurm/slurm.conf
MUNGE_PID=/run/munge/munged.pid
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid

log() { echo "slurm-local: $*"; }

# Running PID from a pid file, or nothing.
running_pid() {
  local file=$1 pid
  [ -r "$file" ] || return 0
  pid=$(cat "$file" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid" || true
}

install_packages() {
  local missing=()
  for p in slurm-wlm munge; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # apt-get update only when the install needs it (no package lists, or stale ones).
  if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

write_config() {
  local tmp
  tmp=$(mktemp)
  cat > "$tmp" <<EOF
# Written by ggep's scripts/slurm-local.sh: a one-node cluster on loopback.
ClusterName=ggep-local
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
MinJobAge=300
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=20000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  $SUDO mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  if ! cmp -s "$tmp" "$CONF" 2>/dev/null; then
    $SUDO cp "$tmp" "$CONF"
    $SUDO chmod 644 "$CONF"
    log "wrote $CONF"
  fi
  rm -f "$tmp"
}

start_munge() {
  if [ -n "$(running_pid $MUNGE_PID)" ]; then return 0; fi
  $SUDO mkdir -p /etc/munge /run/munge /var/log/munge /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then
    $SUDO mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null || $SUDO mungekey --create
  fi
  $SUDO chown munge:munge /etc/munge /etc/munge/munge.key /run/munge /var/log/munge /var/lib/munge
  $SUDO chmod 0400 /etc/munge/munge.key
  $SUDO chmod 0700 /etc/munge /var/log/munge /var/lib/munge
  $SUDO chmod 0755 /run/munge
  $SUDO su -s /bin/sh munge -c "/usr/sbin/munged --pid-file=$MUNGE_PID"
  for _ in $(seq 50); do [ -n "$(running_pid $MUNGE_PID)" ] && break; sleep 0.1; done
  [ -n "$(running_pid $MUNGE_PID)" ] || { log "munged did not start (see /var/log/munge/munged.log)"; exit 1; }
  log "munged started (pid $(running_pid $MUNGE_PID))"
}

start_daemon() {
  local name=$1 pidfile=$2
  if [ -n "$(running_pid "$pidfile")" ]; then return 0; fi
  $SUDO "/usr/sbin/$name"
  for _ in $(seq 50); do [ -n "$(running_pid "$pidfile")" ] && break; sleep 0.1; done
  [ -n "$(running_pid "$pidfile")" ] || { log "$name did not start (see /var/log/slurm/$name.log)"; exit 1; }
  log "$name started (pid $(running_pid "$pidfile"))"
}

wait_for_node() {
  local state=""
  for _ in $(seq 60); do
    state=$(sinfo -h -N -n "$HOST" -o %T 2>/dev/null | head -1 || true)
    case "$state" in
      idle|mixed|allocated|completing) log "node $HOST $state; partition debug ready"; return 0 ;;
      down*|drain*|fail*) $SUDO scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
  done
  log "node $HOST not ready (state: ${state:-unknown}); see /var/log/slurm/"
  exit 1
}

stop_daemon() {
  local name=$1 pidfile=$2 pid
  pid=$(running_pid "$pidfile")
  [ -n "$pid" ] || return 0
  $SUDO kill "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then $SUDO kill -9 "$pid" 2>/dev/null || true; fi
  log "$name stopped (pid $pid)"
}

case "${1:-}" in
  start)
    install_packages
    write_config
    start_munge
    start_daemon slurmctld $CTLD_PID
    start_daemon slurmd $SLURMD_PID
    wait_for_node
    ;;
  stop)
    stop_daemon slurmd $SLURMD_PID
    stop_daemon slurmctld $CTLD_PID
    stop_daemon munged $MUNGE_PID
    ;;
  status)
    for d in "munged $MUNGE_PID" "slurmctld $CTLD_PID" "slurmd $SLURMD_PID"; do
      set -- $d
      pid=$(running_pid "$2")
      if [ -n "$pid" ]; then echo "$1: running (pid $pid)"; else echo "$1: stopped"; fi
    done
    if [ -n "$(running_pid $CTLD_PID)" ]; then sinfo; fi
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
