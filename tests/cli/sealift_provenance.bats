#!/usr/bin/env bats
# sealift build --provenance: an in-toto Statement (v1) with a SLSA provenance v1 predicate,
# a member the manifest lists (so the signatures cover it), checked field by field with jq:
# subjects are the manifest's other members, placeholders appear as names and SHA-256s of their
# values (never the values), the source commit comes from git when the directory is in a work
# tree, the compiler from its own binary; a build with SOURCE_DATE_EPOCH stays reproducible.

bats_require_minimum_version 1.5.0

load helpers

# The secret placeholder value, which must never appear in the provenance.
SECRET='s3cr3t-placeholder-value'

setup() {
    sealift_setup
    command -v jq >/dev/null || fail "jq is required (Debian package jq)"
    make_keypair release
    add_migration migrations "$V1" \
        'CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL DEFAULT ${default_name});' \
        'DROP TABLE users;'
    add_migration migrations "$V2" \
        'ALTER TABLE users ADD COLUMN email text;' \
        'ALTER TABLE users DROP COLUMN email;'
    printf 'default_name=%s\nschema.owner=app\n' "'$SECRET'" >vars.env
}

# prov OUT [BUILD_OPTION...]: build with --provenance and the placeholders; the statement in
# OUT.json.
prov() {
    local out=$1
    shift
    must "$SEALIFT" build -d migrations -s release.key -o "$out" --project demo --serial 7 \
        --env production --env-file vars.env --provenance "$@"
    tar -xOf "$out" provenance.intoto.json >"$out.json" || fail "no provenance member in $out"
}

# jq_ok FILE FILTER [JQ_OPTION...]: the filter must be true of FILE.
jq_ok() {
    local file=$1 filter=$2
    shift 2
    jq -e "$@" "$filter" "$file" >/dev/null || fail "jq: $filter is not true of $file: $(cat "$file")"
}

@test "build --provenance: a listed, signed member; the Statement's fields, checked with jq" {
    git init -q src && mv migrations vars.env src/ &&
        git -C src -c user.name=t -c user.email=t@t add -A &&
        git -C src -c user.name=t -c user.email=t@t commit -qm init || fail "git setup"
    cp release.key src/
    cd src
    SOURCE_DATE_EPOCH=1700000000 prov b.sealift
    commit=$(git rev-parse HEAD)

    # Listed in the manifest (so signed), last in the archive, and sha256sum accepts it.
    tar -xOf b.sealift MANIFEST >MANIFEST
    grep -qx '# provenance provenance.intoto.json' MANIFEST || fail "no provenance record"
    assert_equal "$(tar -tf b.sealift | tail -1)" provenance.intoto.json
    mkdir x && tar -xf b.sealift -C x && (cd x && sha256sum --strict -c MANIFEST >/dev/null) ||
        fail "sha256sum -c fails"

    f=b.sealift.json
    jq_ok "$f" '._type == "https://in-toto.io/Statement/v1"'
    jq_ok "$f" '.predicateType == "https://slsa.dev/provenance/v1"'
    # Subjects: every other member of the manifest, with its SHA-256, in manifest order.
    subjects=$(jq -r '.subject[] | "\(.digest.sha256)  \(.name)"' "$f")
    members=$(grep -E '^[0-9a-f]{64}  ' MANIFEST | grep -v ' provenance.intoto.json$')
    assert_equal "$subjects" "$members"
    assert_equal "$(jq '.subject | length' "$f")" 4
    jq_ok "$f" '.predicate.buildDefinition.buildType == "urn:sealift:build-type:bundle:v1"'
    jq_ok "$f" '.predicate.buildDefinition.externalParameters | .project == "demo"
        and .environment == "production" and .serial == 7
        and .formats == {"source": "native", "compression": "zstd"}'
    # Placeholders: names, and the SHA-256 of each value; the values nowhere.
    h1=$(printf '%s' "'$SECRET'" | sha256sum | cut -d' ' -f1)
    h2=$(printf '%s' app | sha256sum | cut -d' ' -f1)
    jq_ok "$f" '.predicate.buildDefinition.externalParameters.placeholders ==
        {"default_name": {"sha256": $h1}, "schema.owner": {"sha256": $h2}}' \
        --arg h1 "$h1" --arg h2 "$h2"
    run grep -c "$SECRET" "$f"
    assert_output 0
    # Resolved dependencies: the source commit, and this compiler's binary.
    jq_ok "$f" '.predicate.buildDefinition.resolvedDependencies[0] == {"name": "source",
        "digest": {"gitCommit": $c}, "annotations": {"path": "migrations/", "uncommittedChanges": false}}' \
        --arg c "$commit"
    bin=$(sha256sum <"$SEALIFT" | cut -d' ' -f1)
    jq_ok "$f" '.predicate.buildDefinition.resolvedDependencies[1] == {"name": "compiler",
        "uri": "pkg:generic/sealift@0.1.0", "digest": {"sha256": $b},
        "annotations": {"version": "sealift/0.1.0"}}' --arg b "$bin"
    jq_ok "$f" '.predicate.runDetails == {"builder": {"id": "urn:sealift:builder:local",
        "version": {"sealift": "0.1.0"}}, "metadata": {"startedOn": "2023-11-14T22:13:20Z"}}'

    # The applier verifies the bundle (the member is checked like any other).
    run --separate-stderr "$SEALIFT_BIN/sealift-apply" verify b.sealift -p ../release.pub
    assert_success
}

