#!/usr/bin/env bash
# mrtsnap side by side with the MRT tools people use (issue 4, section 4).
#
# Times mrtsnap, bgpkit-parser (CLI), bgpdump and, when installed, bgpgrep on
# the same files: the route-views.jinx 2014 RIB from the shared corpus (bz2
# and plain) and generated route-views2-like and rrc00-like tables (plain,
# gz, bz2). Two tasks: `dump` (every route as text, to /dev/null) and
# `pairs` (prefix-origin pairs with peer counts: `mrtsnap snapshot --format
# pairs`; `bgpdump -m | awk` and `bgpkit-parser | awk` to the same pairs;
# also `bgpkit-parser -e`, which only counts elements, the fastest thing it
# does). Prints one Markdown table: median wall time of several runs
# (hyperfine), MB/s of uncompressed input, RIB entries per second, peak RSS
# (the largest process of the command, from /usr/bin/time), and the time as
# a multiple of mrtsnap's on the same file and task.
#
# A third task, `replay`, takes the corpus's real updates files (RouteViews
# route-views.jinx onto its RIB and alone; RIS rrc06 and rrc15 and the PCH
# BGP4MP_ET file from empty state) to the state at their last record:
# `mrtsnap snapshot --at END [RIB] UPDATES... --format pairs -o /dev/null`,
# against `bgpkit-parser -e` over the same files; its entries are RIB
# entries plus announced and withdrawn prefixes.
#
# A fourth task, `day` (not run unless asked), generates a day of an
# rrc00-like collector (`mrtsnap synth archive --preset rrc00-day`: 3 RIBs,
# 288 five-minute updates files; 2 GB, about 2.5 minutes; kept in
# COMPARE_DAY_DIR when set) and times the replay of the day to its end
# (the reference of the row), its all-origins 5-minute visibility timeline
# (`timeline --all-origins`, Parquet), the state every hour from its RIBs
# and updates (`snapshot --every 1h`), the state at its end from the
# updates alone, and `bgpkit-parser -e` over the updates files alone, one
# process per core (xargs -P), once each. A fifth, `nk`, runs the
# outage detector on the nk-2014 scenario (below).
#
# Environment (defaults in brackets):
#   COMPARE_TASKS       tasks to run ["dump pairs replay"]; `replay` alone
#                       needs no generated table (a minute or two); `day`
#                       and `nk` only when named
#   COMPARE_DAY_DIR     where the `day` archive is written or found [$WORK/day]
#   COMPARE_NK_DIR      where the `nk` scenario is written or found [$WORK/nk]
#   COMPARE_NK_SCALE    its scale [1]
#   COMPARE_SCALE       scale of the generated tables [0.05]; 1.0 is full
#                       size: route-views2-like ~21M RIB entries (~1.3 GB),
#                       rrc00-like ~53M (~3.2 GB). bgpdump reads ~7 MB/s, so
#                       full size takes hours; 0.05 takes ~20 minutes.
#   COMPARE_FORMATS     compressions of the generated tables ["plain gz bz2"]
#   COMPARE_RUNS        runs per fast command [5]
#   COMPARE_SLOW_RUNS   runs per command of bgpdump / text output [2]
#   COMPARE_FULL_RRC00  1: also generate the full-size rrc00-like table
#                       (3.2 GB) and time mrtsnap snapshot (1 and N threads,
#                       mapped and read) and bgpkit-parser -e on it once,
#                       with peak RSS [0]
#   COMPARE_INSTALL     1: `cargo install bgpkit-parser --features cli` when
#                       it is not found (about 11 minutes) [0]
#   COMPARE_DIR         working directory [a new /tmp/mrtsnap-compare.*];
#                       generated files are deleted at the end unless
#                       COMPARE_KEEP=1
#   MRTSNAP_CORPUS      the shared corpus [../shared/corpus]
#   BGPKIT, BGPDUMP, BGPGREP  tool paths (found on PATH, /opt/peers/bin or
#                       ~/.cargo/bin otherwise)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCALE=${COMPARE_SCALE:-0.05}
FORMATS=${COMPARE_FORMATS:-plain gz bz2}
TASKS=" ${COMPARE_TASKS:-dump pairs replay} "
RUNS=${COMPARE_RUNS:-5}
SLOW_RUNS=${COMPARE_SLOW_RUNS:-2}
FULL=${COMPARE_FULL_RRC00:-0}
CORPUS=${MRTSNAP_CORPUS:-$ROOT/../shared/corpus}
WORK=${COMPARE_DIR:-$(mktemp -d /tmp/mrtsnap-compare.XXXXXX)}
mkdir -p "$WORK"
ROWS="$WORK/rows.tsv"
: > "$ROWS"

