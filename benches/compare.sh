#!/usr/bin/env bash
# mrtsnap side by side with the MRT tools people use, on real files first.
#
# Inputs, in this order (COMPARE_INPUTS picks `real`, `generated` or both):
#   jinx, jinx.bz2     the route-views.jinx 2014 RIB of the shared corpus
#                      (32 MB plain, ~1 entry per prefix, 14 peers)
#   jinx×10            the plain RIB concatenated 10 times (326 MB)
#   jinx×10.bz2        the same, `bzip2 -9` (task `pairs` only: the
#                      snapshot against `lbzip2 -d -n 2`)
#   full-feed×10       the route-views2 2014 and route-views6 2015 RIBs of
#                      the corpus (their first MB of bz2), each cut to its
#                      last whole MRT record and concatenated 10 times
#                      (274 MB, 35 and 27 peers, each copy with its own
#                      PEER_INDEX_TABLE)
#   bview-2002         the RIS 2002 TABLE_DUMP bview of the corpus (7 MB)
#   ris-updates×40     the RIS 2016 updates file of the corpus concatenated
#                      40 times (97 MB)
#   pch-updates×10     the PCH 2015 BGP4MP_ET updates file of the corpus
#                      concatenated 10 times (135 MB)
#   jinx.F, route-views2.F, route-views6.F, rrc00.F  generated tables
#                      (`mrtsnap synth rib --preset P`) in each of
#                      COMPARE_FORMATS; the first three calibrated by
#                      decode cost against the real files
#                      (benches/calibrate.sh), jinx at full size
#
# Tasks (COMPARE_TASKS) and their rows; every ratio is against mrtsnap in
# the same run, on the same file and task:
#   pairs   RIB inputs: prefix-origin pairs with peer counts (`mrtsnap
#           snapshot --format pairs -o /dev/null`) on all cores (the
#           reference), on one pinned core (`taskset -c 0 mrtsnap --threads
#           1`) and two (`taskset -c 0,1 --threads 2`); `parsebgp -q`
#           (libparsebgp decoding every message, printing nothing, one
#           pinned core; plain files only); `bgpkit-parser -e` (counts
#           elements, the fastest thing it does); slow: `bgpkit-parser | awk`
#           and `bgpdump -m | awk` to the same pairs
#   dump    every route as text to /dev/null: `mrtsnap dump` (all cores, one
#           pinned core), bgpgrep, bgpscanner (given one file per copy on
#           concatenated inputs: it stops at a second PEER_INDEX_TABLE);
#           slow: `bgpdump -m`, `bgpkit-parser`
#   stats   updates inputs: `mrtsnap stats` (all cores, one pinned core),
#           `parsebgp -q` (one pinned core; `-q -ss`, which skips path
#           attributes it does not implement, where `-q` stops), and
#           `bgpkit-parser -e`
#   replay  the corpus's real updates files (RouteViews route-views.jinx
#           onto its RIB and alone; RIS rrc06 and rrc15 and the PCH
#           BGP4MP_ET file from empty state) to the state at their last
#           record: `mrtsnap snapshot --at END [RIB] UPDATES... --format
#           pairs -o /dev/null`, against `bgpkit-parser -e` over the same
#           files; its entries are RIB entries plus announced and withdrawn
#           prefixes
#   day     (only when named) generates a day of an rrc00-like collector
#           (`mrtsnap synth archive --preset rrc00-day`: 3 RIBs, 288
#           five-minute updates files; 2 GB, about 2.5 minutes; kept in
#           COMPARE_DAY_DIR when set) and times the replay of the day to its
#           end (the reference), its all-origins 5-minute visibility
#           timeline (`timeline --all-origins`, Parquet), the state every
#           hour (`snapshot --every 1h`), the state at its end from the
#           updates alone, and `bgpkit-parser -e` over the updates files
#           alone, one process per core (xargs -P), once each
#   nk      (only when named) the outage detector on the nk-2014 scenario
#           (below)
# A peer's run that fails, complains on stderr, or (parsebgp) reads fewer
# messages than the file has is reported and its row left out. Slow rows
# run COMPARE_SLOW_RUNS times and only on inputs up to 100 MB unless
# COMPARE_SLOW_BIG=1; `bgpdump -m` on jinx×10 runs once all the same.
#
# Prints one Markdown table: median wall time (hyperfine), MB/s of
# uncompressed input, entries per second (RIB entries, announced and
# withdrawn prefixes), peak RSS (the largest process of the command, from
# /usr/bin/time), the time as a multiple of mrtsnap's on all cores and of
# mrtsnap's on one pinned core; then the speed-up of two pinned cores over
# one.
#
# Environment (defaults in brackets):
#   COMPARE_TASKS       tasks to run ["pairs dump stats replay"]; `day` and
#                       `nk` only when named
#   COMPARE_INPUTS      `real`, `generated` ["real generated"]
#   COMPARE_BUILD_PEERS 1: first build parsebgp, bgpgrep and bgpscanner
#                       from their public sources with benches/build-peers.sh
#                       (its variables: PEERS_PREFIX, PARSEBGP_SRC,
#                       UBGPSUITE_SRC, BGPSCANNER_SRC, ISOCORE_SRC) [0]
#   COMPARE_DAY_DIR     where the `day` archive is written or found [$WORK/day]
#   COMPARE_NK_DIR      where the `nk` scenario is written or found [$WORK/nk]
#   COMPARE_NK_SCALE    its scale [1]
#   COMPARE_SCALE       scale of the generated tables [0.05]; 1.0 is full
#                       size: route-views2-like ~29.7M RIB entries
#                       (~1.7 GB), route-views6-like ~5M (~400 MB),
#                       rrc00-like ~53M (~3.2 GB)
#   COMPARE_FORMATS     compressions of the generated tables ["plain gz bz2"]
#   COMPARE_RUNS        runs per fast command [5]
#   COMPARE_SLOW_RUNS   runs per slow command (bgpdump, text from
#                       bgpkit-parser, awk) [2]
#   COMPARE_SLOW_BIG    1: slow commands on inputs above 100 MB too
#                       (bgpdump reads ~7 MB/s) [0]
#   COMPARE_FULL_RRC00  1: also generate the full-size rrc00-like table
#                       (3.2 GB) and time mrtsnap snapshot (1 and N threads,
#                       mapped and read) and bgpkit-parser -e on it once,
#                       with peak RSS [0]
#   COMPARE_INSTALL     1: `cargo install bgpkit-parser --features cli` when
#                       it is not found (about 11 minutes) [0]
#   COMPARE_DIR         working directory [a new /tmp/mrtsnap-compare.*];
#                       the inputs made there are reused by a later run and
#                       deleted at the end unless COMPARE_KEEP=1
#   MRTSNAP_CORPUS      the shared corpus [../shared/corpus]
#   BGPKIT, BGPDUMP, BGPGREP, BGPSCANNER, PARSEBGP, LBZIP2  tool paths
#                       (found on PATH, PEERS_PREFIX/bin [/opt/peers/bin]
#                       or ~/.cargo/bin otherwise; each one absent is
#                       skipped with a message)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCALE=${COMPARE_SCALE:-0.05}
FORMATS=${COMPARE_FORMATS-plain gz bz2}
TASKS=" ${COMPARE_TASKS:-pairs dump stats replay} "
INPUTS_WANTED=" ${COMPARE_INPUTS:-real generated} "
RUNS=${COMPARE_RUNS:-5}
SLOW_RUNS=${COMPARE_SLOW_RUNS:-2}
SLOW_BIG=${COMPARE_SLOW_BIG:-0}
FULL=${COMPARE_FULL_RRC00:-0}
CORPUS=${MRTSNAP_CORPUS:-$ROOT/../shared/corpus}
PEERS_BIN=${PEERS_PREFIX:-/opt/peers}/bin
WORK=${COMPARE_DIR:-$(mktemp -d /tmp/mrtsnap-compare.XXXXXX)}
mkdir -p "$WORK"
ROWS="$WORK/rows.tsv"
: > "$ROWS"

