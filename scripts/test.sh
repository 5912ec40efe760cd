#!/usr/bin/env bash
# make test: a throwaway database (never the `make run` one), migrations, pytest; dropped after.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export FIELDSALES_ENV=test

if [ -n "${FIELDSALES_TEST_DATABASE_URL:-}" ]; then
  echo "test: using FIELDSALES_TEST_DATABASE_URL as given (it must be a throwaway database)"
else
  name="fieldsales_test_$$"
  made=()
  if [ -n "${FIELDSALES_DATABASE_URL:-}" ]; then
    # An external PostGIS: sibling databases next to the configured one.
    admin_url=$FIELDSALES_DATABASE_URL
    make_db() {
      psql -X -q "$admin_url" -c "CREATE DATABASE \"$1\"" >&2
      local url="${admin_url%/*}/$1"
      psql -X -q "$url" -c "CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE EXTENSION IF NOT EXISTS btree_gist" >&2
      echo "$url"
    }
    drop_db() { psql -X -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)"; }
    trap 'for d in "${made[@]}"; do drop_db "$d"; done' EXIT
  else
    # Stop the cluster afterwards only if this run started it (`make run` may be using it).
    if scripts/localdb.sh status 2>/dev/null; then started=no; else started=yes; fi
    make_db() { scripts/localdb.sh createdb "$1"; }
    drop_db() { scripts/localdb.sh dropdb "$1"; }
    export FIELDSALES_LOCAL_CLUSTER=1  # tests that need more databases may make them here
    trap 'for d in "${made[@]}"; do drop_db "$d"; done; [ "$started" = yes ] && scripts/localdb.sh stop' EXIT
  fi
  FIELDSALES_TEST_DATABASE_URL=$(make_db "$name"); made+=("$name")
  export FIELDSALES_TEST_DATABASE_URL
fi
export FIELDSALES_DATABASE_URL=$FIELDSALES_TEST_DATABASE_URL

# Debian packages some tests need, installed when root (like the cluster's PostgreSQL).
apt_install() {  # package, what for
  echo "test: installing Debian's $1 for $2"
  apt-cache show "$1" >/dev/null 2>&1 || apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null
}
# The map page is tested in a real headless Chromium (tests/browser): Debian's package, driven
# by Playwright (never `playwright install`, which downloads a browser build of its own).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt_install chromium "the browser test"
  else
    echo "test: the browser test needs Chromium at /usr/bin/chromium; install it with:" >&2
    echo "  sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi
# tests/ops/test_pgbouncer.py runs the app through Debian's PgBouncer (transaction mode).
if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
  if [ "$(id -u)" = 0 ]; then
    apt_install pgbouncer "the pooler test"
  else
    echo "test: pgbouncer is not installed, its test is skipped (sudo apt-get install -y pgbouncer)" >&2
  fi
fi
echo "test: ruff (lint + security rules)"
$BIN/ruff check --quiet .

# Two drivers (README "An external PostGIS"): `make test` runs the whole suite on the default,
# psycopg2, then on psycopg 3 every test touching driver-specific SQL: errors, maps SQL, COPY,
# backup and restart, hostile input, and every test firing real threads (run_threads).
# A subset (T naming tests) runs once, on FIELDSALES_DB_DRIVER (default psycopg2).
subset=no
for arg in "$@"; do
  [[ "$arg" != -* && -e "${arg%%::*}" ]] && subset=yes
done
# pytest-xdist workers each need a database of their own (<name>_gw<i>, tests/conftest.py).
worker_dbs() {
  [ -n "${made+x}" ] && [ ${#made[@]} -gt 0 ] || return 0
  for ((i = 0; i < $1; i++)); do
    make_db "${name}_gw$i" >/dev/null; made+=("${name}_gw$i")
  done
}
if [ "$subset" = yes ] || [ -n "${FIELDSALES_DB_DRIVER:-}" ]; then
  prev=
  for arg in "$@"; do  # `T="tests/x -n 2"`: databases for the workers asked for
    [ "$prev" = -n ] && [[ "$arg" =~ ^[0-9]+$ ]] && worker_dbs "$arg"
    [[ "$arg" =~ ^-n([0-9]+)$ ]] && worker_dbs "${BASH_REMATCH[1]}"
    prev=$arg
  done
  echo "test: driver ${FIELDSALES_DB_DRIVER:-psycopg2}"
  $BIN/python -m pytest "$@"
  exit 0
fi
# The two passes run at the same time, each on a database of its own (tests that make more
# databases or clusters name them by process id), so the second costs little wall time.
second_dirs=(tests/maps tests/faults tests/hostile tests/ops)
mapfile -t threaded < <(grep -rl --include='test_*.py' -e run_threads -e 'statements()' tests \
  | sort \
  | grep -v -e '^tests/maps/' -e '^tests/faults/' -e '^tests/hostile/' -e '^tests/ops/' \
            -e '^tests/leads/test_import.py$')
# Pass 1 runs on FIELDSALES_TEST_WORKERS pytest-xdist workers (2; 0: one process), a file per
# worker at a time, each worker on a database of its own (<name>_gw<i>, see tests/conftest.py).
workers=${FIELDSALES_TEST_WORKERS:-2}
first_args=()
if [ -n "${made+x}" ] && [ ${#made[@]} -gt 0 ]; then
  second_url=$(make_db "${name}_psycopg"); made+=("${name}_psycopg")
  if [ "$workers" -gt 0 ]; then
    worker_dbs "$workers"
    first_args=(-n "$workers" --dist loadfile)
  fi
else
  second_url=$FIELDSALES_TEST_DATABASE_URL  # a database given by the caller: one pass at a time
fi
second_log=$(mktemp)
run_second() {
  FIELDSALES_TEST_DATABASE_URL=$second_url FIELDSALES_DATABASE_URL=$second_url \
    FIELDSALES_DB_DRIVER=psycopg $BIN/python -m pytest -p no:cacheprovider "$@" \
    tests/test_driver.py tests/test_errors.py tests/leads/test_import.py "${second_dirs[@]}" \
    "${threaded[@]}"
}
set +e
if [ "$second_url" = "$FIELDSALES_TEST_DATABASE_URL" ]; then
  echo "test: pass 1 of 2, driver psycopg2, the whole suite"
  FIELDSALES_DB_DRIVER=psycopg2 $BIN/python -m pytest "$@"
  first=$?
  echo "test: pass 2 of 2, driver psycopg (psycopg 3), driver-specific SQL and concurrency"
  run_second "$@"
  second=$?
else
  echo "test: pass 2 (driver psycopg 3: driver-specific SQL and concurrency) runs in the" \
       "background; its output follows pass 1's"
  run_second "$@" > "$second_log" 2>&1 &
  second_pid=$!
  echo "test: pass 1 of 2, driver psycopg2, the whole suite (${workers} workers)"
  FIELDSALES_DB_DRIVER=psycopg2 $BIN/python -m pytest "${first_args[@]}" "$@"
  first=$?
  wait $second_pid
  second=$?
  echo "test: pass 2 of 2, driver psycopg (psycopg 3), driver-specific SQL and concurrency"
  cat "$second_log"
fi
rm -f "$second_log"
[ $second = 5 ] && second=0  # `-k` chose none of these: nothing to run on the second driver
echo "test: psycopg2 pass exit $first, psycopg pass exit $second"
[ $first = 0 ] && [ $second = 0 ]
