#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for trying and testing gvc's SLURM sweeps:
#
#   scripts/slurm-local.sh up       install the Debian packages if missing (root), write the configs, start
#                                   munged, MariaDB, slurmdbd (accounting, so `sacct` answers), slurmctld and
#                                   slurmd, and wait until the node runs a job
#   scripts/slurm-local.sh down     stop exactly the daemons `up` started (by their pid files)
#   scripts/slurm-local.sh status   which daemons run, and what sinfo says
#   scripts/slurm-local.sh env      the line to eval in a shell: export SLURM_CONF=...
#
# Everything lives in one scratch folder, $GVC_SLURM_DIR (default /tmp/gvc-slurm-local): configs, state,
# logs (log/*.log), the MariaDB datadir. Job ids and accounting survive down/up; delete the folder to start
# afresh. Needs root (slurmd and munged must run as root/munge) and Debian/Ubuntu's apt for the packages.
set -euo pipefail

DIR=${GVC_SLURM_DIR:-/tmp/gvc-slurm-local}
DB_PORT=${GVC_SLURM_DB_PORT:-36306}
CONF=$DIR/etc/slurm.conf
PACKAGES=(slurmctld slurmd slurm-client slurmdbd munge mariadb-server)
DAEMONS=(munged mariadbd slurmdbd slurmctld slurmd)  # start order; stopped in reverse
export SLURM_CONF=$CONF

die() { echo "slurm-local: $*" >&2; exit 1; }
say() { echo "slurm-local: $*"; }

pidfile() {
  case $1 in
    munged) echo "$DIR/munge/munged.pid" ;;
    mariadbd) echo "$DIR/mysql/mariadbd.pid" ;;
    *) echo "$DIR/run/$1.pid" ;;
  esac
}

