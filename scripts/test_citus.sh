#!/usr/bin/env bash
# make test-citus: the whole suite on a coordinator + 2 workers (scripts/citus.sh) with every
# tenant table distributed by org_id. Builds Citus once (cached in var/citus), starts the
# cluster, makes a throwaway database on every node, migrates, distributes, runs pytest, stops.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export FIELDSALES_ENV=test
t0=$SECONDS
scripts/citus.sh build
t1=$SECONDS
name="fieldsales_citus_$$"
# Like make test: FIELDSALES_TEST_WORKERS pytest-xdist workers (2; 0: one process), each on a
# database of its own (<name>_gw<i>, tests/conftest.py), migrated and distributed here.
workers=${FIELDSALES_TEST_WORKERS:-2}
dbs=("$name")
for ((i = 0; i < workers; i++)); do dbs+=("${name}_gw$i"); done
trap 'for d in "${dbs[@]}"; do scripts/citus.sh dropdb "$d" || true; done; scripts/citus.sh stop' EXIT
scripts/citus.sh start
t2=$SECONDS
# The superuser: CREATE EXTENSION (even IF NOT EXISTS) in the migrations is checked against
# the extension's owner by Citus, and a test cluster has no other tenant.
prepare() {
  local url
  url=$(scripts/citus.sh superurl "$1")
  FIELDSALES_DATABASE_URL=$url $BIN/fieldsales db upgrade
  $BIN/python scripts/citus_distribute.py "$url"
}
# Created one after the other (CREATE EXTENSION citus at the same time on one node clashes on
# shared catalog rows), then migrated and distributed at the same time (mostly waiting on DDL
# round trips to the workers).
for d in "${dbs[@]}"; do scripts/citus.sh createdb "$d" >/dev/null; done
pids=()
for d in "${dbs[@]}"; do prepare "$d" & pids+=($!); done
for pid in "${pids[@]}"; do wait "$pid" || { echo "test-citus: preparing a database failed" >&2; exit 1; }; done
url=$(scripts/citus.sh superurl "$name")
t3=$SECONDS
echo "test-citus: build $((t1 - t0)) s, start $((t2 - t1)) s, ${#dbs[@]} databases migrated + distributed $((t3 - t2)) s"
export FIELDSALES_TEST_DATABASE_URL=$url FIELDSALES_DATABASE_URL=$url FIELDSALES_CITUS=1
args=()
[ "$workers" -gt 0 ] && args=(-n "$workers" --dist loadfile)
set +e
FIELDSALES_DB_DRIVER=${FIELDSALES_DB_DRIVER:-psycopg2} $BIN/python -m pytest "${args[@]}" "$@"
status=$?
echo "test-citus: pytest exit $status after $((SECONDS - t3)) s"
exit $status