say() { echo "compare: $*" >&2; }
has_task() { [[ "$TASKS" == *" $1 "* ]]; }
wants() { [[ "$INPUTS_WANTED" == *" $1 "* ]]; }
need() { command -v "$1" >/dev/null 2>&1 || { say "$1 is required${2:+ ($2)}"; exit 2; }; }
need hyperfine "apt-get install hyperfine"
need python3
[ -x /usr/bin/time ] || { say "/usr/bin/time is required (apt-get install time)"; exit 2; }

cleanup() {
    if [ "${COMPARE_KEEP:-0}" != 1 ]; then
        rm -f "$WORK"/*.mrt "$WORK"/*.mrt.gz "$WORK"/*.mrt.bz2 "$WORK"/*.json "$WORK"/rss.* "$WORK"/peer.*
    fi
}
trap cleanup EXIT

# ---- tools ------------------------------------------------------------------
say "building mrtsnap (release)"
(cd "$ROOT" && cargo build --release --quiet)
TARGET=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
MRTSNAP="$TARGET/release/mrtsnap"

if [ "${COMPARE_BUILD_PEERS:-0}" = 1 ]; then
    say "building the C peers (benches/build-peers.sh)"
    "$ROOT/benches/build-peers.sh" >/dev/null
fi

find_tool() { # name, env override
    local name=$1 override=$2
    if [ -n "$override" ]; then echo "$override"; return; fi
    for p in "$(command -v "$name" 2>/dev/null || true)" "$PEERS_BIN/$name" "$HOME/.cargo/bin/$name"; do
        if [ -n "$p" ] && [ -x "$p" ]; then echo "$p"; return; fi
    done
}
BGPKIT=$(find_tool bgpkit-parser "${BGPKIT:-}")
if [ -z "$BGPKIT" ] && [ "${COMPARE_INSTALL:-0}" = 1 ]; then
    say "installing bgpkit-parser (cargo install bgpkit-parser --features cli)"
    cargo install bgpkit-parser --features cli --root "$WORK/peers" >&2
    BGPKIT="$WORK/peers/bin/bgpkit-parser"
fi
BGPDUMP=$(find_tool bgpdump "${BGPDUMP:-}")
BGPGREP=$(find_tool bgpgrep "${BGPGREP:-}")
BGPSCANNER=$(find_tool bgpscanner "${BGPSCANNER:-}")
PARSEBGP=$(find_tool parsebgp "${PARSEBGP:-}")
LBZIP2=$(find_tool lbzip2 "${LBZIP2:-}")
need taskset "util-linux"
TASKSET=$(command -v taskset)
[ -n "$BGPKIT" ] || say "bgpkit-parser not found (COMPARE_INSTALL=1 installs it): skipped"
[ -n "$BGPDUMP" ] || say "bgpdump not found (apt-get install bgpdump): skipped"
for t in bgpgrep bgpscanner parsebgp; do
    v=${t^^}
    [ -n "${!v}" ] || say "$t not found (COMPARE_BUILD_PEERS=1 builds it into ${PEERS_BIN%/bin}): skipped"
done
[ -n "$LBZIP2" ] || say "lbzip2 not found (apt-get install lbzip2): its row skipped"
CORES=$(nproc)
[ "$CORES" -ge 2 ] || say "one core: the two-pinned-core rows skipped"

# ---- inputs -----------------------------------------------------------------
# INPUTS: names in table order; FILE: the file; PARTS: the files whose
# concatenation it is (bgpscanner reads those); KIND: rib, updates, or bz2
# (the lbzip2 row alone).
INPUTS=()
declare -A FILE PARTS KIND
add_input() { # name kind file [parts...]
    local name=$1 kind=$2 file=$3
    shift 3
    INPUTS+=("$name")
    KIND[$name]=$kind
    FILE[$name]=$file
    PARTS[$name]=${*:-$file}
}
# make_file OUT COMMAND...: OUT from the command's output, unless it is
# already there (a kept COMPARE_DIR).
make_file() {
    local out=$1
    shift
    [ -s "$out" ] && return 0
    "$@" > "$out.tmp"
    mv "$out.tmp" "$out"
}
times() { # N WORDS...: the words N times over
    local n=$1 i
    shift
    for ((i = 0; i < n; i++)); do echo "$@"; done
}
repeat() { # N FILES...: the files concatenated N times over
    local n=$1
    shift
    # shellcheck disable=SC2046 # file names without blanks
    cat $(times "$n" "$@")
}
# The leading whole MRT records of a file cut anywhere (bz2): the common
# header is 12 bytes, its big-endian u32 length at bytes 8..12 counts what
# follows (with the microseconds of the _ET types).
trimmed() {
    { bzip2 -dc "$1" 2>/dev/null || true; } | python3 -c '
import sys
data = sys.stdin.buffer.read()
off = 0
while off + 12 <= len(data):
    end = off + 12 + int.from_bytes(data[off + 8:off + 12], "big")
    if end > len(data):
        break
    off = end
sys.stdout.buffer.write(data[:off])
'
}

if wants real && { has_task pairs || has_task dump || has_task stats; }; then
    TD="$CORPUS/CAIDA+libbgpstream/test-dumps"
    BD="$CORPUS/RIPE-NCC+bgpdump/test_data"
    PY="$CORPUS/hadiasghari+pyasn/data"
    JINX="$TD/routeviews.route-views.jinx.ribs.1401487200.bz2"
    if [ -f "$JINX" ]; then
        say "making jinx, jinx×10"
        make_file "$WORK/jinx.mrt" bzip2 -dc "$JINX"
        make_file "$WORK/jinx.mrt.bz2" cat "$JINX"
        make_file "$WORK/jinx10.mrt" repeat 10 "$WORK/jinx.mrt"
        add_input jinx rib "$WORK/jinx.mrt"
        add_input jinx.bz2 rib "$WORK/jinx.mrt.bz2"
        # shellcheck disable=SC2046
        add_input "jinx×10" rib "$WORK/jinx10.mrt" $(times 10 "$WORK/jinx.mrt")
        if has_task pairs; then
            say "compressing jinx×10 (bzip2 -9, about a minute)"
            make_file "$WORK/jinx10.mrt.bz2" bzip2 -9c "$WORK/jinx10.mrt"
            add_input "jinx×10.bz2" bz2 "$WORK/jinx10.mrt.bz2"
        fi
    else
        say "jinx RIB not found under $CORPUS: skipped"
    fi
    RV2="$PY/rib.20140523.0600_firstMB.bz2"
    RV6="$PY/rib6.20151101.0600_firstMB.bz2"
    if [ -f "$RV2" ] && [ -f "$RV6" ]; then
        say "making full-feed×10 (route-views2 2014 and route-views6 2015, cut to whole records)"
        make_file "$WORK/rv2.mrt" trimmed "$RV2"
        make_file "$WORK/rv6.mrt" trimmed "$RV6"
        fullfeed() { repeat 10 "$WORK/rv2.mrt"; repeat 10 "$WORK/rv6.mrt"; }
        make_file "$WORK/fullfeed10.mrt" fullfeed
        # shellcheck disable=SC2046
        add_input "full-feed×10" rib "$WORK/fullfeed10.mrt" $(times 10 "$WORK/rv2.mrt") $(times 10 "$WORK/rv6.mrt")
    else
        say "route-views2/6 firstMB RIBs not found under $CORPUS: skipped"
    fi
    if [ -f "$BD/bview.20020722.2337.gz" ]; then
        make_file "$WORK/bview2002.mrt" gzip -dc "$BD/bview.20020722.2337.gz"
        add_input bview-2002 rib "$WORK/bview2002.mrt"
    else
        say "RIS 2002 bview not found under $CORPUS: skipped"
    fi
    # updates_input NAME FILE.gz COPIES WHAT: the gzip file of the corpus
    # decompressed and concatenated COPIES times, as input NAME.
    updates_input() {
        local name=$1 gz=$2 n=$3 what=$4 base="$WORK/${1%×*}.mrt"
        if [ ! -f "$gz" ]; then
            say "$what not found under $CORPUS: skipped"
            return
        fi
        say "making $name"
        make_file "$base" gzip -dc "$gz"
        make_file "$WORK/${1%×*}$n.mrt" repeat "$n" "$base"
        # shellcheck disable=SC2046
        add_input "$name" updates "$WORK/${1%×*}$n.mrt" $(times "$n" "$base")
    }
    updates_input "ris-updates×40" "$BD/updates.20160811.1600.gz" 40 "RIS 2016 updates"
    updates_input "pch-updates×10" "$BD/updates.et-header.2015.gz" 10 "PCH 2015 updates"
fi
if wants generated && { has_task pairs || has_task dump; }; then
    # The jinx preset at full size (32 MB, calibrated against the real jinx
    # RIB by benches/calibrate.sh), the others at COMPARE_SCALE.
    for spec in jinx:1 route-views2:"$SCALE" route-views6:"$SCALE" rrc00:"$SCALE"; do
        preset=${spec%%:*}
        scale=${spec#*:}
        for f in $FORMATS; do
            ext=""
            [ "$f" != plain ] && ext=".$f"
            out="$WORK/$preset-$scale.mrt$ext"
            if [ ! -s "$out" ]; then
                say "generating $preset-like table, scale $scale, $f"
                "$MRTSNAP" synth rib --preset "$preset" --scale "$scale" -o "$out" 2>&1 | sed 's/^/compare: /' >&2
            fi
            add_input "$preset.$f" rib "$out"
        done
    done
fi

# ---- measuring --------------------------------------------------------------
# measure INPUT TASK TOOL RUNS COMMAND: median wall (hyperfine), peak RSS
# of the largest process of each run (/usr/bin/time, max over runs).
measure() {
    local input=$1 task=$2 tool=$3 runs=$4 cmd=$5
    has_task "$task" || return 0
    local rss="$WORK/rss.$$"
    : > "$rss"
    if [ "${#cmd}" -gt 240 ]; then say "$input $task $tool: ${cmd:0:240}…"; else say "$input $task $tool: $cmd"; fi
    if ! hyperfine --style none --runs "$runs" --export-json "$WORK/h.json" \
        "/usr/bin/time -f %M -a -o $rss bash -c '$cmd'" >/dev/null 2>&1; then
        say "  failed: skipped"
        return
    fi
    local med peak
    med=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$WORK/h.json")
    peak=$(sort -n "$rss" | tail -1)
    printf '%s\t%s\t%s\t%s\t%s\n' "$input" "$task" "$tool" "$med" "$peak" >> "$ROWS"
}

# peer INPUT TASK TOOL RUNS COMMAND [MESSAGES]: measure, after one run that
# shows the peer reads the whole file: it exits 0 and writes nothing to
# stderr, or (parsebgp, which exits 0 whatever happens) reports MESSAGES
# messages read. Otherwise says why and leaves the row out.
peer() {
    local input=$1 task=$2 tool=$3 runs=$4 cmd=$5 expect=${6:-}
    has_task "$task" || return 0
    peer_reads "$input $tool" "$cmd" "$expect" || return 0
    measure "$input" "$task" "$tool" "$runs" "$cmd"
}
peer_reads() { # label command [messages]
    local label=$1 cmd=$2 expect=${3:-} err="$WORK/peer.err" got rc=0
    bash -c "$cmd" > /dev/null 2> "$err" || rc=$?
    if [ "$rc" != 0 ]; then
        say "$label: exit $rc: $(grep -v '^INFO' "$err" | head -1): skipped"
        return 1
    fi
    if [ -n "$expect" ]; then
        got=$(sed -n 's/^INFO: Read \([0-9]*\) messages.*/\1/p' "$err" | head -1)
        if [ "$got" != "$expect" ]; then
            say "$label: read ${got:-not all} of $expect messages ($(grep -v '^INFO' "$err" | head -1))"
            return 1
        fi
    elif [ -s "$err" ]; then
        say "$label: $(head -1 "$err"): skipped"
        return 1
    fi
}

