#!/usr/bin/env bash
# A single-node SLURM cluster and a PostgreSQL-backed MLflow server on loopback, from Debian's packages:
# try the lab path (hydra/launcher=slurm into a shared tracking server) on one machine. Idempotent.
#
#   sudo scripts/local_cluster.sh install   # apt-get: slurm-wlm slurmdbd munge mariadb-server postgresql
#   sudo scripts/local_cluster.sh up        # munge, MariaDB + slurmdbd, slurmctld, slurmd, PostgreSQL, mlflow server
#   source <(scripts/local_cluster.sh env)   # SLURM_CONF and MLFLOW_TRACKING_URI for this shell
#   sudo scripts/local_cluster.sh status | down
#
# Everything listens on 127.0.0.1 only; state lives under $CLUSTER_DIR (default /tmp/adbench-cluster), the
# SLURM config there too (SLURM_CONF), so /etc/slurm is left alone. Needs root (daemons run as root or their
# Debian users). `up` exits 3 with a one-line reason when a daemon cannot start (e.g. no munge in a container).
set -euo pipefail

CLUSTER_DIR=${CLUSTER_DIR:-/tmp/adbench-cluster}
PYTHON=${PYTHON:-$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python}
MLFLOW_PORT=${MLFLOW_PORT:-5055}
PG_VERSION=${PG_VERSION:-15}
PG_DB=${PG_DB:-mlflow} PG_USER=${PG_USER:-mlflow} PG_PASSWORD=${PG_PASSWORD:-mlflow}
CPUS=${CPUS:-$(nproc)}
HOST=$(hostname -s)
export SLURM_CONF=$CLUSTER_DIR/slurm.conf
TRACKING_URI=http://127.0.0.1:$MLFLOW_PORT
BACKEND_URI=postgresql+psycopg2://$PG_USER:$PG_PASSWORD@127.0.0.1:5432/$PG_DB

started() { echo "$1" >>"$CLUSTER_DIR/started"; }  # `down` stops only what `up` started
was_started() { grep -qx "$1" "$CLUSTER_DIR/started" 2>/dev/null; }
die() { echo "local_cluster: $*" >&2; exit 3; }
wait_for() {  # wait_for <seconds> <what> <command...>
    local n=$1 what=$2; shift 2
    for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
    die "$what did not come up within ${n}s (logs in $CLUSTER_DIR/log/)"
}

install() {
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm slurmdbd munge mariadb-server postgresql
}

write_configs() {
    mkdir -p "$CLUSTER_DIR"/{log,spool,state,mlartifacts}
    local mem; mem=$(awk '/MemTotal/ {print int($2/1024) - 1024}' /proc/meminfo)
    cat >"$CLUSTER_DIR/slurm.conf" <<EOF
ClusterName=adbench
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$CLUSTER_DIR/state
SlurmdSpoolDir=$CLUSTER_DIR/spool
SlurmctldPidFile=$CLUSTER_DIR/slurmctld.pid
SlurmdPidFile=$CLUSTER_DIR/slurmd.pid
SlurmctldLogFile=$CLUSTER_DIR/log/slurmctld.log
SlurmdLogFile=$CLUSTER_DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
# scancel/time limit: SIGTERM, then SIGKILL after KillWait seconds
KillWait=10
MinJobAge=60
MaxArraySize=1001
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
    cat >"$CLUSTER_DIR/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=$HOST
DbdAddr=127.0.0.1
SlurmUser=root
PidFile=$CLUSTER_DIR/slurmdbd.pid
LogFile=$CLUSTER_DIR/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$CLUSTER_DIR/slurmdbd.conf"
}

