#!/usr/bin/env bash
# `make run`: the platform on embedded defaults (SQLite, no Slurm needed).
# API on 127.0.0.1:8000, Dagster webserver + daemon on 127.0.0.1:3000. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

mkdir -p var
# Secrets of this machine's dev instance: made once, kept in var/ (never committed).
if [[ ! -f var/secrets.env ]]; then
    umask 077
    {
        echo "export EMG_DJANGO__SECRET_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        echo "export EMG_API__JWT_SECRET=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')"
    } > var/secrets.env
fi
source var/secrets.env
export EMG_DJANGO__DEBUG="${EMG_DJANGO__DEBUG:-true}"
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/var/dagster-home}"
mkdir -p "$DAGSTER_HOME"
[[ -f "$DAGSTER_HOME/dagster.yaml" ]] || cp deployment/dagster/dagster.embedded.yaml "$DAGSTER_HOME/dagster.yaml"

API_HOST=127.0.0.1 API_PORT="${EMG_API_PORT:-8000}" DAGSTER_PORT="${EMG_DAGSTER_PORT:-3000}"

.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py load_demo_data --if-empty

.venv/bin/python manage.py runserver "$API_HOST:$API_PORT" --noreload &
api_pid=$!
trap 'kill $api_pid 2>/dev/null || true' EXIT

log "API:     http://$API_HOST:$API_PORT/api/v2/docs   admin: http://$API_HOST:$API_PORT/admin/"
log "Dagster: http://$API_HOST:$DAGSTER_PORT"
log "a curator account: .venv/bin/python manage.py create_curator --username NAME (password from EMG_CURATOR_PASSWORD)"
# From DAGSTER_HOME: the production dagster.yaml at the repository root is not for this instance.
root=$PWD
cd "$DAGSTER_HOME"
"$root/.venv/bin/dagster" dev -h "$API_HOST" -p "$DAGSTER_PORT" -w "$root/workspace.yaml"
