//! Helpers shared by the integration tests (and, through `#[path]`, by the
//! fuzz targets): locating the shared corpus, reading its manifest,
//! decompressing files in memory, and [`walk`], which decodes every layer of
//! an input and records what it found.
#![allow(dead_code)]

use mrtsnap::bgp::{AsPathBuf, Attrs, Message, Update};
use mrtsnap::dump::BgpdumpWriter;
use mrtsnap::mrt::{Bgp4mpBody, FrameState, PeerTable, RawRecord, Record, Records};
use mrtsnap::Error;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The shared corpus: `$MRTSNAP_CORPUS`, or `../shared/corpus` next to the
/// crate. `None` (after saying so on stderr) when it is absent, so that tests
/// needing it skip instead of failing on a fresh clone.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("MRTSNAP_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    };
    if dir.join("MANIFEST.tsv").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: shared MRT corpus not found at {} (set MRTSNAP_CORPUS to its path); test not run",
            dir.display()
        );
        None
    }
}

/// Evaluate to the corpus directory, or return from the test (skipping it).
#[macro_export]
macro_rules! corpus_or_skip {
    () => {
        match $crate::common::corpus_dir() {
            Some(d) => d,
            None => return,
        }
    };
}

/// One `kind = mrt` row of MANIFEST.tsv.
#[derive(Clone, Debug)]
pub struct ManifestRow {
    /// Path relative to the corpus root.
    pub path: String,
    /// Uncompressed size in bytes.
    pub uncompressed: u64,
    /// Whole records by `(type, subtype)`.
    pub records: Counts,
    /// Records cut by the end of the file (`... TRUNCATED:n` entries).
    pub truncated: Counts,
}

/// Record counts by `(type, subtype)`.
pub type Counts = BTreeMap<(u16, u16), u64>;

/// Parse a `records_by_type` cell such as
/// `TABLE_DUMP_V2(13)/PEER_INDEX_TABLE(1):1,TABLE_DUMP_V2(13)/RIB_IPV4_UNICAST(2) TRUNCATED:1`
/// into the whole records and the truncated ones.
pub fn parse_records_by_type(cell: &str) -> (Counts, Counts) {
    let (mut whole, mut cut) = (BTreeMap::new(), BTreeMap::new());
    for item in cell.split(',').filter(|s| !s.is_empty()) {
        let (key, count) = item.rsplit_once(':').unwrap_or_else(|| panic!("bad manifest entry {item:?}"));
        let count: u64 = count.parse().unwrap_or_else(|_| panic!("bad count in {item:?}"));
        let code = |s: &str| -> u16 {
            let open = s.rfind('(').unwrap_or_else(|| panic!("no code in {item:?}"));
            s[open + 1..]
                .trim_end_matches(')')
                .parse()
                .unwrap_or_else(|_| panic!("bad code in {item:?}"))
        };
        let (key, truncated) = match key.strip_suffix(" TRUNCATED") {
            Some(k) => (k, true),
            None => (key, false),
        };
        let (t, st) = key.split_once('/').unwrap_or_else(|| panic!("bad key {item:?}"));
        let map = if truncated { &mut cut } else { &mut whole };
        *map.entry((code(t), code(st))).or_insert(0) += count;
    }
    (whole, cut)
}

/// The MRT rows of MANIFEST.tsv.
pub fn manifest(dir: &Path) -> Vec<ManifestRow> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().expect("manifest header").split('\t').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (c_path, c_kind, c_unc, c_rbt) = (col("path"), col("kind"), col("uncompressed_bytes"), col("records_by_type"));
    let mut rows = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        if f[c_kind] != "mrt" {
            continue;
        }
        let (records, truncated) = parse_records_by_type(f[c_rbt]);
        rows.push(ManifestRow {
            path: f[c_path].to_string(),
            uncompressed: f[c_unc].parse().expect("uncompressed_bytes"),
            records,
            truncated,
        });
    }
    rows
}

/// Paths listed in KNOWN_DIFFERENCES.tsv.
pub fn known_differences(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("KNOWN_DIFFERENCES.tsv")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect()
}

