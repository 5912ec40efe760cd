#!/usr/bin/env bash
# make db / make run: bootstrap the database (local cluster unless FIELDSALES_DATABASE_URL is
# set), migrate, seed the demo org, then serve with gunicorn and a job-queue worker (webhooks).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

if [ -z "${FIELDSALES_DATABASE_URL:-}" ]; then
  FIELDSALES_DATABASE_URL=$(scripts/localdb.sh ensure)
  export FIELDSALES_DATABASE_URL
fi
$BIN/fieldsales db upgrade
[ "${1:-}" = db ] && exit 0

$BIN/fieldsales seed demo
BIND=${FIELDSALES_BIND:-127.0.0.1:8000}
cat <<MSG

  fieldsales is starting on http://$BIND
    API          http://$BIND/api/v1
    API docs     http://$BIND/docs
    OpenAPI      http://$BIND/openapi.json
    Manager map  http://$BIND/map
    Health       http://$BIND/healthz  http://$BIND/readyz  http://$BIND/metrics
  Demo logins are listed above (password for all: see 'fieldsales seed demo' output).
  Webhook deliveries: a job-queue worker ('fieldsales worker') runs beside the server.
  Stop with Ctrl-C; 'make stop' stops the local database cluster.

MSG
# The job-queue worker (webhook deliveries) runs beside gunicorn and stops with it: whichever
# ends first (or Ctrl-C / SIGTERM to this script) stops the other.
$BIN/fieldsales worker --name dev-worker &
worker=$!
$BIN/gunicorn -c gunicorn.conf.py wsgi:app &
web=$!
stop() { kill -TERM "$web" "$worker" 2>/dev/null || true; }
trap 'stop; wait; exit 130' INT TERM
set +e
wait -n "$web" "$worker"
status=$?
stop
wait
exit $status
