# bash completion for sealift and sealift-apply.
#
# Commands, options and the formats of --from are read from the binaries' own --help, the
# one source of truth (the man pages come from it too), so completion cannot fall behind
# them. Option values complete by kind: public keys (*.pub), secret keys (*.key), config files
# (*.conf), bundles (*.sealift) and directories. Installed by "make install" into
# $(PREFIX)/share/bash-completion/completions as "sealift" and "sealift-apply".

# _sealift_words HELP_TEXT SECTION: the entry names of a "Commands:"-style list.
_sealift_commands() {
    "$1" --help 2>/dev/null | sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z-]*\)  .*/\1/p'
}

# The options a command's --help lists: every long option, and the short ones.
_sealift_options() {
    printf '%s\n' "$1" | sed -n '/^Options:$/,$p' | grep -oE -- '(^|[ ,])-(-[a-z][a-z-]*|[a-zA-Z])' |
        tr -d ' ,' | sort -u
}

# The values of --from: the words of its description, less the prose around them.
_sealift_formats() {
    printf '%s\n' "$1" | sed -n '/--from FORMAT/,/^ *-[-a-zA-Z]/p' | sed '$d' |
        sed 's/.*--from FORMAT//; s/([^)]*)//g; s/source format://; s/[,:]/ /g' |
        tr ' ' '\n' | grep -E '^[a-z][a-z-]*$' | grep -vxE 'or|and|default'
}

# Complete files ending in one of the extensions given (and directories, to walk into).
_sealift_files() {
    local ext f
    local IFS=$'\n'
    COMPREPLY=()
    for f in $(compgen -d -- "$cur"); do
        COMPREPLY+=("$f/")
    done
    for ext in "$@"; do
        for f in $(compgen -f -X "!*.$ext" -- "$cur"); do
            [ -d "$f" ] || COMPREPLY+=("$f")
        done
    done
    compopt -o nospace 2>/dev/null || true
}

_sealift_complete() {
    local exe=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= help i
    local bin=${exe##*/}
    [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -*) ;;
        *)
            cmd=${COMP_WORDS[i]}
            break
            ;;
        esac
    done
    if [ -z "$cmd" ]; then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W '--help --version' -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$(_sealift_commands "$exe")" -- "$cur")
        fi
        return 0
    fi
    help=$("$exe" "$cmd" --help 2>/dev/null)
    # The value of an option.
    case $prev in
    --from)
        mapfile -t COMPREPLY < <(compgen -W "$(_sealift_formats "$help")" -- "$cur")
        return 0
        ;;
    -p | --pubkey)
        [ "$cmd" = keygen ] || { _sealift_files pub; return 0; }
        ;;
    -s | --seckey)
        [ "$cmd" = keygen ] || { _sealift_files key; return 0; }
        ;;
    --config)
        _sealift_files conf
        return 0
        ;;
    --compression)
        mapfile -t COMPREPLY < <(compgen -W 'zstd gzip none' -- "$cur")
        return 0
        ;;
    -d | --dir)
        if [ "$bin" = sealift ]; then
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            return 0
        fi
        ;;
    esac
    # Any other option with a value (an upper-case word after it in --help): files.
    if [[ $prev == -* ]] && printf '%s\n' "$help" | grep -qE -- "(^|[ ,])$prev [A-Z]"; then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return 0
    fi
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_sealift_options "$help")" -- "$cur")
        return 0
    fi
    # A positional argument: a bundle, for the commands that take one.
    if printf '%s\n' "$help" | grep -qE "^  $bin $cmd .*BUNDLE"; then
        _sealift_files sealift
    fi
    return 0
}

complete -F _sealift_complete sealift sealift-apply