/// Decompress `data` (gzip, bzip2 or plain, by magic) in memory, at most
/// `limit` bytes. Returns what could be decompressed and the error that
/// stopped the decompressor early, if any.
pub fn decompress_prefix(data: &[u8], limit: usize) -> (Vec<u8>, Option<std::io::Error>) {
    let mut reader: Box<dyn Read + '_> = match data {
        [0x1f, 0x8b, ..] => Box::new(flate2::read::MultiGzDecoder::new(data)),
        [b'B', b'Z', b'h', ..] => Box::new(bzip2::read::MultiBzDecoder::new(data)),
        _ => Box::new(data),
    };
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    while out.len() < limit {
        let want = buf.len().min(limit - out.len());
        match reader.read(&mut buf[..want]) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}

/// Read a corpus file and decompress it whole (ignoring a truncated stream's error).
pub fn read_corpus_file(dir: &Path, rel: &str) -> Vec<u8> {
    let raw = std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    decompress_prefix(&raw, usize::MAX).0
}

/// Read a gzip-compressed reference output whole.
pub fn read_gz_text(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (text, err) = decompress_prefix(&raw, usize::MAX);
    assert!(err.is_none(), "{}: {err:?}", path.display());
    text
}

/// What [`walk`] saw of one framed record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSummary {
    /// Record index.
    pub index: u64,
    /// Absolute offset of the header.
    pub offset: u64,
    /// Absolute offset just past the record, its slack included.
    pub end: u64,
    /// MRT type and subtype.
    pub kind: (u16, u16),
    /// Header timestamp.
    pub timestamp: u32,
    /// Units decoded without error: RIB / TABLE_DUMP entries, prefixes
    /// announced or withdrawn, state changes, other messages.
    pub units: u64,
    /// Errors met while decoding the record (eagerly or lazily).
    pub errors: u64,
    /// Bytes of bgpdump output for the record.
    pub out_len: usize,
    /// FNV-1a hash of that output.
    pub out_hash: u64,
}

/// Everything [`walk`] found in an input.
#[derive(Clone, Debug, Default)]
pub struct Walk {
    /// Framed records by `(type, subtype)`.
    pub by_type: BTreeMap<(u16, u16), u64>,
    /// Every framed record, in order.
    pub records: Vec<RecordSummary>,
    /// Every error, in order: framing, record decoding, and the lazy layers
    /// (RIB entries, attributes, AS paths, prefixes).
    pub errors: Vec<Error>,
    /// How many of `errors` came from framing.
    pub frame_errors: usize,
    /// RIB and TABLE_DUMP entries decoded.
    pub entries: u64,
    /// Prefixes announced (NLRI and MP_REACH) and withdrawn (withdrawn
    /// routes and MP_UNREACH) in messages.
    pub announced: u64,
    /// Prefixes withdrawn.
    pub withdrawn: u64,
    /// RIB records decoded while no PEER_INDEX_TABLE had been seen.
    pub rib_without_peers: u64,
    /// bgpdump `-m` output.
    pub dump: Vec<u8>,
}

impl Walk {
    /// Errors by kind name.
    pub fn errors_by_kind(&self) -> BTreeMap<&'static str, u64> {
        let mut m = BTreeMap::new();
        for e in &self.errors {
            *m.entry(e.kind().name()).or_insert(0) += 1;
        }
        m
    }

    /// Number of output lines.
    pub fn lines(&self) -> usize {
        self.dump.iter().filter(|&&b| b == b'\n').count()
    }
}

