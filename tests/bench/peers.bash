# peers.bash: find or install the tools the bench compares sealift with. Source it, then:
#   peers_setup PEERS_DIR    set ALEMBIC, SQITCH, DBMATE to a command, or leave one empty and
#                            set its *_WHY to the reason it is unavailable (never an error)
#   bench_tools_setup        hyperfine and GNU time, which the bench cannot run without
#   tool_versions FILE       one "tool<TAB>version" line per tool, for BENCHMARKS.md
# Installs use the ordinary clients only: apt-get for Debian packages, npm for dbmate.

# shellcheck disable=SC2034 # the *_WHY variables are read by the script that sources this
ALEMBIC="" ALEMBIC_WHY="" SQITCH="" SQITCH_WHY="" DBMATE="" DBMATE_WHY=""
SQUAWK="" SQUAWK_WHY=""

deb_installed() {
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

# deb_install PKG...: install the missing ones; 1 when that is not possible.
deb_install() {
    local missing=() p sudo=()
    for p in "$@"; do
        deb_installed "$p" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || return 1
        sudo=(sudo)
    fi
    echo "bench: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    local install=("${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}")
    "${install[@]}" >/dev/null 2>&1 ||
        { "${sudo[@]}" apt-get update >/dev/null 2>&1 && "${install[@]}" >/dev/null 2>&1; }
}

bench_tools_setup() {
    deb_install hyperfine time minisign zstd || true
    local t
    for t in hyperfine /usr/bin/time minisign zstd; do
        command -v "$t" >/dev/null 2>&1 || {
            echo "bench: error: $t is missing and could not be installed" >&2
            return 2
        }
    done
}

setup_alembic() {
    deb_install python3-alembic python3-psycopg2 || true
    if [ -x /usr/bin/alembic ] && /usr/bin/python3 -c 'import alembic, psycopg2' 2>/dev/null; then
        ALEMBIC=/usr/bin/alembic
    else
        ALEMBIC_WHY="Debian packages python3-alembic and python3-psycopg2 could not be installed"
    fi
}

setup_sqitch() {
    deb_install sqitch libdbd-pg-perl || true
    if command -v sqitch >/dev/null 2>&1 && perl -MDBD::Pg -e 1 2>/dev/null; then
        SQITCH=$(command -v sqitch)
    else
        SQITCH_WHY="Debian packages sqitch and libdbd-pg-perl could not be installed"
    fi
}

# dbmate comes from the npm registry; its package ships the Go binary per platform, which we
# run directly (the package's own bin is a Node.js wrapper that would add Node's start-up).
setup_dbmate() {
    local dir=$1 bin
    bin=$(find_dbmate "$dir")
    if [ -z "$bin" ] && command -v npm >/dev/null 2>&1; then
        mkdir -p "$dir"
        npm install --silent --no-audit --no-fund --prefix "$dir" dbmate >/dev/null 2>&1 || true
        bin=$(find_dbmate "$dir")
    fi
    if [ -n "$bin" ]; then
        DBMATE=$bin
    elif command -v npm >/dev/null 2>&1; then
        DBMATE_WHY="npm install dbmate failed"
    else
        DBMATE_WHY="npm is not installed"
    fi
}

# squawk (a SQL migration linter) comes from the npm registry too; its package ships the Rust
# binary per platform, run directly for the same reason.
setup_squawk() {
    local dir=$1 bin
    bin=$(find_squawk "$dir")
    if [ -z "$bin" ] && command -v npm >/dev/null 2>&1; then
        mkdir -p "$dir"
        npm install --silent --no-audit --no-fund --prefix "$dir" squawk-cli >/dev/null 2>&1 || true
        bin=$(find_squawk "$dir")
    fi
    if [ -n "$bin" ]; then
        SQUAWK=$bin
    elif command -v npm >/dev/null 2>&1; then
        SQUAWK_WHY="npm install squawk-cli failed"
    else
        SQUAWK_WHY="npm is not installed"
    fi
}

find_squawk() {
    local b
    for b in "$1"/node_modules/@squawk-cli/*/bin/squawk; do
        [ -x "$b" ] && "$b" --version >/dev/null 2>&1 && { echo "$b"; return 0; }
    done
    return 0
}

find_dbmate() {
    local b
    for b in "$1"/node_modules/@dbmate/*/bin/dbmate; do
        [ -x "$b" ] && "$b" --version >/dev/null 2>&1 && { echo "$b"; return 0; }
    done
    return 0
}

peers_setup() {
    setup_alembic
    setup_sqitch
    setup_dbmate "$1"
    setup_squawk "$1"
}

tool_versions() {
    local f=$1
    {
        printf 'sealift\t%s\n' "$("$SEALIFT" --version 2>&1 | head -1)"
        printf 'sealift-apply\t%s\n' "$("$APPLY" --version 2>&1 | head -1)"
        printf 'PostgreSQL server\t%s\n' "$("$PSQL" -X -Atqc 'SHOW server_version' -d postgres)"
        printf 'psql\t%s\n' "$("$PSQL" --version)"
        if [ -n "$ALEMBIC" ]; then
            printf 'Alembic\t%s (SQLAlchemy %s, psycopg2 %s, %s)\n' \
                "$("$ALEMBIC" --version 2>&1 | awk '{print $2}')" \
                "$(/usr/bin/python3 -c 'import sqlalchemy; print(sqlalchemy.__version__)')" \
                "$(/usr/bin/python3 -c 'import psycopg2; print(psycopg2.__version__.split()[0])')" \
                "$(/usr/bin/python3 --version)"
        fi
        [ -n "$SQITCH" ] && printf 'Sqitch\t%s (DBD::Pg %s)\n' "$("$SQITCH" --version)" \
            "$(perl -MDBD::Pg -e 'print $DBD::Pg::VERSION')"
        [ -n "$DBMATE" ] && printf 'dbmate\t%s (npm package)\n' "$("$DBMATE" --version)"
        [ -n "$SQUAWK" ] && printf 'squawk\t%s (npm package squawk-cli)\n' "$("$SQUAWK" --version)"
        printf 'hyperfine\t%s\n' "$(hyperfine --version)"
        printf 'GNU tar\t%s\n' "$(tar --version | head -1)"
        printf 'zstd\t%s\n' "$(zstd --version | sed 's/^\*\** *//; s/ *\**$//')"
        printf 'minisign\t%s\n' "$(minisign -v 2>&1 | head -1)"
        printf 'sha256sum\t%s\n' "$(sha256sum --version | head -1)"
    } >"$f"
}