# shellcheck disable=SC2016 # awk programs
PAIRS_BGPDUMP='BEGIN{FS="|"} {n=split($7,a," "); k=$6"\t"a[n]; if (!((k SUBSEP $4) in s)) {s[k SUBSEP $4]=1; c[k]++}} END{for (k in c) print k"\t"c[k]}'
# shellcheck disable=SC2016
PAIRS_BGPKIT='BEGIN{FS="|"} {n=split($6,a," "); k=$5"\t"a[n]; if (!((k SUBSEP $3) in s)) {s[k SUBSEP $3]=1; c[k]++}} END{for (k in c) print k"\t"c[k]}'
echo "$PAIRS_BGPDUMP" > "$WORK/pairs_bgpdump.awk"
echo "$PAIRS_BGPKIT" > "$WORK/pairs_bgpkit.awk"

PIN1="$TASKSET -c 0"
PIN2="$TASKSET -c 0,1"
declare -A BYTES ENTRIES ORDER
n=0
for input in "${INPUTS[@]}"; do
    n=$((n + 1))
    ORDER[$input]=$n
    f=${FILE[$input]}
    parts=${PARTS[$input]}
    read -r bytes entries records < <("$MRTSNAP" -q stats --json "$f" | python3 -c 'import json,sys; s=json.load(sys.stdin); n=lambda k: sum(s[k].values()); print(s["decoded_bytes"], n("rib_entries")+n("announced")+n("withdrawn"), s["records"])')
    BYTES[$input]=$bytes
    ENTRIES[$input]=$entries
    slow=$SLOW_RUNS
    if [ "$bytes" -gt 100000000 ] && [ "$SLOW_BIG" != 1 ]; then
        slow=0
    fi
    plain=1
    case $f in *.gz | *.bz2) plain=0 ;; esac
    scanner=bgpscanner
    [ "$parts" != "$f" ] && scanner="bgpscanner (one file per copy)"

    case ${KIND[$input]} in
    bz2)
        measure "$input" pairs mrtsnap "$RUNS" "$MRTSNAP snapshot $f --format pairs -o /dev/null"
        [ -n "$LBZIP2" ] && measure "$input" pairs "lbzip2 -d -n 2 (decompression alone)" "$RUNS" "$LBZIP2 -d -n 2 -c $f > /dev/null"
        continue
        ;;
    rib)
        measure "$input" pairs mrtsnap "$RUNS" "$MRTSNAP snapshot $f --format pairs -o /dev/null"
        measure "$input" pairs "mrtsnap, 1 pinned core" "$RUNS" "$PIN1 $MRTSNAP --threads 1 snapshot $f --format pairs -o /dev/null"
        [ "$CORES" -ge 2 ] && measure "$input" pairs "mrtsnap, 2 pinned cores" "$RUNS" "$PIN2 $MRTSNAP --threads 2 snapshot $f --format pairs -o /dev/null"
        if [ -n "$PARSEBGP" ] && [ "$plain" = 1 ]; then
            peer "$input" pairs "parsebgp -q, 1 pinned core" "$RUNS" "$PIN1 $PARSEBGP -q mrt:$f" "$records"
        elif [ -n "$PARSEBGP" ] && has_task pairs; then
            say "$input: parsebgp reads plain files only: skipped"
        fi
        if [ -n "$BGPKIT" ]; then
            measure "$input" pairs "bgpkit-parser -e (count only)" "$RUNS" "$BGPKIT -e $f > /dev/null"
            [ "$slow" -gt 0 ] && measure "$input" pairs "bgpkit-parser + awk" "$slow" "$BGPKIT $f | awk -f $WORK/pairs_bgpkit.awk > /dev/null"
        fi
        [ -n "$BGPDUMP" ] && [ "$slow" -gt 0 ] && measure "$input" pairs "bgpdump -m + awk" "$slow" "$BGPDUMP -m $f 2>/dev/null | awk -f $WORK/pairs_bgpdump.awk > /dev/null"
        ;;
    updates)
        measure "$input" stats mrtsnap "$RUNS" "$MRTSNAP -q stats $f > /dev/null"
        measure "$input" stats "mrtsnap, 1 pinned core" "$RUNS" "$PIN1 $MRTSNAP -q --threads 1 stats $f > /dev/null"
        if [ -n "$PARSEBGP" ] && has_task stats; then
            if peer_reads "$input parsebgp -q" "$PIN1 $PARSEBGP -q mrt:$f" "$records"; then
                measure "$input" stats "parsebgp -q, 1 pinned core" "$RUNS" "$PIN1 $PARSEBGP -q mrt:$f"
            else
                say "$input: parsebgp -q -ss instead (skips the path attributes it does not implement)"
                peer "$input" stats "parsebgp -q -ss, 1 pinned core" "$RUNS" "$PIN1 $PARSEBGP -q -s -s mrt:$f" "$records"
            fi
        fi
        [ -n "$BGPKIT" ] && measure "$input" stats "bgpkit-parser -e (count only)" "$RUNS" "$BGPKIT -e $f > /dev/null"
        ;;
    esac
    # Both kinds: every route as text.
    measure "$input" dump mrtsnap "$RUNS" "$MRTSNAP dump $f > /dev/null"
    measure "$input" dump "mrtsnap, 1 pinned core" "$RUNS" "$PIN1 $MRTSNAP --threads 1 dump $f > /dev/null"
    [ -n "$BGPGREP" ] && peer "$input" dump bgpgrep "$RUNS" "$BGPGREP $f > /dev/null"
    [ -n "$BGPSCANNER" ] && peer "$input" dump "$scanner" "$RUNS" "$BGPSCANNER $parts > /dev/null"
    if [ -n "$BGPDUMP" ]; then
        if [ "$slow" -gt 0 ]; then
            measure "$input" dump "bgpdump -m" "$slow" "$BGPDUMP -m $f > /dev/null 2>&1"
        elif [ "$input" = "jinx×10" ]; then
            measure "$input" dump "bgpdump -m" 1 "$BGPDUMP -m $f > /dev/null 2>&1"
        else
            has_task dump && say "$input dump: bgpdump -m skipped above 100 MB (COMPARE_SLOW_BIG=1 runs it)"
        fi
    fi
    [ -n "$BGPKIT" ] && [ "$slow" -gt 0 ] && measure "$input" dump bgpkit-parser "$slow" "$BGPKIT $f > /dev/null"