/// FNV-1a, to compare record outputs without keeping them.
pub fn fnv(data: &[u8]) -> u64 {
    data.iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Walk the attributes of a block: every AS path segment, communities, MP
/// reach/unreach prefixes, the AS4 merge. Returns prefixes decoded.
pub fn walk_attrs(a: &Attrs<'_>, add_path: bool, errors: &mut Vec<Error>) -> u64 {
    let mut units = 0;
    let mut sink = 0u64;
    for p in [a.as_path, a.as4_path].into_iter().flatten() {
        for s in p.segments() {
            sink = sink.wrapping_add(s.asns().map(u64::from).sum::<u64>());
        }
        let _ = p.origin();
        sink = sink.wrapping_add(p.count() as u64);
    }
    if let (Some(p), Some(p4)) = (a.as_path, a.as4_path) {
        let mut pb = AsPathBuf::new();
        pb.merge(&p, &p4);
        let _ = pb.origin();
    }
    sink = sink.wrapping_add(a.communities().count() as u64);
    sink = sink.wrapping_add(a.large_communities().count() as u64);
    sink = sink.wrapping_add(a.ext_communities().count() as u64);
    sink = sink.wrapping_add(a.cluster_list().count() as u64);
    let _ = a.effective_aggregator();
    for r in a.raw_attrs() {
        if let Err(e) = r {
            errors.push(e);
        }
    }
    // Other families (VPN, EVPN, flowspec, ...) are kept raw, never decoded as IP prefixes.
    if let Some(m) = a.mp_reach.filter(|m| m.is_ip()) {
        let _ = m.next_hop_addr();
        for p in m.prefixes(add_path).iter() {
            match p {
                Ok(_) => units += 1,
                Err(e) => errors.push(e),
            }
        }
    }
    if let Some(m) = a.mp_unreach.filter(|m| m.is_ip()) {
        for p in m.prefixes(add_path).iter() {
            match p {
                Ok(_) => units += 1,
                Err(e) => errors.push(e),
            }
        }
    }
    std::hint::black_box(sink);
    units
}

/// Walk an UPDATE: withdrawn routes, attributes, NLRI. Returns
/// `(announced, withdrawn)` prefixes decoded.
pub fn walk_update(u: &Update<'_>, errors: &mut Vec<Error>) -> (u64, u64) {
    let (mut ann, mut wd) = (0, 0);
    for p in u.withdrawn.iter() {
        match p {
            Ok(_) => wd += 1,
            Err(e) => errors.push(e),
        }
    }
    for p in u.nlri.iter() {
        match p {
            Ok(_) => ann += 1,
            Err(e) => errors.push(e),
        }
    }
    if let Some(m) = u.attrs.mp_reach.filter(|m| m.is_ip()) {
        for p in m.prefixes(u.add_path).iter() {
            match p {
                Ok(_) => ann += 1,
                Err(e) => errors.push(e),
            }
        }
    }
    if let Some(m) = u.attrs.mp_unreach.filter(|m| m.is_ip()) {
        for p in m.prefixes(u.add_path).iter() {
            match p {
                Ok(_) => wd += 1,
                Err(e) => errors.push(e),
            }
        }
    }
    // Attributes again through the generic walker (AS paths, merge, ...).
    walk_attrs(&u.attrs, u.add_path, &mut Vec::new());
    (ann, wd)
}

/// Walk a BGP message. Returns `(announced, withdrawn, other)` units.
pub fn walk_message(m: &Message<'_>, errors: &mut Vec<Error>) -> (u64, u64, u64) {
    match m {
        Message::Update(u) => {
            let (a, w) = walk_update(u, errors);
            (a, w, 0)
        }
        Message::Open(o) => {
            let n = o.capabilities().count() as u64;
            let _ = o.as4();
            std::hint::black_box(n);
            (0, 0, 1)
        }
        _ => (0, 0, 1),
    }
}

/// Decode one framed record as far as it goes, updating `w`.
fn walk_record(raw: &RawRecord<'_>, peers: &mut Option<PeerTable>, writer: &mut BgpdumpWriter, w: &mut Walk) {
    let errors_before = w.errors.len();
    let out_before = w.dump.len();
    let mut units = 0u64;
    match Record::decode(raw) {
        Err(e) => w.errors.push(e),
        Ok(rec) => {
            match &rec {
                Record::PeerIndexTable(t) => {
                    units += t.peers.len() as u64;
                    *peers = Some(t.clone());
                }
                Record::Rib(rib) => {
                    if peers.is_none() {
                        w.rib_without_peers += 1;
                    }
                    for e in rib.entries() {
                        match e {
                            Ok(e) => {
                                units += 1;
                                w.entries += 1;
                                match e.parse_attrs(rib.afi) {
                                    Ok(a) => {
                                        walk_attrs(&a, rib.add_path, &mut w.errors);
                                    }
                                    Err(err) => w.errors.push(err),
                                }
                            }
                            Err(err) => w.errors.push(err),
                        }
                    }
                }
                Record::TableDump(td) => {
                    for e in td.clone() {
                        match e {
                            Ok(e) => {
                                units += 1;
                                w.entries += 1;
                                match e.parse_attrs() {
                                    Ok(a) => {
                                        walk_attrs(&a, false, &mut w.errors);
                                    }
                                    Err(err) => w.errors.push(err),
                                }
                            }
                            Err(err) => w.errors.push(err),
                        }
                    }
                }
                Record::Bgp4mp(m) => units += walk_body(&m.body, w),
                Record::LegacyBgp(l) => units += walk_body(&l.body, w),
                Record::GeoPeerTable(_) | Record::Skipped => units += 1,
                #[allow(unreachable_patterns)]
                _ => units += 1,
            }
            writer.write_record(raw, &rec, peers.as_ref(), &mut w.dump);
        }
    }
    let out = &w.dump[out_before..];
    w.records.push(RecordSummary {
        index: raw.index,
        offset: raw.offset,
        end: raw.body_offset + (raw.body.len() + raw.slack.len()) as u64,
        kind: (raw.header.mrt_type, raw.header.subtype),
        timestamp: raw.header.timestamp,
        units,
        errors: (w.errors.len() - errors_before) as u64,
        out_len: out.len(),
        out_hash: fnv(out),
    });
}

fn walk_body(body: &Bgp4mpBody<'_>, w: &mut Walk) -> u64 {
    match body {
        Bgp4mpBody::Message { message, .. } => {
            let (a, wd, o) = walk_message(message, &mut w.errors);
            w.announced += a;
            w.withdrawn += wd;
            a + wd + o
        }
        Bgp4mpBody::Entry(e) => {
            for asn_len in [2, 4] {
                let ctx = mrtsnap::bgp::attr::AttrContext { asn_len, rib_afi: None };
                if let Ok(a) = Attrs::parse(e.attrs, e.attrs_offset, ctx) {
                    walk_attrs(&a, false, &mut Vec::new());
                }
            }
            w.entries += 1;
            1
        }
        _ => 1,
    }
}

/// Where [`walk_from`] starts: a record boundary of a larger input, with
/// the framing state and peer table in effect there.
#[derive(Clone, Debug, Default)]
pub struct Start {
    /// Absolute offset of the first byte.
    pub base: u64,
    /// Index of the first record.
    pub first_index: u64,
    /// Framing state.
    pub state: FrameState,
    /// PEER_INDEX_TABLE in effect.
    pub peers: Option<PeerTable>,
}

/// Decode every layer of `data` (a whole decompressed input) with
/// [`Records`], as the dump command does but sequentially and recording
/// every error, including those of the lazy layers.
pub fn walk(data: &[u8]) -> Walk {
    walk_from(data, Start::default())
}

/// [`walk`] over `data`, the input from a record boundary `start` on.
pub fn walk_from(data: &[u8], start: Start) -> Walk {
    let mut w = Walk::default();
    let mut peers = start.peers;
    let mut writer = BgpdumpWriter::new();
    for raw in Records::new(data, start.base, start.first_index, start.state) {
        match raw {
            Err(e) => {
                w.errors.push(e);
                w.frame_errors += 1;
            }
            Ok(raw) => {
                *w.by_type.entry((raw.header.mrt_type, raw.header.subtype)).or_insert(0) += 1;
                walk_record(&raw, &mut peers, &mut writer, &mut w);
            }
        }
    }
    w
}

/// One framing step, as cutters are compared: a record's index, offset,
/// end (slack included) and type/subtype, or a framing error's offset,
/// record index and message.
pub type FrameStep = std::result::Result<(u64, u64, u64, (u16, u16)), (u64, Option<u64>, String)>;

/// The framing steps of `records`.
pub fn frame_steps<'a>(records: impl Iterator<Item = mrtsnap::Result<RawRecord<'a>>>) -> Vec<FrameStep> {
    records
        .map(|r| match r {
            Ok(r) => Ok((
                r.index,
                r.offset,
                r.body_offset + (r.body.len() + r.slack.len()) as u64,
                (r.header.mrt_type, r.header.subtype),
            )),
            Err(e) => Err((e.offset(), e.record(), e.to_string())),
        })
        .collect()
}

