# ansible_helpers.bash: a fleet on loopback for the sealift.migrate Ansible collection tests
# (tests/cli/ansible_fleet.bats) and scripts/demo-fleet.
#
# fleet_setup DIR starts, all under DIR:
#   - one PostgreSQL cluster (tests/lib/pg.bash), with one database per host;
#   - an sshd of our own on 127.0.0.1 (a free port, a throwaway host key and client key, its
#     own config, pid file and log; never the system's sshd);
#   - the collection staged with the applier as its binary modules (scripts/ansible-collection);
#   - three hosts: h1 over SSH with Python, h2 over the local connection, h3 over SSH with
#     ansible_python_interpreter pointing nowhere (so any Python module would fail there).
# fleet_teardown stops the sshd (by its pid file) and the cluster.
#
# Packages: ansible-core, openssh-server and yamllint come from Debian; when they are missing
# and we are root, fleet_install installs them (apt-get), otherwise the tests skip saying why.

FLEET_PY=/usr/bin/python3

# fleet_install: make sure ansible-playbook and sshd exist. Prints why not and returns 1.
fleet_install() {
    local missing=()
    command -v ansible-playbook >/dev/null 2>&1 || missing+=(ansible-core)
    [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
    command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
    command -v yamllint >/dev/null 2>&1 || missing+=(yamllint)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "missing ${missing[*]} and cannot install them (not root, or no apt-get)"
        return 1
    fi
    # The package scripts must not start the system's sshd: policy-rc.d says no, if present.
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get update -o DPkg::Lock::Timeout=300 >/dev/null 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null 2>&1 || {
            echo "could not install ${missing[*]} with apt-get"
            return 1
        }
    fi
}

# fleet_sshd DIR: start an sshd on 127.0.0.1 that lets the key DIR/ssh/id_ed25519 log in as
# the current user. Exports FLEET_SSH_PORT and FLEET_SSH_KEY.
fleet_sshd() {
    local d=$1/ssh port
    mkdir -p "$d" && chmod 0700 "$d" || return 1
    ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519" || return 1
    ssh-keygen -q -t ed25519 -N '' -f "$d/id_ed25519" || return 1
    cp "$d/id_ed25519.pub" "$d/authorized_keys"
    port=$(pg_free_port) || return 1
    cat >"$d/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $d/host_ed25519
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
MaxStartups 50:30:100
MaxSessions 50
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
    # sshd needs its privilege separation directory (Debian's package creates it at boot).
    mkdir -p /run/sshd 2>/dev/null || true
    /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log" || {
        cat "$d/sshd.log" >&2
        return 1
    }
    for _ in $(seq 1 50); do
        [ -s "$d/sshd.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    export FLEET_SSH_PORT=$port FLEET_SSH_KEY=$d/id_ed25519 FLEET_SSH_DIR=$d
}

# Stop Ansible's SSH control masters (ControlPersist keeps them, and their sessions on our
# sshd, alive after the runs), then our sshd.
fleet_sshd_stop() {
    local pid sock
    for sock in "${FLEET_DIR:-/nonexistent}"/cp/*; do
        [ -S "$sock" ] && ssh -o ControlPath="$sock" -O exit fleet >/dev/null 2>&1
    done
    [ -n "${FLEET_SSH_DIR:-}" ] && [ -s "$FLEET_SSH_DIR/sshd.pid" ] || return 0
    pid=$(cat "$FLEET_SSH_DIR/sshd.pid")
    kill "$pid" 2>/dev/null || true
    rm -f "$FLEET_SSH_DIR/sshd.pid"
}

# fleet_inventory FILE RELEASE [HOST=BUNDLE...]: the three hosts, each with its database and
# directory; every host gets RELEASE unless a HOST=BUNDLE pair gives it another bundle.
fleet_inventory() {
    local file=$1 release=$2 h over
    shift 2
    {
        echo "all:"
        echo "  vars:"
        echo "    release: $release"
        echo "    pubkeys: [$FLEET_DIR/keys/release.pub]"
        echo "    applier: $FLEET_DIR/stage/ansible_collections/sealift/migrate/plugins/modules/apply"
        echo "    sealift_report_dir: $FLEET_DIR/reports"
        echo "  children:"
        echo "    databases:"
        echo "      hosts:"
        for h in h1 h2 h3; do
            echo "        $h:"
            echo "          sealift_dir: $FLEET_DIR/hosts/$h"
            # h1's conninfo carries a password (trust auth never asks for it): it must never
            # show in any output or report.
            if [ $h = h1 ]; then
                echo "          sealift_db: \"host=$PGHOST port=$PGPORT user=postgres dbname=fleet_$h password=$FLEET_SECRET\""
            else
                echo "          sealift_db: \"host=$PGHOST port=$PGPORT user=postgres dbname=fleet_$h\""
            fi
            case $h in
            h1 | h3)
                echo "          ansible_host: 127.0.0.1"
                echo "          ansible_port: $FLEET_SSH_PORT"
                echo "          ansible_user: $(id -un)"
                echo "          ansible_ssh_private_key_file: $FLEET_SSH_KEY"
                echo "          ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
                ;;
            h2)
                echo "          ansible_connection: local"
                ;;
            esac
            if [ $h = h3 ]; then
                echo "          ansible_python_interpreter: /nonexistent/python3"
            else
                echo "          ansible_python_interpreter: $FLEET_PY"
            fi
            for over in "$@"; do
                if [ "${over%%=*}" = $h ]; then
                    echo "          release: ${over#*=}"
                fi
            done
        done
    } >"$file"
}

# fleet_setup DIR: everything above. Sets FLEET_DIR, FLEET_SECRET, ANSIBLE_* for the runs.
fleet_setup() {
    export FLEET_DIR=$1 FLEET_SECRET=sekrit-fleet-pw-4711
    mkdir -p "$FLEET_DIR"/{keys,hosts,reports,cp,remote-tmp,local-tmp} || return 1
    chmod 0755 "$FLEET_DIR"
    pg_start || return 1
    for h in h1 h2 h3; do
        "$SEALIFT_PG_BIN/createdb" "fleet_$h" || return 1
    done
    fleet_sshd "$FLEET_DIR" || return 1
    SEALIFT_BIN=$SEALIFT_BIN "$SEALIFT_ROOT/scripts/ansible-collection" stage "$FLEET_DIR/stage" ||
        return 1
    "$SEALIFT_BIN/sealift" keygen -W -p "$FLEET_DIR/keys/release.pub" \
        -s "$FLEET_DIR/keys/release.key" >/dev/null || return 1
    cat >"$FLEET_DIR/ansible.cfg" <<EOF
[defaults]
host_key_checking = False
retry_files_enabled = False
forks = 5
nocolor = True
local_tmp = $FLEET_DIR/local-tmp
remote_tmp = $FLEET_DIR/remote-tmp
[ssh_connection]
control_path_dir = $FLEET_DIR/cp
EOF
    export ANSIBLE_CONFIG=$FLEET_DIR/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$FLEET_DIR/stage
    export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_DEPRECATION_WARNINGS=0
}

fleet_teardown() {
    fleet_sshd_stop
    pg_stop
}

# fleet_release DIR OUT MIGRATION...: add the migrations (ID_SLUG=UP_SQL||DOWN_SQL) to the
# chain in DIR and build a signed bundle OUT.
fleet_release() {
    local dir=$1 out=$2 m body
    shift 2
    mkdir -p "$dir" "$(dirname "$out")" || return 1
    for m in "$@"; do
        body=${m#*=}
        printf '%s\n' "${body%%||*}" >"$dir/${m%%=*}.up.sql"
        printf '%s\n' "${body#*||}" >"$dir/${m%%=*}.down.sql"
    done
    "$SEALIFT_BIN/sealift" build -d "$dir" -s "$FLEET_DIR/keys/release.key" -o "$out" \
        --project fleet >/dev/null
}

# fleet_tamper IN OUT: OUT is IN with one byte of its last compressed block flipped.
fleet_tamper() {
    local size
    cp "$1" "$2" && size=$(stat -c %s "$2") &&
        printf '\x5a' | dd of="$2" bs=1 seek=$((size - 40)) conv=notrunc status=none
}

# fleet_revision DB: the migrations applied to DB (ids, comma-separated), or "none".
fleet_revision() {
    "$SEALIFT_PG_BIN/psql" -X -Atq -d "$1" -c \
        "SELECT coalesce(string_agg(migration_id, ',' ORDER BY ordinal), 'none')
           FROM sealift.applied" 2>/dev/null || echo none
}