done

# ---- replay -----------------------------------------------------------------
# replay NAME FILES...: the state at the last record of the files (RIB
# first, then updates; from empty state without a RIB) with mrtsnap, and
# bgpkit-parser -e over the same files, one run per file.
replay() {
    local name=$1
    shift
    local f b e l bytes=0 entries=0 end=0 bgpkit=""
    for f in "$@"; do
        [ -f "$f" ] || { say "$f not found: replay.$name skipped"; return 0; }
        read -r b e l < <("$MRTSNAP" -q stats --json "$f" | python3 -c 'import json,sys; s=json.load(sys.stdin); n=lambda k: sum(s[k].values()); print(s["decoded_bytes"], n("rib_entries")+n("announced")+n("withdrawn"), s["time_range"]["last"] or 0)')
        bytes=$((bytes + b)); entries=$((entries + e))
        [ "$l" -gt "$end" ] && end=$l
        bgpkit+="$BGPKIT -e $f > /dev/null; "
    done
    BYTES[replay.$name]=$bytes
    ENTRIES[replay.$name]=$entries
    measure "replay.$name" replay mrtsnap "$RUNS" "$MRTSNAP snapshot --at $end $* --format pairs -o /dev/null"
    measure "replay.$name" replay "mrtsnap, 1 pinned core" "$RUNS" "$PIN1 $MRTSNAP --threads 1 snapshot --at $end $* --format pairs -o /dev/null"
    [ -n "$BGPKIT" ] && measure "replay.$name" replay "bgpkit-parser -e (count only)" "$RUNS" "$bgpkit"
    return 0
}
if has_task replay; then
    TD="$CORPUS/CAIDA+libbgpstream/test-dumps"
    RRC15="$CORPUS/bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc15/2010.02"
    replay jinx.rib+updates "$TD/routeviews.route-views.jinx.ribs.1401487200.bz2" "$TD/routeviews.route-views.jinx.updates.1401493500.bz2"
    replay jinx.updates "$TD/routeviews.route-views.jinx.updates.1401493500.bz2"
    replay rrc06.updates "$TD/ris.rrc06.updates.1401488100.gz"
    replay rrc15.updates "$RRC15/updates.20100227.1600.gz" "$RRC15/updates.20100227.1610.gz"
    replay pch.updates "$CORPUS/RIPE-NCC+bgpdump/test_data/updates.et-header.2015.gz"
