//! Routes and events of a whole input as iterators.
//!
//! [`Source::routes`] and [`Source::events`] read an input from start to end
//! on the calling thread (decompression runs on a thread of its own) and
//! yield owned items: they can be collected, kept, sent to other threads,
//! and the loop stopped at any point ([`Iterator::take`], `break`). Behind
//! them a batch of records (1 MiB by default) is decoded at a time, so
//! memory stays bounded by one batch's items whatever the input's size.
//!
//! * [`OwnedRoute`]: one route, as [`Route`] is one, but holding its
//!   attribute block by a reference-counted slice of the batch ([`Bytes`])
//!   instead of a borrow: no attribute byte is copied.
//! * [`Event`]: a route, a peer's state change ([`StateChange`], with
//!   [`FsmState`]s) or a PEER_INDEX_TABLE: everything `bgpdump -m` prints a
//!   line for.
//!
//! Damage is skipped and counted as everywhere in the crate
//! ([`Events::report`]); with [`RouteOptions::strict`] the first damage is
//! yielded as an `Err` and the iterator ends. An input holding no MRT
//! record at all (a text file, zeros) ends with an `Err` of kind
//! [`ErrorKind::NotMrt`].
//!
//! For speed, [`Source::par_map_events`] decodes batches in parallel on the
//! rayon pool and hands each batch's events to a closure; [`Batch::events`]
//! decodes one batch alone.
//!
//! # Example
//!
//! The announcements and withdrawals of an updates file:
//!
//! ```
//! use mrtsnap::{RouteKind, Source};
//!
//! let src = Source::open("corpus/updates.synth.small.mrt.gz")?;
//! let (mut announced, mut withdrawn) = (0, 0);
//! for route in src.routes() {
//!     match route?.kind {
//!         RouteKind::Announce => announced += 1,
//!         RouteKind::Withdraw => withdrawn += 1,
//!         RouteKind::RibEntry => {}
//!     }
//! }
//! assert_eq!((announced, withdrawn), (4343, 1881));
//! # Ok::<(), mrtsnap::Error>(())
//! ```

use crate::bgp::as_path::{AsPathBuf, Origin};
use crate::bgp::attr::{AttrContext, Attrs};
use crate::error::Result;
use crate::mrt::{Bgp4mpBody, FsmState, PeerTable, Record};
use crate::pipeline::{for_each_record, RecordDamage};
use crate::report::Report;
use crate::routes::{routes_of, Peer, Route, RouteKind, RouteOptions};
use crate::source::{Batch, Batches, Source};
use bytes::Bytes;
use std::net::IpAddr;
use std::sync::Arc;

/// A route that owns what it holds; see [`Route`] for the fields, and
/// [`Route::to_owned`].
///
/// The attribute block is kept as it is on the wire, in a [`Bytes`] (a
/// reference-counted slice of the batch when it comes from
/// [`Source::routes`]); [`OwnedRoute::attrs`] decodes it again on demand,
/// which is cheap next to reading the input. A withdrawal holds none.
///
/// # Example
/// ```
/// use mrtsnap::{bgp::Origin, Source};
///
/// let src = Source::open("corpus/updates.synth.small.mrt.gz")?;
/// let first = src.routes().next().unwrap()?;
/// let kept: Vec<_> = src.routes().take(10).collect::<Result<_, _>>()?;
/// assert_eq!(kept[0].prefix, first.prefix);
/// assert_eq!(first.to_string(), "2023-11-14T22:13:20Z announce 61.190.0.0/20 from 2001:7f8:7663::b AS29152 path 29152 6461 4702 origin 4702");
/// assert_eq!(first.origin_as(), Origin::Asn(4702));
/// # Ok::<(), mrtsnap::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct OwnedRoute {
    /// Seconds since the Unix epoch (the MRT header's timestamp).
    pub timestamp: u32,
    /// Microseconds of an `_ET` record.
    pub micros: Option<u32>,
    /// Zero-based index of the MRT record in the input.
    pub record: u64,
    /// RIB entry, announcement or withdrawal.
    pub kind: RouteKind,
    /// The peer.
    pub peer: Peer,
    /// The prefix (host bits masked off).
    pub prefix: crate::bgp::Prefix,
    /// ADD-PATH path identifier.
    pub path_id: Option<u32>,
    /// Originated time of a RIB entry (time of last change for BGP4MP ENTRY).
    pub originated: Option<u32>,
    attrs: Bytes,
    attrs_offset: u64,
    context: AttrContext,
    next_hop: Option<IpAddr>,
}

