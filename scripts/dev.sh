#!/usr/bin/env bash
# make db / make run: bootstrap the database (local cluster unless FIELDSALES_DATABASE_URL is
# set), migrate, seed the demo org, then serve with gunicorn in the foreground.
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
  Stop with Ctrl-C; 'make stop' stops the local database cluster.

MSG
exec $BIN/gunicorn -c gunicorn.conf.py wsgi:app
