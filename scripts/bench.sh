#!/usr/bin/env bash
# make bench [BENCH="name ..."] [DRIVER=psycopg2|psycopg|both]: benchmarks against their own
# database (never the `make run` one). Without BENCH and DRIVER: every benchmark on the default
# driver (psycopg2), then the hot paths (bench/run.py HOT) on psycopg 3; both into
# bench/results.json, one row per benchmark and driver. FIELDSALES_BENCH_SCALE=0.05 shrinks the
# data sets and FIELDSALES_BENCH_DURATION_S the throughput phases, to try the harness quickly.
set -euo pipefail
cd "$(dirname "$0")/.."
export FIELDSALES_ENV=development
if [ -z "${FIELDSALES_BENCH_DATABASE_URL:-}" ]; then
  if scripts/localdb.sh status 2>/dev/null; then started=no; else started=yes; fi
  FIELDSALES_BENCH_DATABASE_URL=$(scripts/localdb.sh createdb fieldsales_bench)
  trap '[ "$started" = yes ] && scripts/localdb.sh stop' EXIT
fi
export FIELDSALES_DATABASE_URL=$FIELDSALES_BENCH_DATABASE_URL
.venv/bin/fieldsales db upgrade
started_at=$(date +%s)
case "${DRIVER:-}" in
  "")
    FIELDSALES_DB_DRIVER=psycopg2 .venv/bin/python -m bench.run "$@"
    [ $# -gt 0 ] || FIELDSALES_DB_DRIVER=psycopg .venv/bin/python -m bench.run --hot ;;
  both)
    FIELDSALES_DB_DRIVER=psycopg2 .venv/bin/python -m bench.run "$@"
    FIELDSALES_DB_DRIVER=psycopg .venv/bin/python -m bench.run "${@:---hot}" ;;
  psycopg2|psycopg)
    FIELDSALES_DB_DRIVER=$DRIVER .venv/bin/python -m bench.run "$@" ;;
  *) echo "DRIVER must be psycopg2, psycopg or both, not '$DRIVER'" >&2; exit 2 ;;
esac
echo "[bench] all done in $(( ($(date +%s) - started_at) / 60 )) min; table: .venv/bin/python -m bench.table" >&2
