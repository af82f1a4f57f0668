//! What steps, faults and expectations are compiled against: the scenario's topology
//! (clusters, fleets, CAs; read-only, for resolving names) and the timed events and link
//! rules that steps and faults append.
//!
//! ```text
//!  name in a step ──cluster / fleet / node_of / group──► &ClusterDef, &FleetDef, &NodeDef, Group
//!  a step or fault ──push──► events: Vec<(t_ms, Event)>, rules: Vec<LinkRule>
//! ```

use super::context::{Ctx, R};
use crate::engine::spec::CaDef;
use crate::engine::{ClusterDef, Event, FleetDef, NodeDef};
use crate::lang::raw::S;
use cucmsim_actors::{Group, LinkRule};
use std::collections::BTreeSet;
use std::ops::Range;

/// `SEP<MAC>` of phone `i` of fleet `f`.
pub(super) fn device_name(f: &FleetDef, i: u32) -> String {
    format!(
        "SEP{:012X}",
        (f.mac_start + u64::from(i)) & 0xFFFF_FFFF_FFFF
    )
}

/// The topology names resolve against, and the events and link rules compiled so far.
pub(super) struct Timeline<'a> {
    pub(super) cx: &'a Ctx<'a>,
    pub(super) clusters: &'a [ClusterDef],
    pub(super) fleets: &'a [FleetDef],
    pub(super) cas: &'a [CaDef],
    pub(super) events: Vec<(u64, Event)>,
    pub(super) rules: Vec<LinkRule>,
}

impl<'a> Timeline<'a> {
    /// Complains about the first present field that `tag` does not use.
    pub(super) fn only(
        &self,
        tag: &str,
        present: &[(&'static str, Range<usize>)],
        allowed: &[&str],
    ) -> R<()> {
        match present.iter().find(|(name, _)| !allowed.contains(name)) {
            Some((name, span)) => Err(self
                .cx
                .err(span.clone(), format!("`{name}` is not used by {tag:?}"))),
            None => Ok(()),
        }
    }

    /// The cluster a step names; an error at `span` when it names none.
    pub(super) fn cluster(
        &self,
        name: &Option<S<String>>,
        span: Range<usize>,
    ) -> R<&'a ClusterDef> {
        let n = name
            .as_ref()
            .ok_or_else(|| self.cx.err(span, "this needs `cluster`"))?;
        self.clusters
            .iter()
            .find(|c| &c.name == n.get_ref())
            .ok_or_else(|| {
                self.cx
                    .err(n.span(), format!("no cluster named {:?}", n.get_ref()))
            })
    }

    /// The fleet named `name`.
    pub(super) fn fleet(&self, name: &S<String>) -> R<&'a FleetDef> {
        self.fleets
            .iter()
            .find(|f| &f.name == name.get_ref())
            .ok_or_else(|| {
                self.cx
                    .err(name.span(), format!("no fleet named {:?}", name.get_ref()))
            })
    }

    /// The node named `node` in cluster `c`.
    pub(super) fn node_of(&self, c: &'a ClusterDef, node: &S<String>) -> R<&'a NodeDef> {
        c.nodes
            .iter()
            .find(|n| &n.name == node.get_ref())
            .ok_or_else(|| {
                self.cx.err(
                    node.span(),
                    format!("no node {:?} in cluster {:?}", node.get_ref(), c.name),
                )
            })
    }

    /// A cluster's nodes, a fleet's phones or one node, by name (for link faults and skews).
    pub(super) fn group(&self, name: &str, span: Range<usize>) -> R<Group> {
        if let Some(c) = self.clusters.iter().find(|c| c.name == name) {
            return Ok(Group {
                hosts: c.nodes.iter().map(|n| n.name.clone()).collect(),
                phones: vec![],
            });
        }
        if let Some(f) = self.fleets.iter().find(|f| f.name == name) {
            return Ok(Group {
                hosts: BTreeSet::new(),
                phones: vec![(f.first, f.count)],
            });
        }
        if self
            .clusters
            .iter()
            .any(|c| c.nodes.iter().any(|n| n.name == name))
        {
            return Ok(Group {
                hosts: [name.to_string()].into_iter().collect(),
                phones: vec![],
            });
        }
        Err(self
            .cx
            .err(span, format!("{name:?} is not a cluster, fleet or node")))
    }

    /// A fleet's name and its device names, sorted.
    pub(super) fn fleet_devices(&self, f: &S<String>) -> R<(String, Vec<String>)> {
        let f = self.fleet(f)?;
        let mut devices: Vec<String> = (0..f.count).map(|i| device_name(f, i)).collect();
        devices.sort();
        Ok((f.name.clone(), devices))
    }

    /// The named fleet's phone range, or every fleet's.
    pub(super) fn selected_fleets(&self, fleet: &Option<S<String>>) -> R<Vec<(u32, u32)>> {
        Ok(match fleet {
            Some(f) => {
                let f = self.fleet(f)?;
                vec![(f.first, f.count)]
            }
            None => self.fleets.iter().map(|f| (f.first, f.count)).collect(),
        })
    }
}
