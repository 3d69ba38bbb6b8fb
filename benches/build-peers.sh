#!/usr/bin/env bash
# Builds the C MRT parsers that benches/compare.sh sets beside mrtsnap, from
# their public sources, outside the project tree:
#   parsebgp    libparsebgp's CLI (CAIDA; autotools)
#   bgpgrep     from ubgpsuite (doublefourteen; meson)
#   bgpscanner  Isolario's BGP Scanner, with its isocore library (meson)
# Nothing of theirs enters this repository: each is copied into a scratch
# directory, built there and installed under PEERS_PREFIX.
#
# Usage: benches/build-peers.sh [parsebgp] [bgpgrep] [bgpscanner]  (all by
# default). A tool is built from the source directory its variable names,
# or else from a `git clone` of its public repository. A tool that cannot be
# had (no source, no network, a failed build) is skipped with a message;
# the script itself does not fail for it. It prints one line per tool to
# stdout: `NAME PATH` when installed, `NAME -` when skipped.
#
# Environment (defaults in brackets):
#   PEERS_PREFIX     install prefix; binaries go to its bin/ [/opt/peers]
#   PEERS_WORK       scratch directory [a new /tmp/mrtsnap-peers.*, removed
#                    at the end]
#   PEERS_FORCE      1: rebuild a tool already in PEERS_PREFIX/bin [0]
#   PARSEBGP_SRC     libparsebgp source tree
#   UBGPSUITE_SRC    ubgpsuite source tree
#   BGPSCANNER_SRC   bgpscanner source tree
#   ISOCORE_SRC      isocore source tree (bgpscanner's library; otherwise
#                    BGPSCANNER_SRC/subprojects/isocore or a clone)
# Build tools needed: cc, make, autoconf, automake, libtool (parsebgp);
# meson >= 0.52, ninja (bgpgrep, bgpscanner); zlib, libbz2, liblzma headers,
# and liblz4 for bgpscanner. On Debian: apt-get install build-essential
# autoconf automake libtool meson ninja-build zlib1g-dev libbz2-dev
# liblzma-dev liblz4-dev.
set -uo pipefail

PREFIX=${PEERS_PREFIX:-/opt/peers}
FORCE=${PEERS_FORCE:-0}
SCRATCH=${PEERS_WORK:-}
if [ -z "$SCRATCH" ]; then
    SCRATCH=$(mktemp -d /tmp/mrtsnap-peers.XXXXXX)
    trap 'rm -rf "$SCRATCH"' EXIT
fi
mkdir -p "$SCRATCH"
TOOLS=${*:-parsebgp bgpgrep bgpscanner}

say() { echo "build-peers: $*" >&2; }

# source NAME VARIABLE URL: a copy of the tool's source in $SCRATCH/NAME,
# from the directory in VARIABLE or else a shallow clone of URL; its path on
# stdout, nothing when neither can be had.
source_tree() {
    local name=$1 var=$2 url=$3 dir="$SCRATCH/$1"
    local src=${!var:-}
    rm -rf "$dir"
    if [ -n "$src" ]; then
        if [ ! -d "$src" ]; then
            say "$name: $var=$src is not a directory"
            return 1
        fi
        cp -a "$src" "$dir" || return 1
    elif ! command -v git >/dev/null 2>&1; then
        say "$name: no $var and no git to clone $url"
        return 1
    elif ! GIT_TERMINAL_PROMPT=0 timeout 120 git clone -q --depth 1 "$url" "$dir" >&2 2>/dev/null; then
        say "$name: no $var, and $url could not be cloned (no network?)"
        return 1
    fi
    echo "$dir"
}

# needs NAME COMMAND...: true when every command is on PATH.
needs() {
    local name=$1 c missing=""
    shift
    for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=" $c"; done
    [ -z "$missing" ] && return 0
    say "$name: missing build tools:$missing"
    return 1
}

# run NAME LOG COMMAND...: runs a build step with its output in LOG; on
# failure says so with the log's last lines.
run() {
    local name=$1 log=$2
    shift 2
    if ! "$@" >> "$log" 2>&1; then
        say "$name: \`$*\` failed; the end of its log ($log, kept when PEERS_WORK is set):"
        tail -15 "$log" | sed 's/^/    /' >&2
        return 1
    fi
}

