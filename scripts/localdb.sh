#!/usr/bin/env bash
# The project's own PostgreSQL + PostGIS cluster under var/pg, listening on 127.0.0.1 only.
#   localdb.sh ensure        install PostGIS if needed, init + start the cluster, create the app DB
#   localdb.sh createdb NAME create database NAME (with postgis) owned by the app role; prints its URL
#   localdb.sh dropdb NAME   drop database NAME
#   localdb.sh url [NAME]    print the URL of the app database (or NAME)
#   localdb.sh status        exit 0 when the cluster is running
#   localdb.sh start         start the cluster (initialised if new), nothing else
#   localdb.sh stop          stop the cluster
#   localdb.sh restart       restart the cluster (used by fault tests)
#   localdb.sh replica DIR PORT   copy the cluster into DIR (pg_basebackup -R) and start it as a
#                            streaming hot standby on 127.0.0.1:PORT (socket in DIR), with a
#                            replication slot so the primary keeps the WAL it has not received
#   localdb.sh stop-replica DIR   stop that replica and drop its slot (its files stay for the
#                            caller to remove)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PGROOT=${FIELDSALES_PG_DIR:-$ROOT/var/pg}
PORT=${FIELDSALES_PG_PORT:-54320}
DATA=$PGROOT/data
RUN=$PGROOT/run
LOG=$PGROOT/server.log
APP_ROLE=fieldsales
APP_DB=${FIELDSALES_PG_DB:-fieldsales}

say() { echo "localdb: $*" >&2; }

pg_version() {
  local v
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)
  [ -n "$v" ] || { say "PostgreSQL server is not installed."; need_root_install "postgresql postgresql-contrib"; v=$(ls /usr/lib/postgresql | sort -n | tail -n 1); }
  echo "$v"
}

need_root_install() {
  if [ "$(id -u)" -ne 0 ]; then
    say "install it first (as root), then run this again:"
    echo "  sudo apt-get update && sudo apt-get install -y $1" >&2
    exit 1
  fi
  say "installing $1 (apt-get)"
  # update only when the package is unknown to the local lists
  apt-cache show $1 >/dev/null 2>&1 || apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $1 >/dev/null
}

V=$(pg_version)
BIN=/usr/lib/postgresql/$V/bin

# Run a server-side command as the cluster owner: initdb refuses root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_postgis() {
  [ -f "/usr/share/postgresql/$V/extension/postgis.control" ] || need_root_install "postgresql-$V-postgis-3"
}

psql_super() { PGOPTIONS="-c client_min_messages=warning" as_owner "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN" -p "$PORT" -U postgres "$@"; }

app_password() { cat "$PGROOT/app.pw"; }

url_for() { echo "postgresql://$APP_ROLE:$(app_password)@127.0.0.1:$PORT/$1"; }