impl OwnedRoute {
    /// The route with its attribute block held by `block`, a slice of
    /// `data` when the block lies in it (no copy), else a copy.
    fn new(r: &Route<'_>, data: Option<&Bytes>) -> OwnedRoute {
        let raw = r.attrs.raw;
        let attrs = data
            .and_then(|d| {
                let start = (raw.as_ptr() as usize).checked_sub(d.as_ptr() as usize)?;
                let end = start.checked_add(raw.len())?;
                (end <= d.len()).then(|| d.slice(start..end))
            })
            .unwrap_or_else(|| Bytes::copy_from_slice(raw));
        OwnedRoute {
            timestamp: r.timestamp,
            micros: r.micros,
            record: r.record,
            kind: r.kind,
            peer: r.peer,
            prefix: r.prefix,
            path_id: r.path_id,
            originated: r.originated,
            attrs,
            attrs_offset: r.attrs.offset,
            context: r.attrs.context,
            next_hop: r.next_hop(),
        }
    }

    /// The path attributes, decoded from the block this route holds (empty
    /// for a withdrawal).
    ///
    /// # Example
    /// ```
    /// let src = mrtsnap::Source::open("corpus/updates.synth.small.mrt.gz")?;
    /// let route = src.routes().next().unwrap()?;
    /// assert_eq!(route.attrs().origin, Some(0));
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    pub fn attrs(&self) -> Attrs<'_> {
        // The block decoded once already, when the route was made.
        Attrs::parse(&self.attrs, self.attrs_offset, self.context).unwrap_or_default()
    }

    /// The borrowed view of this route.
    fn view(&self) -> Route<'_> {
        Route::new(
            self.timestamp,
            self.micros,
            self.record,
            self.kind,
            self.peer,
            self.prefix,
            self.path_id,
            self.originated,
            self.attrs(),
        )
    }

    /// The AS path, AS_PATH merged with AS4_PATH (RFC 6793); see
    /// [`Route::as_path`].
    pub fn as_path(&self) -> AsPathBuf {
        let mut buf = AsPathBuf::new();
        self.view().as_path(&mut buf);
        buf
    }

    /// The origin AS of the merged path; see [`Route::origin_as`].
    pub fn origin_as(&self) -> Origin {
        Origin::from(self.view().origin_as())
    }

    /// The ORIGIN attribute (0 IGP, 1 EGP, 2 INCOMPLETE), if present.
    pub fn origin_attr(&self) -> Option<u8> {
        self.attrs().origin
    }

    /// The next hop; see [`Route::next_hop`].
    pub fn next_hop(&self) -> Option<IpAddr> {
        self.next_hop
    }
}

/// One line of text: time (UTC), kind, prefix, peer, path and origin AS.
impl std::fmt::Display for OwnedRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.view().fmt(f)
    }
}

impl Route<'_> {
    /// An owned copy of this route (its attribute block copied).
    ///
    /// # Example
    /// ```
    /// use mrtsnap::{OwnedRoute, Source};
    /// let src = Source::open("corpus/rib.synth.small.mrt.bz2")?;
    /// let mut all: Vec<OwnedRoute> = Vec::new();
    /// mrtsnap::routes::for_each_route(&src, Default::default(), |r| all.push(r.to_owned()))?;
    /// assert_eq!(all.len(), src.routes().count());
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    #[allow(clippy::wrong_self_convention)]
    pub fn to_owned(&self) -> OwnedRoute {
        OwnedRoute::new(self, None)
    }
}

