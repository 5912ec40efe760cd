#!/usr/bin/env bash
# A Citus cluster on loopback for `make test-citus`: a coordinator and two workers under var/citus.
#   citus.sh build          build Citus from ../shared/vendor (cached in var/citus/build) and install it
#   citus.sh start          init (if new) + start coordinator and workers, register the workers
#   citus.sh createdb NAME  create NAME on every node with citus, postgis, pg_trgm, btree_gist; prints its URL
#   citus.sh dropdb NAME    drop NAME on every node
#   citus.sh url [NAME]     print the coordinator URL of NAME (default fieldsales)
#   citus.sh status         exit 0 when the coordinator is running
#   citus.sh stop           stop every node
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${FIELDSALES_CITUS_DIR:-$ROOT/var/citus}
VERSION=13.2.2
TARBALL=${FIELDSALES_CITUS_TARBALL:-$(cd "$ROOT/.." && pwd)/shared/vendor/citus-$VERSION.tar.gz}
[ -f "$TARBALL" ] || TARBALL=/work/shared/vendor/citus-$VERSION.tar.gz
# Below the kernel's ephemeral range (32768-60999 here), where a client connection's local port
# can make a listening port unbindable at any moment.
BASE_PORT=${FIELDSALES_CITUS_PORT:-25400}
NODES=(coord w1 w2)
APP_ROLE=fieldsales

say() { echo "citus: $*" >&2; }

V=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
BIN=/usr/lib/postgresql/$V/bin
PG_CONFIG=$BIN/pg_config
[ -x "$PG_CONFIG" ] || PG_CONFIG=$(command -v pg_config)

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_of() {  # node name -> port (coordinator first), from the base port chosen at start
  local i base
  base=$(cat "$DIR/port" 2>/dev/null || echo "$BASE_PORT")
  for i in "${!NODES[@]}"; do [ "${NODES[$i]}" = "$1" ] && { echo $((base + i)); return; }; done
  return 1
}

port_free() { [ -z "$(ss -Htan "( sport = :$1 )")" ]; }

# Three free consecutive loopback ports from BASE_PORT up (other clusters share this machine).
pick_ports() {
  local base=$BASE_PORT i
  while :; do
    for i in 0 1 2; do port_free $((base + i)) || { base=$((base + 3)); continue 2; }; done
    echo "$base" > "$DIR/port"; return
  done
}

psql_node() {  # node, psql args...
  local node=$1; shift
  PGOPTIONS="-c client_min_messages=warning" as_owner "$BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h "$DIR/run" -p "$(port_of "$node")" -U postgres "$@"
}

# The server headers must be the installed server's exact version (vendor README).
install_build_deps() {
  [ -f "$($PG_CONFIG --includedir-server)/postgres.h" ] && dpkg -s libzstd-dev liblz4-dev libkrb5-dev libcurl4-openssl-dev >/dev/null 2>&1 && return
  [ "$(id -u)" -eq 0 ] || { say "as root: apt-get install postgresql-server-dev-$V=<server version> libzstd-dev liblz4-dev libkrb5-dev libcurl4-openssl-dev"; exit 1; }
  local ver
  ver=$(dpkg-query -W -f='${Version}' "postgresql-$V")
  say "installing postgresql-server-dev-$V=$ver and build libraries (apt-get)"
  apt-cache show "postgresql-server-dev-$V=$ver" >/dev/null 2>&1 || apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "postgresql-server-dev-$V=$ver" \
    libzstd-dev liblz4-dev libkrb5-dev libcurl4-openssl-dev >/dev/null
}

build() {
  local src=$DIR/build/citus-$VERSION libdir
  libdir=$($PG_CONFIG --pkglibdir)
  if [ -f "$libdir/citus.so" ] && [ -f "$($PG_CONFIG --sharedir)/extension/citus--$VERSION.sql" ] \
     && [ -f "$src/.installed" ]; then
    return  # already built and installed: nothing to do
  fi
  install_build_deps
  if [ ! -f "$src/.built" ]; then
    say "building Citus $VERSION from $TARBALL (about a minute on 2 cores)"
    rm -rf "$src"; mkdir -p "$src"
    tar -xzf "$TARBALL" -C "$src" --strip-components=1
    (cd "$src" && PG_CONFIG="$PG_CONFIG" ./configure --without-libcurl >"$DIR/build/configure.log" 2>&1 \
       && make with_llvm=no -j"$(nproc)" >"$DIR/build/make.log" 2>&1) || { say "build failed: see $DIR/build/*.log"; exit 1; }
    touch "$src/.built"
  fi
  [ "$(id -u)" -eq 0 ] || { say "as root: make -C $src install"; exit 1; }
  make -C "$src" with_llvm=no install >"$DIR/build/install.log" 2>&1
  touch "$src/.installed"
}