# The pid in NAME's pid file if that process is alive and really is NAME (pids get reused).
live_pid() {
  local file pid
  file=$(pidfile "$1")
  [[ -s $file ]] || return 1
  pid=$( { tr -dc 0-9 <"$file"; } 2>/dev/null) || return 1
  [[ -n $pid && -r /proc/$pid/comm ]] || return 1
  [[ $(cat "/proc/$pid/comm") == "$1" ]] || return 1
  [[ $(awk '/^State:/ {print $2}' "/proc/$pid/status") != Z ]] || return 1  # an exited daemon lingers as a zombie
  echo "$pid"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2 i
  shift 2
  for ((i = 0; i < limit * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$what did not happen within ${limit}s; see the logs in $DIR/log/ and $DIR/mysql/"
}

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get here: install SLURM 22+ \
(slurmctld, slurmd, slurmdbd, client tools), munge and MariaDB with your system's package manager"
  say "installing ${missing[*]} (about 15 s)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$DIR/apt.log" 2>&1 \
    || { apt-get update -qq >>"$DIR/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive \
         apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$DIR/apt.log" 2>&1; } \
    || die "apt-get install ${missing[*]} failed; see $DIR/apt.log"
}

write_configs() {
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  # slurmd's own measurement, less headroom: a RealMemory above what slurmd sees drains the node.
  mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
  mem=$((mem > 1024 ? mem - 512 : mem))
  cat >"$CONF" <<EOF
# Written by gvc's scripts/slurm-local.sh: one node, $cpus CPUs, $mem MB.
ClusterName=gvclocal
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$(pidfile slurmctld)
SlurmdPidFile=$(pidfile slurmd)
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
# Impossible requests (more CPUs or memory than the node has) fail at sbatch instead of pending forever.
EnforcePartLimits=ALL
# scancel: SIGKILL follows SIGTERM after 5 s, not 30.
KillWait=5
InactiveLimit=0
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
JobCompType=jobcomp/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  # slurmdbd refuses a config others can read (it holds the database password).
  umask 077
  cat >"$DIR/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=root
PidFile=$(pidfile slurmdbd)
LogFile=$DIR/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=gvc-local
StorageLoc=slurm_acct_db
EOF
  umask 022
}

start_munged() {
  # Slurm's clients talk to munged on its default socket, whatever AuthInfo says: use a munged already
  # serving it (a system one), else start one there.
  if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
  mkdir -p "$DIR/munge" /run/munge
  chown munge: "$DIR/munge" /run/munge
  chmod 0755 /run/munge  # clients of any user talk to the socket
  runuser -u munge -- munged --pid-file="$(pidfile munged)" --log-file="$DIR/munge/munged.log" \
    --seed-file="$DIR/munge/munged.seed" || die "munged did not start; see $DIR/munge/munged.log"
}

start_mariadbd() {
  local sock=$DIR/mysql/mariadbd.sock data=$DIR/mysql/data
  if [[ ! -d $data/mysql ]]; then
    mariadb-install-db --user=root --datadir="$data" --auth-root-authentication-method=socket \
      >"$DIR/log/mariadb-install.log" 2>&1 || die "mariadb-install-db failed; see $DIR/log/mariadb-install.log"
  fi
  mariadbd --no-defaults --user=root --datadir="$data" --socket="$sock" --pid-file="$(pidfile mariadbd)" \
    --bind-address=127.0.0.1 --port="$DB_PORT" --skip-name-resolve --log-error="$DIR/log/mariadbd.log" \
    --innodb-buffer-pool-size=32M >/dev/null 2>&1 &
  wait_for 60 "MariaDB answering on $sock" mariadb --no-defaults --socket="$sock" -e "SELECT 1"
  mariadb --no-defaults --socket="$sock" -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'gvc-local';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;"
}

up() {
  [[ $(id -u) == 0 ]] || die "needs root: slurmd and munged run as root/munge, and the packages may need installing. \
Run it with sudo, or use a real cluster (export SLURM_CONF if its config is not in /etc/slurm)."
  mkdir -p "$DIR"/{etc,state,spool,run,log,mysql}
  install_packages
  if live_pid slurmctld >/dev/null && live_pid slurmd >/dev/null; then
    say "already running"
  else
    write_configs
    live_pid munged >/dev/null || start_munged
    live_pid mariadbd >/dev/null || start_mariadbd
    live_pid slurmdbd >/dev/null || slurmdbd || die "slurmdbd did not start; see $DIR/log/slurmdbd.log"
    wait_for 30 "slurmdbd answering" sacctmgr -i show cluster
    live_pid slurmctld >/dev/null || slurmctld || die "slurmctld did not start; see $DIR/log/slurmctld.log"
    wait_for 30 "slurmctld answering" scontrol ping
    live_pid slurmd >/dev/null || slurmd || die "slurmd did not start; see $DIR/log/slurmd.log"
  fi
  wait_for 30 "the node becoming idle" bash -c '[[ $(sinfo -h -N -o %t) == idle* ]]'
  # The node accepts jobs once the scheduler has run one (its first pass comes a few seconds later).
  timeout 60 srun --quiet --time=1 true || die "a test job did not run; see $DIR/log/slurmctld.log"
  wait_for 30 "accounting (sacct) answering" sacct -n -X
  say "up: $(sinfo -h -o '%P %D node(s) %c CPUs %m MB %t')"
  echo "export SLURM_CONF=$CONF"
}

down() {
  local name pid i stopped=0
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
    name=${DAEMONS[i]}
    pid=$(live_pid "$name") || continue
    kill -TERM "$pid"
    for ((t = 0; t < 150; t++)); do live_pid "$name" >/dev/null || break; sleep 0.2; done
    if live_pid "$name" >/dev/null; then kill -KILL "$pid"; fi
    stopped=$((stopped + 1))
  done
  say "down: stopped $stopped daemon(s); state and logs stay in $DIR"
}

status() {
  local name pid running=0
  for name in "${DAEMONS[@]}"; do
    if pid=$(live_pid "$name"); then echo "$name: running (pid $pid)"; running=$((running + 1))
    else echo "$name: stopped"; fi
  done
  if ((running > 0)) && [[ -f $CONF ]]; then sinfo || true; fi
  echo "export SLURM_CONF=$CONF"
  ((running == ${#DAEMONS[@]}))
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) die "usage: $0 up|down|status|env  (scratch folder: \$GVC_SLURM_DIR, now $DIR)" ;;
esac