@test "provenance keeps builds reproducible: no clock without SOURCE_DATE_EPOCH, same bytes with it" {
    export SOURCE_DATE_EPOCH=1700000000
    prov a.sealift
    prov b.sealift
    cmp a.sealift b.sealift || fail "two builds of the same inputs differ"
    unset SOURCE_DATE_EPOCH
    prov c.sealift
    jq_ok c.sealift.json '.predicate.runDetails | has("metadata") | not'
    run grep -cE '[0-9]{4}-[0-9]{2}-[0-9]{2}T' c.sealift.json
    assert_output 0
    # Without --provenance the bundle has no such member and no such record.
    must "$SEALIFT" build -d migrations -s release.key -o plain.sealift --project demo \
        --env-file vars.env
    run tar -tf plain.sealift
    refute_output --partial provenance
    run bash -c 'tar -xOf plain.sealift MANIFEST | grep -c "^# provenance"'
    assert_output 0
}

@test "no git work tree, no git on PATH, uncommitted changes: the source is said as it is" {
    # Not a work tree: no source dependency, only the compiler.
    prov a.sealift
    jq_ok a.sealift.json '[.predicate.buildDefinition.resolvedDependencies[].name] == ["compiler"]'
    # git missing from PATH: the same, and the build still works.
    git init -q . && git -c user.name=t -c user.email=t@t add -A &&
        git -c user.name=t -c user.email=t@t commit -qm init || fail "git setup"
    mkdir nogit && for t in tar zstd; do ln -s "$(command -v $t)" nogit/; done
    PATH=$PWD/nogit prov b.sealift
    jq_ok b.sealift.json '[.predicate.buildDefinition.resolvedDependencies[].name] == ["compiler"]'
    # In a work tree with a migration not committed: the commit, flagged.
    add_migration migrations 20240103000000_add_phone 'ALTER TABLE users ADD COLUMN phone text;' \
        'ALTER TABLE users DROP COLUMN phone;'
    prov c.sealift --builder-id 'https://ci.example/pipelines/42'
    jq_ok c.sealift.json '.predicate.buildDefinition.resolvedDependencies[0] | .name == "source"
        and .digest.gitCommit == $c and .annotations.uncommittedChanges == true
        and .annotations.path == "migrations/"' --arg c "$(git rev-parse HEAD)"
    jq_ok c.sealift.json '.predicate.runDetails.builder.id == "https://ci.example/pipelines/42"'
}

@test "inspect shows the provenance, as text and as JSON; a co-signature keeps it" {
    prov b.sealift
    run_sealift inspect b.sealift
    assert_success
    assert_line --regexp '^provenance   provenance\.intoto\.json \(in-toto Statement, SLSA provenance\), [0-9]+ bytes, sha256 [0-9a-f]{64}$'
    assert_line '  "predicateType": "https://slsa.dev/provenance/v1",'
    assert_line '        "id": "urn:sealift:builder:local",'

    run_sealift inspect b.sealift --json
    assert_success
    printf '%s\n' "$output" >inspect.json
    jq_ok inspect.json '.provenance.member == "provenance.intoto.json"'
    jq_ok inspect.json '.provenance.sha256 == $s' --arg s "$(sha256sum <b.sealift.json | cut -d' ' -f1)"
    jq_ok inspect.json '(.provenance.statement | fromjson) == $p[0]' --slurpfile p b.sealift.json

    make_keypair second
    must "$SEALIFT" sign b.sealift -s second.key
    assert_equal "$(tar -xOf b.sealift provenance.intoto.json | sha256sum)" "$(sha256sum <b.sealift.json)"
    build_bundle plain.sealift --env-file vars.env
    run_sealift inspect plain.sealift --json
    printf '%s\n' "$output" >plain.json
    jq_ok plain.json '.provenance == null'
}

@test "an altered provenance member is refused; bad options are usage errors" {
    prov b.sealift
    mkdir x && tar -xf b.sealift -C x
    sed -i 's/urn:sealift:builder:local/urn:sealift:builder:LOCAL/' x/provenance.intoto.json
    # shellcheck disable=SC2046 # member names are words
    tar --format=ustar -cf forged.sealift -C x $(tar -tf b.sealift)
    run_sealift verify forged.sealift -p release.pub
    assert_exit 1
    assert_error 'forged.sealift: member "provenance.intoto.json": SHA-256 does not match the manifest'

    run_sealift build -d migrations -s release.key -o x.sealift --builder-id urn:x
    assert_usage_error build '--builder-id needs --provenance'
    run_sealift build -d migrations -s release.key -o x.sealift --provenance --builder-id 'not a uri'
    assert_usage_error build '--builder-id must be a URI (SCHEME:REST, no spaces)'
}
