//! The phone steps: `set_option150` (where the phones' DHCP option 150 points) and
//! `reset_phones` (fleets reset, spread over a time, or a cluster's Reset of every registered
//! phone). Each checks its keys and names and points at the offending value.
//!
//! ```text
//!  [[step]] action = "set_option150" fleet?, tftp      ─► Event::Option150 per fleet
//!           action = "reset_phones" fleet? | cluster, over? ─► Event::ResetPhones per fleet | Event::ResetCluster
//! ```

use crate::engine::{Event, Service};
use crate::lang::compile::context::R;
use crate::lang::compile::timeline::Timeline;
use crate::lang::raw;

/// `set_option150`: DHCP option 150 of the fleets' phones points at `tftp`.
pub(super) fn option150(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["fleet", "tftp"])?;
    let tftp = s
        .tftp
        .as_ref()
        .ok_or_else(|| t.cx.err(aspan.clone(), "set_option150 needs `tftp`"))?;
    for host in tftp.get_ref() {
        let runs = t
            .clusters
            .iter()
            .flat_map(|c| &c.nodes)
            .any(|n| &n.name == host && n.services.contains(&Service::Tftp));
        if !runs {
            return Err(t
                .cx
                .err(tftp.span(), format!("{host:?} is not a node running tftp")));
        }
    }
    for f in t.selected_fleets(&s.fleet)? {
        t.events.push((
            at,
            Event::Option150 {
                first: f.0,
                count: f.1,
                tftp: tftp.get_ref().clone(),
            },
        ));
    }
    Ok(())
}

/// `reset_phones`: the fleets' phones reset (spread `over` a time), or every phone
/// registered to `cluster` at once.
pub(super) fn reset(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["fleet", "cluster", "over"])?;
    if let (Some(_), Some(c)) = (&s.fleet, &s.cluster) {
        return Err(t.cx.err(c.span(), "give `fleet` or `cluster`, not both"));
    }
    let over_ms = s
        .over
        .as_ref()
        .map(|o| t.cx.ms(o))
        .transpose()?
        .unwrap_or(0);
    if let (Some(o), true) = (&s.over, s.cluster.is_some()) {
        return Err(t.cx.err(
            o.span(),
            "`over` spreads the resets of fleets; with `cluster` CUCM resets every registered phone at once",
        ));
    }
    if s.cluster.is_some() {
        let c = t.cluster(&s.cluster, aspan)?.name.clone();
        t.events.push((at, Event::ResetCluster { cluster: c }));
    } else {
        for f in t.selected_fleets(&s.fleet)? {
            t.events.push((
                at,
                Event::ResetPhones {
                    first: f.0,
                    count: f.1,
                    over_ms,
                },
            ));
        }
    }
    Ok(())
}
