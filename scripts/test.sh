#!/usr/bin/env bash
# Start what the test suite needs, run it, stop what this script started.
# Under CI=true a service that cannot be started fails the run (no skipping).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_postgres
export EMG_DATABASE__URL="${EMG_DATABASE__URL:-postgresql://postgres@127.0.0.1:5432/emg}"

# >>> slurm cluster (owned by slurm-dev-environment) >>>
# <<< slurm cluster <<<

set +e
.venv/bin/pytest "$@"
status=$?
set -e
exit $status
