//! The scenario steps of the catalogue's HTTPS entries: `https_service` (reference §2.3
//! item 3, F17–F19) and `tftp_https` (F29). Each checks its keys and names and points at the
//! offending value.
//!
//! ```text
//!  [[step]] action = "https_service" cluster, node?, fleet? ─► Event::Operator{Operator::HttpsService} per fleet
//!           action = "tftp_https" cluster, node?, fleet?, plain_fallback? ─► Event::Operator{Operator::TftpHttps} per fleet
//! ```

use crate::engine::Event;
use crate::lang::compile::context::R;
use crate::lang::compile::timeline::Timeline;
use crate::lang::raw;
use cucmsim_core::machine::Operator;

/// `https_service`: the phones of `fleet` (default: every fleet) open an HTTPS service
/// served by the Tomcat of `cluster`'s `node` (default: its publisher).
pub(super) fn https_service(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let aspan = s.action.span();
    t.only("https_service", &s.present(), &["cluster", "node", "fleet"])?;
    let c = t.cluster(&s.cluster, aspan)?;
    let node = match &s.node {
        Some(n) => Some(t.node_of(c, n)?.name.clone()),
        None => None,
    };
    let cluster = c.name.clone();
    for (first, count) in t.selected_fleets(&s.fleet)? {
        let op = Operator::HttpsService {
            node: node.clone(),
            first,
            count,
        };
        t.events.push((
            at,
            Event::Operator {
                cluster: cluster.clone(),
                op,
            },
        ));
    }
    Ok(())
}

/// `tftp_https` (F29): the registered phones of `fleet` (default: every fleet) download
/// their config over HTTPS (6971) from the TFTP service of `cluster`'s `node` (default:
/// its first TFTP node); `plain_fallback = true` falls back to 6970/TFTP on a failure.
pub(super) fn tftp_https(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let aspan = s.action.span();
    t.only(
        "tftp_https",
        &s.present(),
        &["cluster", "node", "fleet", "plain_fallback"],
    )?;
    let c = t.cluster(&s.cluster, aspan)?;
    let node = match &s.node {
        Some(n) => {
            let node = t.node_of(c, n)?;
            if !node.services.contains(&crate::engine::Service::Tftp) {
                return Err(t
                    .cx
                    .err(n.span(), format!("{:?} runs no TFTP service", n.get_ref())));
            }
            Some(node.name.clone())
        }
        None => None,
    };
    let plain_fallback = s.plain_fallback.as_ref().is_some_and(|b| *b.get_ref());
    let cluster = c.name.clone();
    for (first, count) in t.selected_fleets(&s.fleet)? {
        let op = Operator::TftpHttps {
            node: node.clone(),
            first,
            count,
            plain_fallback,
        };
        t.events.push((
            at,
            Event::Operator {
                cluster: cluster.clone(),
                op,
            },
        ));
    }
    Ok(())
}
