//! Collector names from RouteViews and RIS archive paths, for snapshots
//! (their `collector` column) and the dataset runner (its layout).

/// The collector a dump comes from, when its path follows RouteViews or RIS
/// naming:
///
/// - BGPStream-style file names: `routeviews.route-views.jinx.ribs.1401487200.bz2`
///   → `route-views.jinx`, `ris.rrc06.ribs.1401487200.gz` → `rrc06`;
/// - a RIS directory: `…/rrc00/2000.01/bview.20000111.0032.gz` → `rrc00`;
/// - a RouteViews directory: `…/route-views.jinx/bgpdata/2014.05/RIBS/rib.20140530.2200.bz2`
///   → `route-views.jinx`; `…/route-views6/…` → `route-views6`;
///   `…/oix-route-views/…` → `route-views`; and the archive root
///   `…/bgpdata/2014.05/RIBS/rib.…` (no collector directory) → `route-views2`.
///
/// ```
/// use mrtsnap::snapshot::collector_from_path;
/// assert_eq!(collector_from_path("routeviews.route-views.jinx.ribs.1401487200.bz2").as_deref(), Some("route-views.jinx"));
/// assert_eq!(collector_from_path("/data/ripe/rrc00/2000.01/bview.20000111.0032.gz").as_deref(), Some("rrc00"));
/// assert_eq!(collector_from_path("/tmp/rib.bz2"), None);
/// ```
pub fn collector_from_path(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split(['/', '\\']).filter(|c| !c.is_empty()).collect();
    let (file, dirs) = parts.split_last()?;
    for project in ["routeviews.", "ris."] {
        if let Some(rest) = file.strip_prefix(project) {
            for kind in [".ribs.", ".updates.", ".rib.", ".bview."] {
                if let Some((name, _)) = rest.split_once(kind) {
                    if !name.is_empty() {
                        return Some(name.to_string());
                    }
                }
            }
        }
    }
    for d in dirs.iter().rev() {
        let lower = d.to_ascii_lowercase();
        let rrc = lower
            .strip_prefix("rrc")
            .is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()));
        if rrc || lower.starts_with("route-views") {
            return Some(lower);
        }
        if lower == "oix-route-views" {
            return Some("route-views".to_string());
        }
    }
    let rv_name = file.starts_with("rib.") || file.starts_with("updates.");
    (rv_name && dirs.contains(&"bgpdata")).then(|| "route-views2".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let c = |p: &str| collector_from_path(p);
        assert_eq!(c("ris.rrc06.updates.1401488100.gz").as_deref(), Some("rrc06"));
        assert_eq!(
            c("x/route-views.jinx/bgpdata/2014.05/RIBS/rib.20140530.2200.bz2").as_deref(),
            Some("route-views.jinx")
        );
        assert_eq!(
            c("archive.routeviews.org/bgpdata/2014.05/RIBS/rib.20140530.2200.bz2").as_deref(),
            Some("route-views2")
        );
        assert_eq!(
            c("a/route-views6/bgpdata/2015.11/RIBS/rib.20151101.0600.bz2").as_deref(),
            Some("route-views6")
        );
        assert_eq!(c("a/oix-route-views/2005.05/oix-full-snapshot.bz2").as_deref(), Some("route-views"));
        assert_eq!(c("RIPE-NCC+bgpdump/test_data/bview.20020722.2337.gz"), None);
        assert_eq!(c("rrc1/bview.gz"), None);
        assert_eq!(c(""), None);
    }
}
