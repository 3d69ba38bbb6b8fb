#!/usr/bin/env bash
# The generator's presets against the real RIBs they stand for, by decode
# cost (issue 15).
#
# For each pair, real file and generated table, counts the instructions of
# `mrtsnap snapshot FILE --format pairs -o /dev/null --threads 1` under
# callgrind (repeatable from run to run, unlike time on shared cores) and
# prints one Markdown table: uncompressed bytes, RIB records and entries
# (`mrtsnap stats`), bytes per entry, entries per record, instructions
# (Ir), Ir per byte and per entry, and for each generated table its Ir per
# byte as a multiple of the real file's. Exits 1 when a multiple lies
# outside 1 ± CALIBRATE_TOLERANCE, 2 when something needed is missing.
#
# | preset (`mrtsnap synth rib --preset`) | real file (shared corpus)                                   |
# |---------------------------------------|-------------------------------------------------------------|
# | jinx, scale 1 (32.5 MB)               | route-views.jinx 2014-05-30 22:00, whole (31 MiB)           |
# | route-views2, scale 0.01 (16.7 MB)    | route-views2 2014-05-23 06:00, first MB of bz2 (15.3 MB)    |
# | route-views6, scale 0.03 (12.2 MB)    | route-views6 2015-11-01 06:00, first MB of bz2 (12.1 MB)    |
#
# The firstMB files stop inside a record; they are cut to their last whole
# record (the common header's length, bytes 8..12, tiles the file). The
# comparison is per byte because they are small; the generated tables are
# of the same size, and the cost of a run on a file holding only route-
# views2's PEER_INDEX_TABLE (startup: ~1.5M Ir, about 1% of the smallest
# file's) is subtracted from every count before dividing.
#
# The lead's figures move as the snapshot gets faster; the multiples are
# what this checks.
#
# Environment (defaults in brackets):
#   CALIBRATE_TOLERANCE  allowed relative difference of Ir per byte [0.20]
#   CALIBRATE_SEED       generator seed [1, as `synth rib`'s default]
#   CALIBRATE_SCALE_JINX, CALIBRATE_SCALE_RV2, CALIBRATE_SCALE_RV6
#                        preset scales [1, 0.01, 0.03]
#   CALIBRATE_DIR        working directory [a new /tmp/mrtsnap-calibrate.*];
#                        its files are deleted at the end unless
#                        CALIBRATE_KEEP=1, which also keeps each run's
#                        callgrind profile (callgrind.NAME.out)
#   MRTSNAP_CORPUS       the shared corpus [../shared/corpus]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOL=${CALIBRATE_TOLERANCE:-0.20}
SEED=${CALIBRATE_SEED:-1}
CORPUS=${MRTSNAP_CORPUS:-$ROOT/../shared/corpus}
KEEP=${CALIBRATE_KEEP:-0}
WORK=${CALIBRATE_DIR:-$(mktemp -d /tmp/mrtsnap-calibrate.XXXXXX)}
mkdir -p "$WORK"