running() { [ -f "$DATA/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

init_cluster() {
  [ -f "$DATA/PG_VERSION" ] && return
  say "initialising a new cluster in $DATA"
  mkdir -p "$DATA" "$RUN"
  [ -f "$PGROOT/app.pw" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$PGROOT/app.pw")
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$PGROOT"; chmod 700 "$DATA"; fi
  as_owner "$BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  cat >> "$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$RUN'
max_connections = 200
shared_buffers = 512MB
work_mem = 16MB
fsync = on
synchronous_commit = on
log_min_messages = warning
jit = off
# streaming replicas (localdb.sh replica); initdb's pg_hba already has the replication lines
wal_level = replica
max_wal_senders = 10
max_slot_wal_keep_size = 4GB
CONF
}

start_cluster() {
  running && return
  mkdir -p "$RUN"; [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$RUN"
  say "starting PostgreSQL $V on 127.0.0.1:$PORT"
  as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null
}

ensure_role() {
  psql_super -d postgres -c "DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_ROLE') THEN
      CREATE ROLE $APP_ROLE LOGIN CREATEDB PASSWORD '$(app_password)';
    END IF; END \$\$;"
}

REPL_ROLE=fieldsales_replication

# A role that may only stream the cluster (pg_basebackup over TCP needs a password).
ensure_replication_role() {
  [ -f "$PGROOT/replication.pw" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$PGROOT/replication.pw")
  psql_super -d postgres -c "DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$REPL_ROLE') THEN
      CREATE ROLE $REPL_ROLE LOGIN REPLICATION;
    END IF; END \$\$; ALTER ROLE $REPL_ROLE PASSWORD '$(cat "$PGROOT/replication.pw")';"
}

start_replica() {
  local dir=$1 rport=$2
  ensure_replication_role
  mkdir -p "$dir"; [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"; chmod 700 "$dir"
  # -R writes standby.signal, primary_conninfo and primary_slot_name; -X stream (the default)
  # brings the backup's WAL along, and the slot keeps what follows until the replica has it
  # (without one a busy primary recycles it first and the replica never catches up).
  PGPASSWORD=$(cat "$PGROOT/replication.pw") as_owner "$BIN/pg_basebackup" -R -D "$dir" \
    -h 127.0.0.1 -p "$PORT" -U "$REPL_ROLE" -c fast -C -S "$(slot_of "$dir")"
  # The copied postgresql.conf names the primary's port and socket: the replica gets its own.
  # (max_connections must stay >= the primary's for a hot standby; shared_buffers need not.)
  # It accepts connections once it has replayed the WAL written during the copy: on a busy
  # primary that takes a while.
  as_owner "$BIN/pg_ctl" -D "$dir" -l "$dir/replica.log" -w -t 600 \
    -o "-c port=$rport -c unix_socket_directories='$dir' -c shared_buffers=64MB" start >/dev/null
}

# The replica's slot is named after its folder: stop-replica needs nothing else to drop it.
slot_of() { basename "$1" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_\n' '_' | sed 's/^/replica_/' | cut -c1-63; }

stop_replica() {
  local dir=$1
  if [ -f "$dir/postmaster.pid" ]; then as_owner "$BIN/pg_ctl" -D "$dir" -w -m fast stop >/dev/null; fi
  # A slot left behind would make the primary keep WAL for it (up to max_slot_wal_keep_size).
  # (Its walsender on the primary may take a moment to notice the replica is gone.)
  local slot i
  slot=$(slot_of "$dir")
  for i in $(seq 50); do
    [ -z "$(psql_super -d postgres -tAc "SELECT 1 FROM pg_replication_slots WHERE slot_name = '$slot'")" ] && return
    psql_super -d postgres -tAc "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
      WHERE slot_name = '$slot' AND NOT active" >/dev/null
    sleep 0.2
  done
  say "could not drop replication slot $slot"; exit 1
}

create_db() {
  local name=$1
  if [ -z "$(psql_super -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
    psql_super -d postgres -c "CREATE DATABASE \"$name\" OWNER $APP_ROLE"
  fi
  # PostGIS is not a trusted extension: create it as the superuser.
  psql_super -d "$name" -c "CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE EXTENSION IF NOT EXISTS btree_gist;"
}

case "${1:-}" in
  ensure)
    ensure_postgis; init_cluster; start_cluster; ensure_role; create_db "$APP_DB"; url_for "$APP_DB" ;;
  createdb)
    ensure_postgis; init_cluster; start_cluster; ensure_role; create_db "$2"; url_for "$2" ;;
  dropdb)
    running && psql_super -d postgres -c "DROP DATABASE IF EXISTS \"$2\" WITH (FORCE)" ;;
  url)
    url_for "${2:-$APP_DB}" ;;
  status)
    running ;;
  start)
    ensure_postgis; init_cluster; start_cluster ;;
  stop)
    if running; then as_owner "$BIN/pg_ctl" -D "$DATA" -w -m fast stop >/dev/null; say "stopped"; else say "not running"; fi ;;
  restart)
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -m fast restart >/dev/null ;;
  replica)
    running || { say "the cluster is not running"; exit 1; }
    start_replica "$2" "$3" ;;
  stop-replica)
    stop_replica "$2" ;;
  *)
    echo "usage: $0 ensure|createdb NAME|dropdb NAME|url [NAME]|status|start|stop|restart|replica DIR PORT|stop-replica DIR" >&2; exit 2 ;;
esac