fi

if has_task day; then
    DAY=${COMPARE_DAY_DIR:-$WORK/day}
    if [ ! -d "$DAY/rrc00" ]; then
        say "generating a day of an rrc00-like collector in $DAY (about 2.5 minutes, 2 GB)"
        "$MRTSNAP" synth archive --preset rrc00-day -o "$DAY" 2>&1 | sed 's/^/compare: /' >&2
    fi
    updates=$(find "$DAY/rrc00" -name 'updates.*' | sort)
    all=$(find "$DAY/rrc00" -type f | sort)
    bytes=0; entries=0
    for f in $all; do
        read -r b e < <("$MRTSNAP" -q stats --json "$f" | python3 -c 'import json,sys; s=json.load(sys.stdin); n=lambda k: sum(s[k].values()); print(s["decoded_bytes"], n("rib_entries")+n("announced")+n("withdrawn"))')
        bytes=$((bytes + b)); entries=$((entries + e))
    done
    BYTES[day]=$bytes; ENTRIES[day]=$entries
    bytes=0; entries=0
    for f in $updates; do
        read -r b e < <("$MRTSNAP" -q stats --json "$f" | python3 -c 'import json,sys; s=json.load(sys.stdin); n=lambda k: sum(s[k].values()); print(s["decoded_bytes"], n("announced")+n("withdrawn"))')
        bytes=$((bytes + b)); entries=$((entries + e))
    done
    BYTES[day.updates]=$bytes; ENTRIES[day.updates]=$entries
    from=$(basename "$(echo "$all" | head -1)" | sed -E 's/.*\.([0-9]{8})\.([0-9]{4}).*/\1/')
    start="${from:0:4}-${from:4:2}-${from:6:2}T00:00:00Z"
    end=$(python3 -c 'import sys,datetime; d=datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")); print(int(d.timestamp())+86400)' "$start")
    echo "$updates" > "$WORK/day.updates"
    echo "$all" > "$WORK/day.all"
    # Row `day`: the replay of the day (RIBs and updates, to the state at
    # its end: the reference), the all-origins 5-minute timeline of the
    # same inputs (Parquet), the states every hour, and bgpkit-parser over
    # the updates alone; row `day.updates`: mrtsnap and bgpkit-parser over
    # the updates alone.
    measure day day mrtsnap 1 "$MRTSNAP -q snapshot --at @$((end - 1)) --format pairs -o /dev/null \$(cat $WORK/day.all)"
    measure day day "mrtsnap timeline --all-origins --bin 5m" 1 "$MRTSNAP -q timeline --all-origins --bin 5m -o $WORK/day.timeline.parquet \$(cat $WORK/day.all)"
    measure day day "mrtsnap snapshot --every 1h" 1 "rm -rf $WORK/day.out; $MRTSNAP -q snapshot --every 1h --from $start --until @$end --format pairs -o $WORK/day.out \$(cat $WORK/day.all)"
    measure day.updates day mrtsnap 1 "$MRTSNAP -q snapshot --at @$end --format pairs -o /dev/null \$(cat $WORK/day.updates)"
    if [ -n "$BGPKIT" ]; then
        measure day.updates day "bgpkit-parser -e (xargs -P $(nproc))" 1 "xargs -P $(nproc) -n 1 $BGPKIT -e < $WORK/day.updates > /dev/null"
        last=$(tail -1 "$ROWS")
        printf 'day\t%s\n' "${last#day.updates$'\t'}" >> "$ROWS"
    fi