say() { echo "calibrate: $*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { say "$1 is required${2:+ ($2)}"; exit 2; }; }
need valgrind "apt-get install valgrind"
need python3
need bzip2

cleanup() {
    if [ "$KEEP" != 1 ]; then
        rm -f "$WORK"/*.mrt "$WORK"/*.raw "$WORK"/rows.tsv
        rmdir "$WORK" 2>/dev/null || true
    fi
}
trap cleanup EXIT

say "building mrtsnap (release)"
(cd "$ROOT" && cargo build --release --quiet)
TARGET=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
MRTSNAP="$TARGET/release/mrtsnap"

JINX="$CORPUS/CAIDA+libbgpstream/test-dumps/routeviews.route-views.jinx.ribs.1401487200.bz2"
RV2="$CORPUS/hadiasghari+pyasn/data/rib.20140523.0600_firstMB.bz2"
RV6="$CORPUS/hadiasghari+pyasn/data/rib6.20151101.0600_firstMB.bz2"
for f in "$JINX" "$RV2" "$RV6"; do
    [ -f "$f" ] || { say "$f not found (MRTSNAP_CORPUS names the shared corpus)"; exit 2; }
done

# trim IN OUT [RECORDS]: the whole MRT records of IN (at most RECORDS of them).
trim() {
    python3 - "$1" "$2" "${3:-0}" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
limit = int(sys.argv[3])
at = n = 0
while at + 12 <= len(data) and (limit == 0 or n < limit):
    end = at + 12 + struct.unpack(">I", data[at + 8:at + 12])[0]
    if end > len(data):
        break
    at, n = end, n + 1
open(sys.argv[2], "wb").write(data[:at])
EOF
}

say "decompressing and trimming the real files"
bzip2 -dc "$JINX" > "$WORK/real-jinx.mrt"
for pair in "rv2:$RV2" "rv6:$RV6"; do
    name=${pair%%:*}
    # The stream is cut too: bzip2 reports it and exits 2 after writing
    # what it could decode.
    bzip2 -dc "${pair#*:}" > "$WORK/$name.raw" 2>/dev/null || true
    trim "$WORK/$name.raw" "$WORK/real-$name.mrt"
done
trim "$WORK/real-rv2.mrt" "$WORK/peer-table.mrt" 1

say "generating the presets (seed $SEED)"
"$MRTSNAP" synth rib --preset jinx --scale "${CALIBRATE_SCALE_JINX:-1}" --seed "$SEED" -o "$WORK/synth-jinx.mrt" 2>/dev/null
"$MRTSNAP" synth rib --preset route-views2 --scale "${CALIBRATE_SCALE_RV2:-0.01}" --seed "$SEED" -o "$WORK/synth-rv2.mrt" 2>/dev/null
"$MRTSNAP" synth rib --preset route-views6 --scale "${CALIBRATE_SCALE_RV6:-0.03}" --seed "$SEED" -o "$WORK/synth-rv6.mrt" 2>/dev/null

# ir NAME: instructions of one single-threaded snapshot of $WORK/NAME.mrt.
ir() {
    local out=/dev/null
    [ "$KEEP" = 1 ] && out="$WORK/callgrind.$1.out"
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$MRTSNAP" snapshot "$WORK/$1.mrt" --format pairs -o /dev/null --threads 1 2>&1 >/dev/null |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

say "counting instructions (callgrind)"
FIXED=$(ir peer-table)
ROWS="$WORK/rows.tsv"
: > "$ROWS"
for name in jinx rv2 rv6; do
    for kind in real synth; do
        f="$kind-$name"
        n=$(ir "$f")
        [ -n "$n" ] || { say "callgrind gave no count for $f"; exit 2; }
        stats=$("$MRTSNAP" stats --json "$WORK/$f.mrt")
        printf '%s\t%s\t%s\t%s\n' "$name" "$kind" "$n" "$stats" >> "$ROWS"
    done
done

python3 - "$ROWS" "$FIXED" "$TOL" <<'EOF'
import json, sys
rows_path, fixed, tol = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
label = {
    ("jinx", "real"): "route-views.jinx 2014 (whole)",
    ("jinx", "synth"): "synth --preset jinx",
    ("rv2", "real"): "route-views2 2014 (first MB)",
    ("rv2", "synth"): "synth --preset route-views2",
    ("rv6", "real"): "route-views6 2015 (first MB)",
    ("rv6", "synth"): "synth --preset route-views6",
}
per_byte = {}
print(f"Startup cost subtracted from every count: {fixed:,} Ir (a PEER_INDEX_TABLE alone).")
print()
print("| file | bytes | RIB records | RIB entries | bytes/entry | entries/record | Ir | Ir/byte | Ir/entry | Ir/byte vs real |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
failed = []
for line in open(rows_path):
    name, kind, ir, stats = line.rstrip("\n").split("\t", 3)
    s = json.loads(stats)
    size = s["decoded_bytes"]
    entries = s["rib_entries"]["ipv4"] + s["rib_entries"]["ipv6"]
    records = s["rib_prefixes"]["ipv4"] + s["rib_prefixes"]["ipv6"]
    cost = int(ir) - fixed
    pb = cost / size
    per_byte[(name, kind)] = pb
    ratio = ""
    if kind == "synth":
        r = pb / per_byte[(name, "real")]
        ratio = f"{r:.3f}"
        if abs(r - 1) > tol:
            failed.append(f"{label[(name, kind)]}: {r:.3f}")
    print(f"| {label[(name, kind)]} | {size:,} | {records:,} | {entries:,} | {size / entries:.1f} | "
          f"{entries / records:.2f} | {cost:,} | {pb:.2f} | {cost / entries:.0f} | {ratio} |")
if failed:
    print(f"\noutside 1 ± {tol}: " + "; ".join(failed), file=sys.stderr)
    sys.exit(1)
EOF
