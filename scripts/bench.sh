#!/usr/bin/env bash
# make bench [BENCH=name]: benchmarks against their own database (never the `make run` one).
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
.venv/bin/python -m bench.run "$@"
