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
  if [ -n "${FIELDSALES_DATABASE_URL:-}" ]; then
    # An external PostGIS: create a sibling database next to the configured one.
    admin_url=$FIELDSALES_DATABASE_URL
    psql -X -q "$admin_url" -c "CREATE DATABASE \"$name\""
    FIELDSALES_TEST_DATABASE_URL="${admin_url%/*}/$name"
    psql -X -q "$FIELDSALES_TEST_DATABASE_URL" -c "CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE EXTENSION IF NOT EXISTS btree_gist"
    trap 'psql -X -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"' EXIT
  else
    # Stop the cluster afterwards only if this run started it (`make run` may be using it).
    if scripts/localdb.sh status 2>/dev/null; then started=no; else started=yes; fi
    FIELDSALES_TEST_DATABASE_URL=$(scripts/localdb.sh createdb "$name")
    export FIELDSALES_LOCAL_CLUSTER=1  # tests that need more databases may make them here
    trap 'scripts/localdb.sh dropdb "$name"; [ "$started" = yes ] && scripts/localdb.sh stop' EXIT
  fi
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
if [ "$subset" = yes ] || [ -n "${FIELDSALES_DB_DRIVER:-}" ]; then
  echo "test: driver ${FIELDSALES_DB_DRIVER:-psycopg2}"
  $BIN/python -m pytest "$@"
  exit 0
fi
set +e
echo "test: pass 1 of 2, driver psycopg2, the whole suite"
FIELDSALES_DB_DRIVER=psycopg2 $BIN/python -m pytest "$@"
first=$?
second_dirs=(tests/maps tests/faults tests/hostile tests/ops)
mapfile -t threaded < <(grep -rl --include='test_*.py' -e run_threads -e 'statements()' tests \
  | sort \
  | grep -v -e '^tests/maps/' -e '^tests/faults/' -e '^tests/hostile/' -e '^tests/ops/' \
            -e '^tests/leads/test_import.py$')
echo "test: pass 2 of 2, driver psycopg (psycopg 3), driver-specific SQL and concurrency"
FIELDSALES_DB_DRIVER=psycopg $BIN/python -m pytest "$@" tests/test_driver.py \
  tests/test_errors.py tests/leads/test_import.py "${second_dirs[@]}" "${threaded[@]}"
second=$?
[ $second = 5 ] && second=0  # `-k` chose none of these: nothing to run on the second driver
echo "test: psycopg2 pass exit $first, psycopg pass exit $second"
[ $first = 0 ] && [ $second = 0 ]