/// A peer's BGP session changing state (a BGP4MP STATE_CHANGE record).
///
/// # Example
/// ```
/// use mrtsnap::{Event, FsmState, Source};
/// let src = Source::open("corpus/updates.synth.small.mrt.gz")?;
/// let ups = src
///     .events()
///     .filter_map(Result::ok)
///     .filter(|e| matches!(e, Event::StateChange(s) if s.new == FsmState::Established))
///     .count();
/// assert_eq!(ups, 1);
/// # Ok::<(), mrtsnap::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateChange {
    /// Seconds since the Unix epoch.
    pub timestamp: u32,
    /// Microseconds of an `_ET` record.
    pub micros: Option<u32>,
    /// Zero-based index of the MRT record in the input.
    pub record: u64,
    /// The peer whose session changed.
    pub peer: Peer,
    /// The state it left.
    pub old: FsmState,
    /// The state it entered.
    pub new: FsmState,
}

/// What an input tells, record by record: everything `bgpdump -m` prints a
/// line for.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Event {
    /// A RIB entry, an announcement or a withdrawal.
    Route(OwnedRoute),
    /// A peer's session changed state.
    StateChange(StateChange),
    /// A TABLE_DUMP_V2 PEER_INDEX_TABLE: the peers the RIB entries after it
    /// name by index.
    PeerTable(Arc<PeerTable>),
}

impl Batch {
    /// Decode this batch alone, on the calling thread: its events in input
    /// order, and the report of what was read and skipped. The unit of
    /// work for callers that spread batches over threads and do not need
    /// the input's order.
    ///
    /// # Errors
    /// With `strict`, the first damage; otherwise damage is counted in the
    /// report.
    ///
    /// [`Source::par_map_events`] runs this on the rayon pool. Feeding
    /// [`Source::batches`] to `rayon`'s `par_bridge` instead can deadlock:
    /// decoding a compressed input uses the same pool, and `par_bridge`'s
    /// workers wait for batches while holding it.
    pub fn events(&self, strict: bool) -> Result<(Vec<Event>, Report)> {
        let mut out = Vec::new();
        let mut report = Report::default();
        self.events_into(strict, &mut out, &mut report)?;
        Ok((out, report))
    }

    fn events_into(&self, strict: bool, out: &mut Vec<Event>, report: &mut Report) -> Result<()> {
        let mut damage = RecordDamage::new(strict);
        let walk = for_each_record(self, report, strict, |raw, rec, peers| {
            let state = |peer, old, new| {
                Event::StateChange(StateChange {
                    timestamp: raw.header.timestamp,
                    micros: raw.micros,
                    record: raw.index,
                    peer,
                    old,
                    new,
                })
            };
            match rec {
                Record::PeerIndexTable(t) => out.push(Event::PeerTable(Arc::new(t.clone()))),
                Record::Bgp4mp(m) => {
                    if let Bgp4mpBody::StateChange { old, new } = m.body {
                        let peer = Peer {
                            index: None,
                            addr: m.peering.peer_ip,
                            asn: m.peering.peer_as,
                        };
                        out.push(state(peer, old, new));
                    }
                }
                Record::LegacyBgp(l) => {
                    if let Bgp4mpBody::StateChange { old, new } = l.body {
                        let peer = Peer {
                            index: None,
                            addr: IpAddr::V4(l.peer_ip),
                            asn: l.peer_as,
                        };
                        out.push(state(peer, old, new));
                    }
                }
                _ => {}
            }
            let mut routes = routes_of(raw, rec, peers);
            for r in routes.by_ref() {
                out.push(Event::Route(OwnedRoute::new(&r, Some(&self.data))));
            }
            damage.note(routes.take_error());
        });
        damage.finish(walk, report)
    }
}

/// The events of a whole input, in input order; see [`Source::events`].
pub struct Events {
    batches: Option<Batches>,
    buf: std::vec::IntoIter<Event>,
    report: Report,
    strict: bool,
}

impl Events {
    /// The events of `src`, read as `opts` say.
    pub fn new(src: &Source, opts: RouteOptions) -> Events {
        Events {
            batches: Some(src.batches(opts.batch_size)),
            buf: Vec::new().into_iter(),
            report: Report::default(),
            strict: opts.strict,
        }
    }

    /// What was read so far: records by type, errors and warnings. Complete
    /// once the iterator has ended.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The report, once done with the iterator.
    pub fn into_report(self) -> Report {
        self.report
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("done", &self.batches.is_none())
            .field("buffered", &self.buf.len())
            .field("report", &self.report)
            .finish()
    }
}

