#!/usr/bin/env bash
# Container entrypoint: bring the cluster up, follow its logs, stop it cleanly on SIGTERM.
set -euo pipefail
: "${SLURM_DEV_STATE_DIR:=/state}"
slurm-dev up
slurm-dev env > "$SLURM_DEV_STATE_DIR/env"
trap 'slurm-dev down; exit 0' TERM INT
tail -F "$SLURM_DEV_STATE_DIR"/log/*.log &
wait $!
