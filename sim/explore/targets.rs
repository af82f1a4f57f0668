//! What a plan may aim at, read from the scenario itself: its nodes and the services they
//! run, its clusters and fleets (for partitions, link faults, clock skews and power
//! failures), its steps, and a coarse grid of virtual time split into a fault phase and a
//! heal phase.
//!
//! ```text
//!  Compiled (spec) + the steps' count ──Targets::of──► nodes × services, groups, pairs,
//!                                                       grid_ms, fault_slots (heal after them)
//! ```

use super::plan::Pair;
use crate::engine::spec::Service;
use crate::lang::Compiled;

/// Grid steps a scenario's time is cut into; the first that gives at most [`MAX_SLOTS`].
const GRID_MS: [u64; 16] = [
    1_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
    3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000,
];
const MAX_SLOTS: u64 = 40;

/// The language's name of a service.
pub fn service_name(s: Service) -> &'static str {
    match s {
        Service::CallManager => "callmanager",
        Service::Tftp => "tftp",
        Service::Tvs => "tvs",
        Service::Capf => "capf",
        Service::CtlProvider => "ctl-provider",
    }
}

/// The scenario's own names and times.
#[derive(Clone, Debug)]
pub struct Targets {
    /// (cluster, node, service) for every service of every node.
    pub services: Vec<(String, String, &'static str)>,
    /// (cluster, node).
    pub nodes: Vec<(String, String)>,
    pub fleets: Vec<String>,
    /// Hosts a clock skew may move: nodes and fleets.
    pub hosts: Vec<String>,
    /// Pairs of groups worth cutting apart: each fleet and each cluster or node, and each
    /// two clusters.
    pub pairs: Vec<Pair>,
    /// The scenario's steps.
    pub steps: usize,
    pub grid_ms: u64,
    /// Faults start and end within the first `fault_slots` grid steps; the rest of the
    /// scenario is the heal phase.
    pub fault_slots: u64,
}

impl Targets {
    /// The targets of a compiled scenario with `steps` operator steps.
    pub fn of(c: &Compiled, steps: usize) -> Targets {
        let spec = &c.spec;
        let mut services = vec![];
        let mut nodes = vec![];
        for cl in &spec.clusters {
            for n in &cl.nodes {
                nodes.push((cl.name.clone(), n.name.clone()));
                for s in &n.services {
                    services.push((cl.name.clone(), n.name.clone(), service_name(*s)));
                }
            }
        }
        let fleets: Vec<String> = spec.fleets.iter().map(|f| f.name.clone()).collect();
        let mut hosts: Vec<String> = nodes.iter().map(|(_, n)| n.clone()).collect();
        hosts.extend(fleets.iter().cloned());
        let mut pairs = vec![];
        for f in &fleets {
            for cl in &spec.clusters {
                pairs.push((f.clone(), cl.name.clone()));
            }
            for (_, n) in &nodes {
                pairs.push((f.clone(), n.clone()));
            }
        }
        for (i, a) in spec.clusters.iter().enumerate() {
            for b in &spec.clusters[i + 1..] {
                pairs.push((a.name.clone(), b.name.clone()));
            }
        }
        let duration = spec.duration_ms.max(1_000);
        let grid_ms = GRID_MS
            .iter()
            .copied()
            .find(|g| duration / g <= MAX_SLOTS)
            .unwrap_or(86_400_000);
        // Two thirds of the scenario for faults, the last third to heal in.
        let fault_slots = (duration * 2 / 3 / grid_ms).max(1);
        Targets {
            services,
            nodes,
            fleets,
            hosts,
            pairs,
            steps,
            grid_ms,
            fault_slots,
        }
    }

    /// Where the fault phase ends (virtual ms).
    pub fn fault_end_ms(&self) -> u64 {
        self.fault_slots * self.grid_ms
    }

    /// Whether this scenario has something for kind `k` (an index of `plan::KINDS`) to aim at.
    pub fn supports(&self, k: usize) -> bool {
        match super::plan::KINDS[k] {
            "service_down" => !self.services.is_empty(),
            "node_crash" => !self.nodes.is_empty(),
            "partition" => !self.pairs.is_empty(),
            "clock_skew" => !self.hosts.is_empty(),
            "drop_step" | "delay_step" => self.steps > 0,
            "swap_steps" => self.steps > 1,
            _ => true,
        }
    }
}