/// The framing steps of `data` (an uncompressed input) cut into batches of
/// `batch_size` bytes (at least 1 KiB) and walked batch by batch, by each
/// cutter: in order over the bytes in memory, speculatively
/// ([`mrtsnap::source::Speculation`], its jobs run in order on this
/// thread) and, with `stream`, on the decompressing thread of the input
/// gzip-compressed. Each must give the steps of one walk over the whole
/// input.
pub fn batch_frame_steps(data: &[u8], batch_size: usize, stream: bool) -> Vec<(&'static str, Vec<FrameStep>)> {
    use mrtsnap::Source;
    let mut out = Vec::new();
    let src = Source::from_bytes("memory", data.to_vec());
    let in_order = src.batches(batch_size).flat_map(|b| frame_steps(b.records())).collect();
    out.push(("in order", in_order));
    if let Ok(mut spec) = src.batches(batch_size).speculation() {
        let mut steps = Vec::new();
        for k in 0..spec.count() {
            let cut = spec.job(k)();
            if let Some(b) = spec.accept(k, cut) {
                steps.extend(frame_steps(b.records()));
            }
        }
        out.push(("speculative", steps));
    }
    if stream {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(data).expect("gzip");
        let src = Source::from_bytes("gzip", gz.finish().expect("gzip"));
        let streamed = src.batches(batch_size).flat_map(|b| frame_steps(b.records())).collect();
        out.push(("stream", streamed));
    }
    out
}