fi

# The nk-2014 scenario (`nk`, run only when named): generated at
# COMPARE_NK_SCALE (1: 1M prefixes, 30 full-feed peers per collector, about
# 30 minutes and 8 GB; kept in COMPARE_NK_DIR when set), then
# `outages --origin 131279` against truth/events.csv, `outages
# --all-origins` against truth/stable.csv (false positives: events of
# stable origins; false negatives: truth events not found within a bin),
# and the all-origins timeline, timed.
if has_task nk; then
    NK=${COMPARE_NK_DIR:-$WORK/nk}
    NK_SCALE=${COMPARE_NK_SCALE:-1}
    if [ ! -d "$NK/truth" ]; then
        say "generating the nk-2014 scenario at scale $NK_SCALE in $NK"
        "$MRTSNAP" synth archive --scenario nk-2014 --scale "$NK_SCALE" -o "$NK" 2>&1 | sed 's/^/compare: /' >&2
    fi
    BYTES[nk]=$(du -sb "$NK" | cut -f1); ENTRIES[nk]=0
    measure nk nk "mrtsnap outages --origin 131279" 1 "$MRTSNAP -q outages --origin 131279 $NK > $WORK/nk.events.csv"
    measure nk nk "mrtsnap outages --all-origins" 1 "$MRTSNAP -q outages --all-origins $NK > $WORK/nk.all.csv"
    measure nk nk mrtsnap 1 "$MRTSNAP -q timeline --all-origins -o $WORK/nk.timeline.parquet $NK"
    python3 - "$NK/truth" "$WORK/nk.events.csv" "$WORK/nk.all.csv" <<'PY' | sed 's/^/compare: nk: /' >&2