up() {
    [ "$(id -u)" = 0 ] || die "needs root (daemons and their users)"
    command -v slurmctld >/dev/null || die "slurm-wlm is not installed: run '$0 install' first"
    write_configs
    # munge: the SLURM daemons authenticate with it
    if ! pgrep -x munged >/dev/null; then
        [ -f /etc/munge/munge.key ] || (mungekey --create 2>/dev/null || create-munge-key -f)
        mkdir -p /run/munge && chown munge:munge /run/munge
        runuser -u munge -- /usr/sbin/munged || die "munged does not start"
        started munge
    fi
    wait_for 10 munge bash -c 'munge -n | unmunge'
    # MariaDB for slurmdbd (submitit reads job states with sacct)
    if ! mysqladmin ping >/dev/null 2>&1; then
        mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
        (setsid mysqld_safe --bind-address=127.0.0.1 >"$CLUSTER_DIR/log/mariadb.log" 2>&1 &)
        started mariadb
    fi
    wait_for 60 MariaDB mysqladmin ping
    mysql -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
              CREATE DATABASE IF NOT EXISTS slurm_acct_db; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
    pgrep -x slurmdbd >/dev/null || { slurmdbd || die "slurmdbd does not start"; started slurmdbd; }
    wait_for 60 slurmdbd bash -c 'sacctmgr -n show cluster'
    sacctmgr -i -Q add cluster adbench >/dev/null 2>&1 || true
    pgrep -x slurmctld >/dev/null || { slurmctld || die "slurmctld does not start"; started slurmctld; }
    pgrep -x slurmd >/dev/null || { slurmd || die "slurmd does not start"; started slurmd; }
    wait_for 60 "a SLURM node" bash -c "sinfo -h -o %T | grep -qE '^(idle|mixed|allocated)'"
    # PostgreSQL and the MLflow server on it (docs/sweeps.md's recipe, loopback only)
    if ! pg_ctlcluster "$PG_VERSION" main status >/dev/null 2>&1; then
        pg_ctlcluster "$PG_VERSION" main start || die "PostgreSQL $PG_VERSION does not start"
        started postgresql
    fi
    wait_for 30 PostgreSQL runuser -u postgres -- psql -qc 'select 1'
    runuser -u postgres -- psql -qtc "SELECT 1 FROM pg_roles WHERE rolname='$PG_USER'" | grep -q 1 ||
        runuser -u postgres -- psql -qc "CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASSWORD'"
    runuser -u postgres -- psql -qtc "SELECT 1 FROM pg_database WHERE datname='$PG_DB'" | grep -q 1 ||
        runuser -u postgres -- psql -qc "CREATE DATABASE $PG_DB OWNER $PG_USER"
    if ! curl -sf "$TRACKING_URI/health" >/dev/null; then
        (setsid "$PYTHON" -m mlflow server --backend-store-uri "$BACKEND_URI" \
            --artifacts-destination "$CLUSTER_DIR/mlartifacts" --host 127.0.0.1 --port "$MLFLOW_PORT" \
            --allowed-hosts "127.0.0.1:$MLFLOW_PORT,localhost:$MLFLOW_PORT" --workers 1 \
            >"$CLUSTER_DIR/log/mlflow.log" 2>&1 & echo $! >"$CLUSTER_DIR/mlflow.pid")
    fi
    wait_for 120 "mlflow server" curl -sf "$TRACKING_URI/health"
    status
}

down() {
    if [ -f "$CLUSTER_DIR/mlflow.pid" ]; then  # the server's whole process group (uvicorn, huey consumers)
        local pg; pg=$(cat "$CLUSTER_DIR/mlflow.pid")
        kill -TERM -- "-$pg" 2>/dev/null || true
        for _ in $(seq 10); do kill -0 -- "-$pg" 2>/dev/null || break; sleep 1; done
        kill -KILL -- "-$pg" 2>/dev/null || true
        rm -f "$CLUSTER_DIR/mlflow.pid"
    fi
    scancel --user="$(id -un)" 2>/dev/null || true  # this cluster's jobs only (SLURM_CONF)
    for d in slurmd slurmctld slurmdbd; do
        if was_started "$d" && [ -f "$CLUSTER_DIR/$d.pid" ]; then kill "$(cat "$CLUSTER_DIR/$d.pid")" 2>/dev/null || true; fi
    done
    was_started postgresql && { pg_ctlcluster "$PG_VERSION" main stop 2>/dev/null || true; }
    was_started mariadb && { mysqladmin shutdown 2>/dev/null || true; }
    was_started munge && [ -f /run/munge/munged.pid ] && { kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true; }
    rm -f "$CLUSTER_DIR/started"
    echo "local_cluster: stopped (only what 'up' started)"
}

status() {
    sinfo 2>/dev/null | sed 's/^/  /' || echo "  SLURM: down"
    curl -sf "$TRACKING_URI/health" >/dev/null && echo "  mlflow server: $TRACKING_URI (backend $BACKEND_URI)" \
        || echo "  mlflow server: down"
}

env_lines() {
    echo "export SLURM_CONF=$SLURM_CONF"
    echo "export MLFLOW_TRACKING_URI=$TRACKING_URI"
}

case "${1:-}" in
    install) install ;;
    up) up ;;
    down) down ;;
    status) status ;;
    env) env_lines ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
esac
