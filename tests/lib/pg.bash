# pg.bash: a throwaway PostgreSQL cluster for tests and the demo. Source it, then:
#   pg_start [tcp]   initdb + pg_ctl start in a fresh temp dir; exports PGHOST (the socket dir),
#                    PGPORT, PGUSER, PGDATABASE, SEALIFT_PG_DIR, SEALIFT_PG_BIN. With "tcp" the
#                    server also listens on 127.0.0.1:PGPORT.
#   pg_stop          stop it (immediate) and remove the directory. Safe to call twice.
#   pg_run CMD...    run a server binary (initdb, pg_ctl) as the cluster's owner.
# initdb refuses to run as root, so as root the cluster belongs to the "postgres" user.
# Only a server this file started is ever used or stopped.

SEALIFT_PG_BIN=${SEALIFT_PG_BIN:-$(pg_config --bindir 2>/dev/null)}
[ -x "$SEALIFT_PG_BIN/initdb" ] || SEALIFT_PG_BIN=/usr/lib/postgresql/15/bin

pg_run() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

pg_start() {
    local listen="''" dir port
    [ "${1:-}" = tcp ] && listen=127.0.0.1
    if [ ! -x "$SEALIFT_PG_BIN/initdb" ]; then
        echo "pg_start: PostgreSQL server binaries not found (install postgresql-15)" >&2
        return 1
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/sealift-pg.XXXXXX") || return 1
    chmod 0755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    port=$(pg_free_port) || return 1
    pg_run "$SEALIFT_PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        return 1
    }
    pg_run "$SEALIFT_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -p $port -c listen_addresses=$listen -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${SEALIFT_PG_OPTS:-}" \
        start >/dev/null || {
        cat "$dir/server.log" >&2
        rm -rf "$dir"
        return 1
    }
    export SEALIFT_PG_DIR=$dir PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
    unset PGPASSWORD PGSERVICE DATABASE_URL
}

pg_stop() {
    [ -n "${SEALIFT_PG_DIR:-}" ] && [ -d "$SEALIFT_PG_DIR/data" ] || return 0
    pg_run "$SEALIFT_PG_BIN/pg_ctl" -D "$SEALIFT_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$SEALIFT_PG_DIR"
    unset SEALIFT_PG_DIR
}

# Restart the running cluster (kept: same dir, port and data). Mode: fast or immediate.
pg_restart() {
    pg_run "$SEALIFT_PG_BIN/pg_ctl" -D "$SEALIFT_PG_DIR/data" -m "${1:-fast}" -w -t 60 restart \
        >/dev/null
}