import csv, sys, datetime
t = lambda s: int(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())
truth = [(r["origin"], t(r["start"]), t(r["end"])) for r in csv.DictReader(open(sys.argv[1] + "/events.csv"))]
stable = {r["origin"] for r in csv.DictReader(open(sys.argv[1] + "/stable.csv"))}
for name in (sys.argv[2], sys.argv[3]):
    got = [(r["origin"], t(r["start"]), t(r["end"]) if r["end"] else None) for r in csv.DictReader(open(name))]
    fp = [g for g in got if g[0] in stable]
    fn = [e for e in truth if not any(g[0] == e[0] and abs(g[1] - e[1]) < 300 and g[2] is not None and abs(g[2] - e[2]) < 300 for g in got)]
    print(f"{name.rsplit('/', 1)[-1]}: {len(got)} events; {len(fp)} false positives among {len(stable)} stable origins; {len(fn)} of {len(truth)} truth events missed")
PY
fi

if [ "$FULL" = 1 ]; then
    full="$WORK/rrc00-full.mrt"
    say "generating the full-size rrc00-like table (3.2 GB)"
    "$MRTSNAP" synth rib --preset rrc00 -o "$full" 2>&1 | sed 's/^/compare: /' >&2
    stats=$("$MRTSNAP" -q stats --json "$full")
    BYTES[rrc00-full.plain]=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["decoded_bytes"])')
    ENTRIES[rrc00-full.plain]=$(echo "$stats" | python3 -c 'import json,sys; e=json.load(sys.stdin)["rib_entries"]; print(e["ipv4"]+e["ipv6"])')
    measure rrc00-full.plain pairs mrtsnap 2 "$MRTSNAP snapshot $full --format pairs -o /dev/null"
    measure rrc00-full.plain pairs "mrtsnap, 1 pinned core" 2 "$PIN1 $MRTSNAP --threads 1 snapshot $full --format pairs -o /dev/null"
    measure rrc00-full.plain pairs "mrtsnap --no-mmap" 2 "$MRTSNAP --no-mmap snapshot $full --format pairs -o /dev/null"
    [ -n "$BGPKIT" ] && measure rrc00-full.plain pairs "bgpkit-parser -e (count only)" 2 "$BGPKIT -e $full > /dev/null"
    rm -f "$full"