say() { echo "compare: $*" >&2; }
has_task() { [[ "$TASKS" == *" $1 "* ]]; }
need() { command -v "$1" >/dev/null 2>&1 || { say "$1 is required${2:+ ($2)}"; exit 2; }; }
need hyperfine "apt-get install hyperfine"
need python3
[ -x /usr/bin/time ] || { say "/usr/bin/time is required (apt-get install time)"; exit 2; }

cleanup() {
    if [ "${COMPARE_KEEP:-0}" != 1 ]; then
        rm -f "$WORK"/*.mrt "$WORK"/*.mrt.gz "$WORK"/*.mrt.bz2 "$WORK"/*.json "$WORK"/rss.*
    fi
}
trap cleanup EXIT

# ---- tools ------------------------------------------------------------------
say "building mrtsnap (release)"
(cd "$ROOT" && cargo build --release --quiet)
TARGET=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
MRTSNAP="$TARGET/release/mrtsnap"

find_tool() { # name, env override, extra places
    local name=$1 override=$2
    if [ -n "$override" ]; then echo "$override"; return; fi
    for p in "$(command -v "$name" 2>/dev/null || true)" "/opt/peers/bin/$name" "$HOME/.cargo/bin/$name"; do
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
[ -n "$BGPKIT" ] || say "bgpkit-parser not found (COMPARE_INSTALL=1 installs it): skipped"
[ -n "$BGPDUMP" ] || say "bgpdump not found (apt-get install bgpdump): skipped"
[ -n "$BGPGREP" ] || say "bgpgrep not found: skipped"

# ---- inputs -----------------------------------------------------------------
# name -> file; uncompressed bytes and RIB entries from `mrtsnap stats`.
declare -A FILE
add_input() { FILE[$1]=$2; }

JINX="$CORPUS/CAIDA+libbgpstream/test-dumps/routeviews.route-views.jinx.ribs.1401487200.bz2"
if ! has_task dump && ! has_task pairs; then
    :
elif [ -f "$JINX" ]; then
    cp "$JINX" "$WORK/jinx.mrt.bz2"
    bzip2 -dc "$JINX" > "$WORK/jinx.mrt"
    add_input jinx.bz2 "$WORK/jinx.mrt.bz2"
    add_input jinx.plain "$WORK/jinx.mrt"
else
    say "jinx RIB not found under $CORPUS: skipped"
fi
for preset in route-views2 rrc00; do
    has_task dump || has_task pairs || break
    for f in $FORMATS; do
        ext=""; [ "$f" != plain ] && ext=".$f"
        out="$WORK/$preset.mrt$ext"
        say "generating $preset-like table, scale $SCALE, $f"
        "$MRTSNAP" synth rib --preset "$preset" --scale "$SCALE" -o "$out" 2>&1 | sed 's/^/compare: /' >&2
        add_input "$preset.$f" "$out"
    done
done

# ---- measuring --------------------------------------------------------------
# measure INPUT TASK TOOL RUNS COMMAND...: median wall (hyperfine), peak RSS
# of the largest process of each run (/usr/bin/time, max over runs).
measure() {
    local input=$1 task=$2 tool=$3 runs=$4 cmd=$5
    has_task "$task" || return 0
    local rss="$WORK/rss.$$"
    : > "$rss"
    say "$input $task $tool: $cmd"
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

PAIRS_BGPDUMP='BEGIN{FS="|"} {n=split($7,a," "); k=$6"\t"a[n]; if (!((k SUBSEP $4) in s)) {s[k SUBSEP $4]=1; c[k]++}} END{for (k in c) print k"\t"c[k]}'
PAIRS_BGPKIT='BEGIN{FS="|"} {n=split($6,a," "); k=$5"\t"a[n]; if (!((k SUBSEP $3) in s)) {s[k SUBSEP $3]=1; c[k]++}} END{for (k in c) print k"\t"c[k]}'
echo "$PAIRS_BGPDUMP" > "$WORK/pairs_bgpdump.awk"
echo "$PAIRS_BGPKIT" > "$WORK/pairs_bgpkit.awk"

declare -A BYTES ENTRIES
for input in $(printf '%s\n' "${!FILE[@]}" | sort); do
    f=${FILE[$input]}
    stats=$("$MRTSNAP" -q stats --json "$f")
    BYTES[$input]=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["decoded_bytes"])')
    ENTRIES[$input]=$(echo "$stats" | python3 -c 'import json,sys; e=json.load(sys.stdin)["rib_entries"]; print(e["ipv4"]+e["ipv6"])')
    measure "$input" dump mrtsnap "$RUNS" "$MRTSNAP dump $f > /dev/null"
    measure "$input" pairs mrtsnap "$RUNS" "$MRTSNAP snapshot $f --format pairs -o /dev/null"
    measure "$input" pairs "mrtsnap --threads 1" "$RUNS" "$MRTSNAP --threads 1 snapshot $f --format pairs -o /dev/null"
    if [ -n "$BGPKIT" ]; then
        measure "$input" dump bgpkit-parser "$SLOW_RUNS" "$BGPKIT $f > /dev/null"
        measure "$input" pairs "bgpkit-parser + awk" "$SLOW_RUNS" "$BGPKIT $f | awk -f $WORK/pairs_bgpkit.awk > /dev/null"
        measure "$input" pairs "bgpkit-parser -e (count only)" "$RUNS" "$BGPKIT -e $f > /dev/null"
    fi
    if [ -n "$BGPDUMP" ]; then
        measure "$input" dump "bgpdump -m" "$SLOW_RUNS" "$BGPDUMP -m $f > /dev/null 2>&1"
        measure "$input" pairs "bgpdump -m + awk" "$SLOW_RUNS" "$BGPDUMP -m $f 2>/dev/null | awk -f $WORK/pairs_bgpdump.awk > /dev/null"
    fi
    if [ -n "$BGPGREP" ]; then
        measure "$input" dump bgpgrep "$SLOW_RUNS" "$BGPGREP $f > /dev/null"
    fi
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
    measure "replay.$name" replay "mrtsnap --threads 1" "$RUNS" "$MRTSNAP --threads 1 snapshot --at $end $* --format pairs -o /dev/null"
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
        tail -1 "$ROWS" | sed 's/^day\.updates\t/day\t/' >> "$ROWS"
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
    measure rrc00-full.plain pairs "mrtsnap --threads 1" 2 "$MRTSNAP --threads 1 snapshot $full --format pairs -o /dev/null"
    measure rrc00-full.plain pairs "mrtsnap --no-mmap" 2 "$MRTSNAP --no-mmap snapshot $full --format pairs -o /dev/null"
    [ -n "$BGPKIT" ] && measure rrc00-full.plain pairs "bgpkit-parser -e (count only)" 2 "$BGPKIT -e $full > /dev/null"
    rm -f "$full"
fi

# ---- the table --------------------------------------------------------------
{
    for k in "${!BYTES[@]}"; do printf 'B\t%s\t%s\t%s\n' "$k" "${BYTES[$k]}" "${ENTRIES[$k]}"; done
    cat "$ROWS"
} | python3 -c '
import sys
size, rows = {}, []
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if f[0] == "B":
        size[f[1]] = (int(f[2]), int(f[3]))
    else:
        rows.append((f[0], f[1], f[2], float(f[3]), int(f[4] or 0)))
base = {(r[0], r[1]): r[3] for r in rows if r[2] == "mrtsnap"}
print("| file | task | tool | median wall (s) | MB/s | M entries/s | peak RSS (MiB) | × mrtsnap |")
print("|---|---|---|---:|---:|---:|---:|---:|")
order = {"dump": 0, "pairs": 1, "replay": 2, "day": 3, "nk": 4}
for r in sorted(rows, key=lambda r: (r[0], order.get(r[1], 9), r[3])):
    b, e = size.get(r[0], (0, 0))
    ratio = r[3] / base[(r[0], r[1])] if (r[0], r[1]) in base else float("nan")
    print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.3f} | {b / r[3] / 1e6:,.0f} | {e / r[3] / 1e6:.2f} | {r[4] / 1024:,.0f} | {ratio:.1f} |")
' | tee "$WORK/results.md"
say "table also in $WORK/results.md; machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
