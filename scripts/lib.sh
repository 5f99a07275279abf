# Shared shell helpers of the run and test scripts (sourced, not executed).

in_ci() { [[ "${CI:-}" == "true" ]]; }

log() { printf '[emg] %s\n' "$*" >&2; }

# Postgres on 127.0.0.1:5432 (or the host/port of EMG_DATABASE__URL): start the local cluster
# if it is down. Under CI a Postgres that does not answer fails the run.
ensure_postgres() {
    local host=127.0.0.1 port=5432
    if pg_isready -q -h "$host" -p "$port" 2>/dev/null; then return 0; fi
    log "Postgres is not answering on $host:$port: starting the local cluster"
    local version
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    if [[ -n "$version" ]]; then
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    fi
    for _ in $(seq 1 30); do
        pg_isready -q -h "$host" -p "$port" 2>/dev/null && return 0
        sleep 0.5
    done
    if in_ci; then
        log "FATAL: Postgres did not come up on $host:$port (CI=true: not skipping)"
        exit 1
    fi
    log "WARNING: no Postgres on $host:$port: database tests will be skipped"
}