running() {  # node
  [ -f "$DIR/$1/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DIR/$1" status >/dev/null 2>&1
}

init_node() {  # node
  local data=$DIR/$1
  [ -f "$data/PG_VERSION" ] && return
  mkdir -p "$data" "$DIR/run"
  [ -f "$DIR/app.pw" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$DIR/app.pw")
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$DIR"; chmod 700 "$data"; fi
  as_owner "$BIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust \
    --auth-host=scram-sha-256 >/dev/null
  cat >> "$data/postgresql.conf" <<CONF
shared_preload_libraries = 'citus'
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR/run'
max_connections = 300
shared_buffers = 128MB
max_prepared_transactions = 200
log_min_messages = warning
jit = off
citus.max_adaptive_executor_pool_size = 4
CONF
}

start() {
  build
  local node
  running coord || running w1 || running w2 || pick_ports
  for node in "${NODES[@]}"; do
    init_node "$node"
    if ! running "$node"; then
      mkdir -p "$DIR/run"; [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DIR/run"
      as_owner "$BIN/pg_ctl" -D "$DIR/$node" -l "$DIR/$node.log" -o "-p $(port_of "$node")" \
        -w -t 60 start >/dev/null
    fi
    # Nodes reach each other over loopback with passwords (pg_dist_authinfo, see create_db).
    psql_node "$node" -d postgres -c "ALTER ROLE postgres PASSWORD '$(cat "$DIR/app.pw")';
      DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_ROLE') THEN
        CREATE ROLE $APP_ROLE LOGIN CREATEDB; END IF; END \$\$;
      ALTER ROLE $APP_ROLE PASSWORD '$(cat "$DIR/app.pw")';"
  done
  say "coordinator 127.0.0.1:$(port_of coord), workers $(port_of w1) $(port_of w2)"
}

create_db() {  # name: on every node, extensions first on workers, then the coordinator registers them
  local name=$1 node
  for node in w1 w2 coord; do
    if [ -z "$(psql_node "$node" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
      psql_node "$node" -d postgres -c "CREATE DATABASE \"$name\""
    fi
    psql_node "$node" -d "$name" -c "CREATE EXTENSION IF NOT EXISTS citus; CREATE EXTENSION IF NOT EXISTS postgis;
      CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE EXTENSION IF NOT EXISTS btree_gist;
      ALTER DATABASE \"$name\" OWNER TO $APP_ROLE; GRANT ALL ON SCHEMA public TO $APP_ROLE;"
  done
  psql_node coord -d "$name" -c "DELETE FROM pg_dist_authinfo;
    INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo) VALUES
      (0, 'postgres', 'password=$(cat "$DIR/app.pw")'), (0, '$APP_ROLE', 'password=$(cat "$DIR/app.pw")');
    SELECT citus_set_coordinator_host('127.0.0.1', $(port_of coord));
    SELECT citus_add_node('127.0.0.1', $(port_of w1)); SELECT citus_add_node('127.0.0.1', $(port_of w2));" >/dev/null
  url_for "$name"
}

url_for() { echo "postgresql://$APP_ROLE:$(cat "$DIR/app.pw")@127.0.0.1:$(port_of coord)/$1"; }

stop() {
  local node
  for node in w2 w1 coord; do
    running "$node" && as_owner "$BIN/pg_ctl" -D "$DIR/$node" -w -m fast stop >/dev/null
  done
  say "stopped"
}

case "${1:-}" in
  build) mkdir -p "$DIR/build"; t0=$SECONDS; build; say "build ready in $((SECONDS - t0)) s" ;;
  start) mkdir -p "$DIR/build"; t0=$SECONDS; start; say "started in $((SECONDS - t0)) s" ;;
  createdb) create_db "$2" ;;
  dropdb) for n in coord w1 w2; do running "$n" && psql_node "$n" -d postgres -c "DROP DATABASE IF EXISTS \"$2\" WITH (FORCE)"; done ;;
  url) url_for "${2:-fieldsales}" ;;
  superurl) echo "postgresql://postgres:$(cat "$DIR/app.pw")@127.0.0.1:$(port_of coord)/${2:-fieldsales}" ;;
  status) running coord ;;
  stop) stop ;;
  *) echo "usage: $0 build|start|createdb NAME|dropdb NAME|url [NAME]|stop" >&2; exit 2 ;;
esac
