# liquibase_helpers.bash: the real Liquibase for the Liquibase tests (import_liquibase.bats,
# adopt_liquibase.bats). The npm package node-liquibase 4.3.3 ships Liquibase's jar and the
# PostgreSQL JDBC driver; it is installed when missing into the build tree (build/npm, never
# globally). Java comes from the system (Debian: default-jre-headless).
#
#   liquibase_install    sets LIQUIBASE_SKIP to the reason when Liquibase cannot run here
#   liquibase DB ARG...  run Liquibase in ./src on database DB of the test cluster (TCP)

LIQUIBASE_PREFIX=${LIQUIBASE_PREFIX:-$BATS_TEST_DIRNAME/../../build/npm}
LIQUIBASE_DIST=$LIQUIBASE_PREFIX/node_modules/node-liquibase/dist

liquibase_install() {
    if ! command -v java >/dev/null; then
        export LIQUIBASE_SKIP="java is not installed (Debian package default-jre-headless)"
        return 0
    fi
    if [ ! -f "$LIQUIBASE_DIST/liquibase/liquibase.jar" ]; then
        if ! command -v npm >/dev/null; then
            export LIQUIBASE_SKIP="npm is not installed: cannot install node-liquibase 4.3.3"
            return 0
        fi
        mkdir -p "$LIQUIBASE_PREFIX"
        # Two Liquibase suites may run at once (tests/run-all): one installs, the other waits
        # for it and finds the jar.
        if ! flock "$LIQUIBASE_PREFIX/.install.lock" sh -c \
            '[ -f "$1" ] || npm install --prefix "$2" --no-audit --no-fund node-liquibase@4.3.3' \
            sh "$LIQUIBASE_DIST/liquibase/liquibase.jar" "$LIQUIBASE_PREFIX" \
            >"$BATS_FILE_TMPDIR/npm.log" 2>&1; then
            export LIQUIBASE_SKIP="npm install node-liquibase@4.3.3 failed: $(tail -1 "$BATS_FILE_TMPDIR/npm.log")"
            return 0
        fi
    fi
    [ -f "$LIQUIBASE_DIST/liquibase/liquibase.jar" ] ||
        export LIQUIBASE_SKIP="node-liquibase 4.3.3 has no liquibase.jar"
}

liquibase_db_setup() {
    [ -z "${LIQUIBASE_SKIP:-}" ] || skip "$LIQUIBASE_SKIP"
}

# liquibase DB COMMAND [ARG...] (Liquibase 4.3's command line: update, updateCount N,
# rollbackCount N, ...); output in liquibase.log.
liquibase() {
    local db=$1
    shift
    (cd src && java -cp "$LIQUIBASE_DIST/liquibase/liquibase.jar:$LIQUIBASE_DIST/liquibase/lib/*:$LIQUIBASE_DIST/drivers/postgresql-42.2.8.jar" \
        liquibase.integration.commandline.Main --changeLogFile=changelog.xml \
        --url="jdbc:postgresql://127.0.0.1:$PGPORT/$(dbn "$db")" --username=postgres \
        --logLevel=warning "$@") >liquibase.log 2>&1 ||
        fail "liquibase $* failed: $(cat liquibase.log)"
}
