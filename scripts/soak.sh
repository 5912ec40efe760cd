#!/usr/bin/env bash
# make soak: 2 minutes of mixed traffic from 32 clients against a demo database of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
export FIELDSALES_ENV=development
if scripts/localdb.sh status 2>/dev/null; then started=no; else started=yes; fi
FIELDSALES_DATABASE_URL=$(scripts/localdb.sh createdb fieldsales_soak)
export FIELDSALES_DATABASE_URL
trap '[ "$started" = yes ] && scripts/localdb.sh stop' EXIT
.venv/bin/fieldsales db upgrade
.venv/bin/fieldsales seed demo > /dev/null
export FIELDSALES_PHOTO_DIR=${FIELDSALES_PHOTO_DIR:-$PWD/var/soak-photos}
.venv/bin/python -m bench._soak
