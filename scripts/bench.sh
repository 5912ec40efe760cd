#!/usr/bin/env bash
# make bench [BENCH=name]: benchmarks against their own database (never the `make run` one).
set -euo pipefail
cd "$(dirname "$0")/.."
export FIELDSALES_ENV=development
if [ -z "${FIELDSALES_BENCH_DATABASE_URL:-}" ]; then
  FIELDSALES_BENCH_DATABASE_URL=$(scripts/localdb.sh createdb fieldsales_bench)
fi
export FIELDSALES_DATABASE_URL=$FIELDSALES_BENCH_DATABASE_URL
.venv/bin/fieldsales db upgrade
exec .venv/bin/python -m bench.run "$@"