build_parsebgp() {
    local dir log="$SCRATCH/parsebgp.log"
    needs parsebgp cc make autoreconf libtoolize || return 1
    dir=$(source_tree parsebgp PARSEBGP_SRC https://github.com/CAIDA/libparsebgp.git) || return 1
    (
        cd "$dir" || exit 1
        run parsebgp "$log" autoreconf -fi &&
            run parsebgp "$log" ./configure --prefix="$PREFIX" --disable-shared CFLAGS="-O3 -g" &&
            run parsebgp "$log" make -j"$(nproc)" &&
            run parsebgp "$log" make install
    )
}

build_bgpgrep() {
    local dir log="$SCRATCH/bgpgrep.log"
    rm -rf "$SCRATCH/bgpgrep.build"
    needs bgpgrep cc meson ninja || return 1
    dir=$(source_tree bgpgrep UBGPSUITE_SRC https://github.com/doublefourteen/ubgpsuite.git) || return 1
    # Its `build-doc` option is a boolean used as a feature
    # (`required : get_option('build-doc')`, `.auto()`), which meson >= 1.0
    # refuses: made a feature in the copy, disabled.
    sed -i "s/option('build-doc', type : 'boolean'/option('build-doc', type : 'feature', value : 'disabled'/" "$dir/meson_options.txt"
    (
        cd "$dir" || exit 1
        run bgpgrep "$log" meson setup "$SCRATCH/bgpgrep.build" --prefix="$PREFIX" --buildtype=release \
            -Dbuild-bgpgrep=true -Dbuild-peerindex=false -Dbuild-doc=disabled &&
            run bgpgrep "$log" ninja -C "$SCRATCH/bgpgrep.build" &&
            run bgpgrep "$log" meson install -C "$SCRATCH/bgpgrep.build"
    )
}

build_bgpscanner() {
    local dir iso log="$SCRATCH/bgpscanner.log"
    rm -rf "$SCRATCH/bgpscanner.build"
    needs bgpscanner cc meson ninja || return 1
    dir=$(source_tree bgpscanner BGPSCANNER_SRC https://github.com/rfperuch/bgpscanner.git) || return 1
    # isocore, its library, as a meson subproject already in place (the
    # wrap file would clone it at configure time).
    if [ -z "${ISOCORE_SRC:-}" ] && [ -f "$dir/subprojects/isocore/meson.build" ]; then
        :
    else
        iso=$(source_tree isocore ISOCORE_SRC https://github.com/rfperuch/isocore.git) || {
            say "bgpscanner: its isocore library cannot be had"
            return 1
        }
        rm -rf "$dir/subprojects/isocore"
        mv "$iso" "$dir/subprojects/isocore"
    fi
    # Linked in statically, so that the installed binary needs no library
    # of its own on the loader's path.
    sed -i 's/^isocore = both_libraries(/isocore = static_library(/' "$dir/subprojects/isocore/meson.build"
    (
        cd "$dir" || exit 1
        run bgpscanner "$log" meson setup "$SCRATCH/bgpscanner.build" --prefix="$PREFIX" --buildtype=release \
            --wrap-mode=nodownload &&
            run bgpscanner "$log" ninja -C "$SCRATCH/bgpscanner.build" bgpscanner &&
            mkdir -p "$PREFIX/bin" &&
            install -m 755 "$SCRATCH/bgpscanner.build/bgpscanner" "$PREFIX/bin/bgpscanner"
    )
}

for tool in $TOOLS; do
    bin="$PREFIX/bin/$tool"
    if [ -x "$bin" ] && [ "$FORCE" != 1 ]; then
        say "$tool: already in $bin (PEERS_FORCE=1 rebuilds it)"
        echo "$tool $bin"
        continue
    fi
    say "$tool: building into $PREFIX"
    built=0
    case $tool in
        parsebgp) build_parsebgp && built=1 ;;
        bgpgrep) build_bgpgrep && built=1 ;;
        bgpscanner) build_bgpscanner && built=1 ;;
        *) say "$tool: unknown (parsebgp, bgpgrep, bgpscanner)" ;;
    esac
    if [ "$built" = 1 ] && [ -x "$bin" ]; then
        say "$tool: installed $bin"
        echo "$tool $bin"
    else
        say "$tool: not built: skipped"
        echo "$tool -"
    fi
done
exit 0
