#!/usr/bin/env python3
"""Write the seed corpus of each fuzz target from small files of the shared
MRT corpus (../../shared/corpus, or the directory given as argument).

  fuzz/corpus/mrt_framing/  whole small files and the first records of others
  fuzz/corpus/mrt_record/   type (2) subtype (2) body: a few records of each kind
  fuzz/corpus/bgp_message/  context byte, then a BGP message from a BGP4MP record
  fuzz/corpus/path_attrs/   context byte, then an attribute block
  fuzz/corpus/damaged_streams/  format, units, damaged unit, flips (with
                            three position/xor triples), then MRT records

The seeds are committed; rerun this only to regenerate them."""
import bz2, gzip, hashlib, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "corpus")
OUT = os.path.join(HERE, "corpus")

SMALL = [  # whole files
    "t2mune+mrtparse/samples/quagga_rib", "t2mune+mrtparse/samples/bird_bgp",
    "t2mune+mrtparse/samples/bird6-mrtdump_rib", "t2mune+mrtparse/samples/bird-mrtdump_bgp",
    "t2mune+mrtparse/samples/openbgpd_rib_table", "t2mune+mrtparse/samples/openbgpd_rib_table-v2",
    "t2mune+mrtparse/samples/openbgpd_rib_table-mp", "t2mune+mrtparse/samples/quagga_bgp_large_communities",
    "RIPE-NCC+bgpdump/_history/37dc902c/test_data/updates.et-header.2015.gz",
    "RIPE-NCC+bgpdump/test_data/updates.nlri_mask_trailing_bits.gz",
    "hadiasghari+pyasn/data/bview.20140112.1600_3samples.bz2",
]
PREFIX = [  # first records (up to 4 KiB) of larger files
    "RIPE-NCC+bgpdump/test_data/bview.ipv4_unicast_add_path.gz",
    "RIPE-NCC+bgpdump/test_data/bview.ipv6_unicast_add_path.gz",
    "RIPE-NCC+bgpdump/test_data/updates.20100722.2015.gz",
    "RIPE-NCC+bgpdump/test_data/updates.et-header.2015.gz",
    "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc00/2000.01/updates.20000102.2014.gz",
    "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc00/2000.03/updates.20000325.0345.gz",
    "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc01/2000.11/updates.20001104.0124.gz",
    "CAIDA+libbgpstream/test-dumps/routeviews.route-views.jinx.ribs.1401487200.bz2",
    "RIPE-NCC+bgpdump/test_data/bview.20020722.2337.gz",
    "t2mune+mrtparse/samples/openbgpd_bgp", "t2mune+mrtparse/samples/quagga_bgp",
]


def read(rel, limit=1 << 20):
    raw = open(os.path.join(CORPUS, rel), "rb").read()
    try:
        if raw[:2] == b"\x1f\x8b":
            return gzip.GzipFile(fileobj=__import__("io").BytesIO(raw)).read(limit)
        if raw[:3] == b"BZh":
            return bz2.BZ2Decompressor().decompress(raw, limit)
    except (EOFError, OSError):
        pass
    return raw[:limit]


def records(data):
    p = 0
    while p + 12 <= len(data):
        ts, t, st, l = struct.unpack(">IHHI", data[p:p + 12])
        if p + 12 + l > len(data):
            return
        yield p, t, st, data[p + 12:p + 12 + l]
        p += 12 + l


def put(target, data, limit=4096):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    data = data[:limit]
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def bgp_message(t, st, body):
    """(context byte, BGP message) of a BGP4MP(_ET) message record."""
    if t == 17:
        body = body[4:]
    as4 = st in (4, 7, 9, 11)
    addpath = st in (8, 9, 10, 11)
    n = 8 if as4 else 4
    if len(body) < n + 4:
        return None
    afi = struct.unpack(">H", body[n + 2:n + 4])[0]
    n += 4 + (32 if afi == 2 else 8)
    return bytes([int(as4) | (int(addpath) << 1)]), body[n:]


def attr_blocks(t, st, body):
    """(context byte, attribute block) pairs of one record."""
    out = []
    if t == 13 and st in (2, 4, 8, 10):
        afi = 1 if st in (2, 8) else 2
        plen = body[4]
        q = 5 + (plen + 7) // 8
        count = struct.unpack(">H", body[q:q + 2])[0]
        q += 2
        for _ in range(min(count, 2)):
            q += 6 + (4 if st >= 8 else 0)
            al = struct.unpack(">H", body[q:q + 2])[0]
            out.append((bytes([1 | (afi << 1)]), body[q + 2:q + 2 + al]))
            q += 2 + al
    elif t == 12 and st == 1:
        al = struct.unpack(">H", body[20:22])[0]
        out.append((b"\x00", body[22:22 + al]))
    elif t in (16, 17) and st in (1, 4, 9):
        m = bgp_message(t, st, body)
        if m and len(m[1]) > 23 and m[1][18] == 2:
            msg = m[1][19:]
            wl = struct.unpack(">H", msg[0:2])[0]
            al = struct.unpack(">H", msg[2 + wl:4 + wl])[0]
            out.append((m[0][:1], msg[4 + wl:4 + wl + al]))
    return out


def main():
    for rel in SMALL:
        put("mrt_framing", read(rel), 1 << 16)
    for rel in PREFIX:
        data = read(rel, 1 << 16)
        end = 0
        for p, t, st, body in records(data):
            if p + 12 + len(body) > 4096:
                break
            end = p + 12 + len(body)
        put("mrt_framing", data[:max(end, 1024)], 8192)
    per_kind, msgs, attrs = {}, {}, {}
    for rel in SMALL + PREFIX:
        for p, t, st, body in records(read(rel, 1 << 16)):
            if per_kind.setdefault((t, st), 0) < 3 and len(body) <= 2048:
                per_kind[(t, st)] += 1
                put("mrt_record", struct.pack(">HH", t, st) + body)
            if t in (16, 17) and st in (1, 4, 6, 7, 8, 9, 10, 11):
                m = bgp_message(t, st, body)
                if m and len(m[1]) >= 19:
                    key = (m[0], m[1][18], len(m[1]) // 64)
                    if msgs.setdefault(key, 0) < 2:
                        msgs[key] += 1
                        put("bgp_message", m[0] + m[1])
            if t == 5 and st in (1, 5, 6, 7) and len(body) >= 12:
                kind = {1: 2, 5: 1, 6: 3, 7: 4}[st]
                if msgs.setdefault(("legacy", kind), 0) < 3:
                    msgs[("legacy", kind)] += 1
                    put("bgp_message", bytes([4, kind]) + body[12:])
            for sel, block in attr_blocks(t, st, body):
                key = (sel, len(block) // 16)
                if attrs.setdefault(key, 0) < 2:
                    attrs[key] += 1
                    put("path_attrs", sel + block)
    # damaged_streams: each format, one to eight units, no flip to three.
    data = read("t2mune+mrtparse/samples/quagga_rib", 3000)
    for fmt in range(4):
        for units, unit, flips in [(0, 0, 0), (3, 1, 1), (7, 4, 2), (2, 2, 3)]:
            head = bytes([fmt, units, unit, flips, 0, 40, 0x10, 1, 3, 0x01, 0, 200, 0x80])
            put("damaged_streams", head + data, 1 << 16)


if __name__ == "__main__":
    main()
