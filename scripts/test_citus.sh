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
trap 'scripts/citus.sh dropdb "$name" || true; scripts/citus.sh stop' EXIT
scripts/citus.sh start
t2=$SECONDS
scripts/citus.sh createdb "$name" >/dev/null
# The superuser: CREATE EXTENSION (even IF NOT EXISTS) in the migrations is checked against
# the extension's owner by Citus, and a test cluster has no other tenant.
url=$(scripts/citus.sh superurl "$name")
FIELDSALES_DATABASE_URL=$url $BIN/fieldsales db upgrade
$BIN/python scripts/citus_distribute.py "$url"
t3=$SECONDS
echo "test-citus: build $((t1 - t0)) s, start $((t2 - t1)) s, database + migrate + distribute $((t3 - t2)) s"
export FIELDSALES_TEST_DATABASE_URL=$url FIELDSALES_DATABASE_URL=$url
set +e
FIELDSALES_DB_DRIVER=${FIELDSALES_DB_DRIVER:-psycopg2} $BIN/python -m pytest "$@"
status=$?
echo "test-citus: pytest exit $status after $((SECONDS - t3)) s"
exit $status
