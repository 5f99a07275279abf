#!/usr/bin/env bash
# Start what the test suite needs, run it, stop what this script started.
# Under CI=true a service that cannot be started fails the run (no skipping).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_postgres
export EMG_DATABASE__URL="${EMG_DATABASE__URL:-postgresql://postgres@127.0.0.1:5432/emg}"

# >>> slurm cluster (owned by slurm-dev-environment) >>>
# The real single-node Slurm (+ slurmdbd, munge, MariaDB, sshd) for the `slurm`-marked tests.
# Started unless the Slurm tests are deselected (`-m "not slurm"`) or SLURM_DEV_SKIP=1; a
# cluster that was already up is used and left running; one started here is stopped on exit.
# Under CI=true a cluster that does not come up fails the run.
slurm_dev=slurm-dev-environment/slurm-dev
slurm_started_here=""
if [[ " $* " != *"not slurm"* && "${SLURM_DEV_SKIP:-}" != "1" ]]; then
    if "$slurm_dev" status >/dev/null 2>&1; then
        log "Slurm dev cluster already up: using it"
    elif "$slurm_dev" up; then
        slurm_started_here=1
    elif in_ci; then
        log "FATAL: the Slurm dev cluster did not come up (CI=true: not skipping)"
        exit 1
    else
        log "WARNING: the Slurm dev cluster did not come up: Slurm tests will be skipped"
    fi
    eval "$("$slurm_dev" env)"
fi
stop_slurm_dev() {
    if [[ -n "$slurm_started_here" ]]; then
        "$slurm_dev" down || log "WARNING: slurm-dev down failed; see ${SLURM_DEV_STATE_DIR:-/tmp/emg-slurm-dev}/log"
    fi
}
trap stop_slurm_dev EXIT
# <<< slurm cluster <<<

set +e
.venv/bin/pytest "$@"
status=$?
if [[ $# -eq 0 ]]; then
    # The whole suite also lints, checks the formatting and type-checks (django-stubs imports
    # the settings: debug).
    log "ruff"
    .venv/bin/ruff check . || status=1
    .venv/bin/ruff format --check . || status=1
    log "mypy"
    EMG_DJANGO__DEBUG=true .venv/bin/mypy emg_django emg_assets slurm_resource sensors || status=1
fi
set -e
exit $status