impl Iterator for Events {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        loop {
            if let Some(e) = self.buf.next() {
                return Some(Ok(e));
            }
            let Some(batches) = &mut self.batches else {
                return None;
            };
            let Some(batch) = batches.next() else {
                self.batches = None;
                return self.report.not_mrt().map(Err);
            };
            let mut out = Vec::new();
            if let Err(e) = batch.events_into(self.strict, &mut out, &mut self.report) {
                self.batches = None;
                return Some(Err(e));
            }
            self.buf = out.into_iter();
        }
    }
}

/// The routes of a whole input, in input order; see [`Source::routes`].
#[derive(Debug)]
pub struct Routes(Events);

impl Routes {
    /// The routes of `src`, read as `opts` say.
    pub fn new(src: &Source, opts: RouteOptions) -> Routes {
        Routes(Events::new(src, opts))
    }

    /// What was read so far; see [`Events::report`].
    pub fn report(&self) -> &Report {
        self.0.report()
    }

    /// The report, once done with the iterator.
    pub fn into_report(self) -> Report {
        self.0.into_report()
    }
}

impl Iterator for Routes {
    type Item = Result<OwnedRoute>;

    fn next(&mut self) -> Option<Result<OwnedRoute>> {
        loop {
            match self.0.next()? {
                Ok(Event::Route(r)) => return Some(Ok(r)),
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl Source {
    /// Every route of the input, in input order, with the default
    /// [`RouteOptions`] (damage skipped and counted); see [`Routes::new`]
    /// for others. Each call reads the input from its start (a stream, such
    /// as standard input, can be read once).
    ///
    /// # Example
    /// ```
    /// let src = mrtsnap::Source::open("corpus/rib.synth.small.mrt.bz2")?;
    /// let mut routes = src.routes();
    /// let n = routes.by_ref().filter(|r| r.as_ref().is_ok_and(|r| r.prefix.is_v6())).count();
    /// assert_eq!(routes.report().total_errors(), 0);
    /// assert!(n > 0);
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    pub fn routes(&self) -> Routes {
        Routes::new(self, RouteOptions::default())
    }

    /// Every event of the input (routes, state changes, peer tables), in
    /// input order, with the default [`RouteOptions`]; see [`Events::new`].
    pub fn events(&self) -> Events {
        Events::new(self, RouteOptions::default())
    }

    /// Decode the input's batches in parallel on the current rayon pool
    /// and call `f` with each batch's events, on the worker that decoded
    /// it: the parallel form of [`Source::events`], for work that does not
    /// need the input's order (counting, filtering, building per-batch
    /// tables). Returns what `f` returned, batch by batch in input order,
    /// and the report of the whole input. At most two batches per thread
    /// are in flight, so memory stays bounded whatever the input's size.
    ///
    /// # Errors
    /// With `opts.strict`, the first damage; an input that holds no MRT
    /// record at all ([`ErrorKind::NotMrt`](crate::ErrorKind::NotMrt)).
    ///
    /// # Example
    /// ```
    /// use mrtsnap::{Event, RouteKind, Source};
    ///
    /// let src = Source::open("corpus/updates.synth.small.mrt.gz")?;
    /// let (counts, report) = src.par_map_events(Default::default(), |events| {
    ///     events.iter().filter(|e| matches!(e, Event::Route(r) if r.kind == RouteKind::Announce)).count()
    /// })?;
    /// assert_eq!(counts.iter().sum::<usize>(), 4343);
    /// assert_eq!(report.total_errors(), 0);
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    pub fn par_map_events<T, F>(&self, opts: RouteOptions, f: F) -> Result<(Vec<T>, Report)>
    where
        T: Send,
        F: Fn(Vec<Event>) -> T + Sync,
    {
        let window = 2 * rayon::current_num_threads();
        let (mut out, mut report) = (Vec::new(), Report::default());
        let decode = |b: &Batch| b.events(opts.strict).map(|(events, report)| (f(events), report));
        crate::pipeline::map_ordered(self.batches(opts.batch_size), window, decode, |r| {
            let (t, r) = r?;
            out.push(t);
            report.merge(r);
            Ok(())
        })?;
        match report.not_mrt() {
            Some(e) => Err(e),
            None => Ok((out, report)),
        }
    }
}