/// A small deterministic PRNG (SplitMix64), so that sampled tests are
/// reproducible without a dependency.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True once in `one_in` times on average.
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// Shuffles `items` by `seed` (a SplitMix64 walk): inputs given in an
/// order of no meaning.
pub fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut x = seed;
    for i in (1..items.len()).rev() {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let z = (x ^ (x >> 31)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        items.swap(i, (z % (i as u64 + 1)) as usize);
    }
}

/// The first line where two pairs outputs (replayed, true) part, for
/// failure messages.
pub fn first_difference(got: &[u8], want: &[u8]) -> String {
    let (g, w) = (String::from_utf8_lossy(got), String::from_utf8_lossy(want));
    let (gl, wl): (Vec<&str>, Vec<&str>) = (g.lines().collect(), w.lines().collect());
    let i = gl.iter().zip(&wl).position(|(a, b)| a != b).unwrap_or(gl.len().min(wl.len()));
    format!(
        "line {}: replay {:?}, truth {:?} ({} and {} lines)",
        i + 1,
        gl.get(i),
        wl.get(i),
        gl.len(),
        wl.len()
    )
}

/// Every file of a `mrtsnap batch` dataset but its manifest, by path
/// relative to `dir`, with its bytes.
pub fn dataset(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).expect("prefix").to_string_lossy().into_owned();
            if rel == "_manifest" {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The `nk-2014` scenario's clock: 2014-12-DD HH:MM UTC.
pub fn nk_at(day: u32, h: u32, m: u32) -> u32 {
    mrtsnap::synth::scenario::Nk2014::START + (day - 22) * 86_400 + h * 3600 + m * 60
}

/// An RFC 3339 time of the outputs, as Unix seconds.
pub fn utc_seconds(s: &str) -> u32 {
    mrtsnap::fmt::parse_time(s, false).expect("time") as u32
}

/// The origins a generated scenario's `truth/stable.csv` keeps visible.
pub fn stable_origins(truth: &Path) -> std::collections::BTreeSet<String> {
    std::fs::read_to_string(truth.join("stable.csv"))
        .expect("truth/stable.csv")
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or_default().to_string())
        .collect()
}