fi

# ---- the table --------------------------------------------------------------
# Rows in input order (real files first), then task, then time; `× mrtsnap`
# against mrtsnap on all cores, `× 1 core` against mrtsnap on one pinned
# core, same file and task; then the speed-up of two pinned cores over one.
{
    for k in "${!BYTES[@]}"; do printf 'B\t%s\t%s\t%s\t%s\n' "$k" "${BYTES[$k]}" "${ENTRIES[$k]}" "${ORDER[$k]:-999}"; done
    cat "$ROWS"
} | python3 -c '
import sys
size, rank, rows = {}, {}, []
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if f[0] == "B":
        size[f[1]] = (int(f[2]), int(f[3]))
        rank[f[1]] = int(f[4])
    else:
        rows.append((f[0], f[1], f[2], float(f[3]), int(f[4] or 0)))
ONE, TWO = "mrtsnap, 1 pinned core", "mrtsnap, 2 pinned cores"
base = {(r[0], r[1]): r[3] for r in rows if r[2] == "mrtsnap"}
one = {(r[0], r[1]): r[3] for r in rows if r[2] == ONE}
two = {(r[0], r[1]): r[3] for r in rows if r[2] == TWO}
ratio = lambda t, d, k: f"{t / d[k]:.2f}" if k in d else "–"
print("| file | task | tool | median wall (s) | MB/s | M entries/s | peak RSS (MiB) | × mrtsnap | × 1 core |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
order = {"pairs": 0, "stats": 1, "dump": 2, "replay": 3, "day": 4, "nk": 5}
key = lambda r: (rank.get(r[0], 999), r[0], order.get(r[1], 9), r[3])
for r in sorted(rows, key=key):
    b, e = size.get(r[0], (0, 0))
    k = (r[0], r[1])
    print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.3f} | {b / r[3] / 1e6:,.0f} | {e / r[3] / 1e6:.2f} | {r[4] / 1024:,.0f} | {ratio(r[3], base, k)} | {ratio(r[3], one, k)} |")
both = sorted((k for k in one if k in two), key=lambda k: (rank.get(k[0], 999), k[0], order.get(k[1], 9)))
if both:
    print()
    print("| file | task | 1 pinned core (s) | 2 pinned cores (s) | speed-up |")
    print("|---|---|---:|---:|---:|")
    for k in both:
        print(f"| {k[0]} | {k[1]} | {one[k]:.3f} | {two[k]:.3f} | {one[k] / two[k]:.2f} |")
' | tee "$WORK/results.md"
say "table also in $WORK/results.md; machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
