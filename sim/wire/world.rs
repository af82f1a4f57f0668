//! The cluster a `serve` puts on real sockets, built exactly as the simulation builds it: the
//! publisher from the scenario's seed ([`crate::engine::world::publisher`]), started, and its
//! effects carried to the chosen node's TFTP, TVS and CAPF machines by a tiny synchronous bus
//! (no virtual time: everything happens at `mono_ms` 0, the host's wall clock).
//!
//! ```text
//!  WorldSpec ──world::publisher──► Publisher ──Start──► TftpRebuild · TvsStores · CapfConfig · CapfDevices
//!          └─ the scenario's CAPF steps on this cluster (capf_operation, capf_set_keepalive)
//!                 ──Msg::Operator──► Publisher ──► CapfDevices, TftpRebuild (configs carry capfAuthMode)
//!  mini-bus: messages to this node's Tftp / Tvs / Capf are handled, the rest (phones,
//!            CallManagers, other nodes) dropped
//! ```
//! The service models (`[cluster.tvs]`, `[cluster.capf]` workers and service times) are the
//! simulation's stand-in for real CPU; on real sockets the real CPU is the cost, so they are set
//! to zero and the queues never hold a job. Session limits (`max_sessions`, `queue_limit`) stay.

use super::identity::{self, IdentityArg};
use crate::engine::spec::{Event, Service, WorldSpec};
use crate::engine::{world, Prebuilt};
use cucmsim_core::machine::capf::Capf;
use cucmsim_core::machine::tftp::Tftp;
use cucmsim_core::machine::tvs::Tvs;
use cucmsim_core::machine::{Addr, Effect, Input, Machine, Msg, Now, Operator};
use cucmsim_core::pki::cluster::ClusterPki;
use cucmsim_core::pki::mic::ManufacturingCa;
use cucmsim_core::pki::KeyForge;
use cucmsim_core::WallTime;
use std::collections::VecDeque;
use std::sync::Arc;

/// The seed's manufacturing CA, as the engine makes it (issued five years before install).
pub fn manufacturing_ca(
    spec: &WorldSpec,
    prebuilt: &Prebuilt,
) -> Result<Arc<ManufacturingCa>, String> {
    let forge = KeyForge::new(spec.seed);
    let at = world::install_time(spec.epoch).plus_s(-WallTime::YEAR_S * 4);
    prebuilt.mfg(&forge, at)
}

/// The index of cluster `name`, or an error listing the scenario's clusters.
pub fn cluster_index(spec: &WorldSpec, name: &str) -> Result<usize, String> {
    spec.clusters
        .iter()
        .position(|c| c.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = spec.clusters.iter().map(|c| c.name.as_str()).collect();
            format!(
                "no cluster {name:?} in the scenario (it has: {})",
                names.join(", ")
            )
        })
}

/// One node's services, in the state the simulation's are in after the cluster started.
pub struct Services {
    pub cluster: String,
    /// The node whose TFTP and TVS are served.
    pub node: String,
    pub pki: ClusterPki,
    pub tftp: Option<Tftp>,
    /// The messages the node's TVS received, to start more identical TVS machines.
    pub tvs_inputs: Vec<Msg>,
    pub capf: Option<Capf>,
    /// The CAPF host (the publisher, by default).
    pub capf_host: Option<String>,
    /// The scenario's seed (the QUIC link keys derive from it).
    pub seed: u64,
}

impl Services {
    /// A new TVS machine in the node's TVS's state (one per shard).
    pub fn new_tvs(&self, wall: WallTime) -> Option<Tvs> {
        if self.tvs_inputs.is_empty() {
            return None;
        }
        let mut tvs = Tvs::new(&self.node);
        let now = Now { mono_ms: 0, wall };
        for m in &self.tvs_inputs {
            tvs.handle(m.clone(), now);
        }
        Some(tvs)
    }
}

/// What a `serve` asks of the cluster besides the scenario.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// The node served (default: the publisher).
    pub node: Option<String>,
    /// Identities from files instead of the seed's.
    pub identities: Vec<IdentityArg>,
    /// Write the identities and the MIC CA (with keys) here first.
    pub export: Option<std::path::PathBuf>,
    /// CAPF: KEY_GEN_REQ carries KEY_TYPE for every phone (usecallmanager's capfc wants it).
    pub capf_key_type: bool,
    /// CAPF: the AUTH_RES VERSION required (usecallmanager's capfd insists on 3).
    pub capf_require_version: Option<u8>,
}

/// Builds cluster `cluster`'s publisher from the seed, starts it, applies the scenario's CAPF
/// steps on it, and returns the chosen node's services.
pub fn services(
    spec: &WorldSpec,
    cluster: &str,
    opts: &ServeOptions,
    wall: WallTime,
) -> Result<Services, String> {
    let node = opts.node.as_deref();
    let ix = cluster_index(spec, cluster)?;
    let c = &spec.clusters[ix];
    let node = match node {
        Some(n) if c.nodes.iter().any(|x| x.name == n) => n.to_string(),
        Some(n) => return Err(format!("cluster {cluster} has no node {n:?}")),
        None => c.nodes[0].name.clone(),
    };
    let prebuilt = Prebuilt::default();
    let forge = KeyForge::new(spec.seed);
    let mfg = manufacturing_ca(spec, &prebuilt)?;
    let mut publisher = world::publisher(spec, ix, &forge, &mfg, &prebuilt)?;
    identity::apply(&mut publisher, &node, &opts.identities, &mfg)?;
    if let Some((_, config)) = publisher.capf.as_mut() {
        let mut settings = (*config.settings).clone();
        settings.rsa_key_type_to_legacy |= opts.capf_key_type;
        settings.require_version = opts.capf_require_version.or(settings.require_version);
        config.settings = Arc::new(settings);
    }
    if let Some(dir) = &opts.export {
        let n = identity::export(&publisher, &mfg, dir)?;
        super::quic::LinkKeys::derive(spec.seed)?.write(&dir.join("quic"))?;
        eprintln!(
            "cucmsim serve: {n} identities with their keys (and the QUIC link keys, quic/) written to {}",
            dir.display()
        );
    }
    publisher.tvs_model.handshake_us = 0;
    publisher.tvs_model.query_us = 0;
    if let Some((_, config)) = publisher.capf.as_mut() {
        config.model.handshake_us = 0;
        config.model.issue_us = 0;
    }
    let runs = |s: Service| {
        c.nodes
            .iter()
            .any(|n| n.name == node && n.services.contains(&s))
    };
    let capf_host = spec.hosts_with(ix, Service::Capf).first().cloned();
    let mut bus = MiniBus {
        cluster: cluster.to_string(),
        node: node.clone(),
        tftp: runs(Service::Tftp).then(|| Tftp::new(&node)),
        tvs: runs(Service::Tvs).then(|| Tvs::new(&node)),
        tvs_inputs: vec![],
        capf: capf_host.as_deref().map(Capf::new),
        capf_host: capf_host.clone(),
        now: Now { mono_ms: 0, wall },
    };
    bus.run(&mut publisher, Input::Start);
    for op in capf_steps(spec, cluster) {
        bus.run(&mut publisher, Input::Msg(Msg::Operator(op)));
    }
    Ok(Services {
        cluster: cluster.to_string(),
        node,
        pki: publisher.pki.clone(),
        tftp: bus.tftp,
        tvs_inputs: bus.tvs_inputs,
        capf: bus.capf,
        capf_host,
        seed: spec.seed,
    })
}

/// The scenario's steps that set CAPF's device records on `cluster`, in order.
pub fn capf_steps(spec: &WorldSpec, cluster: &str) -> Vec<Operator> {
    spec.events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Operator { cluster: c, op } if c == cluster => Some(op),
            _ => None,
        })
        .filter(|op| matches!(op, Operator::CapfUpdate(_) | Operator::CapfKeepalive { .. }))
        .cloned()
        .collect()
}

/// Carries the publisher's effects to the node's machines until nothing moves.
struct MiniBus {
    cluster: String,
    node: String,
    tftp: Option<Tftp>,
    tvs: Option<Tvs>,
    tvs_inputs: Vec<Msg>,
    capf: Option<Capf>,
    capf_host: Option<String>,
    now: Now,
}

impl MiniBus {
    fn run(&mut self, publisher: &mut cucmsim_core::machine::Publisher, first: Input) {
        let mut queue: VecDeque<(Addr, Input)> = VecDeque::new();
        queue.push_back((Addr::Publisher(self.cluster.clone()), first));
        // Bounded: a start and a few steps settle in a handful of hops.
        for _ in 0..100_000 {
            let Some((to, input)) = queue.pop_front() else {
                return;
            };
            let effects = match &to {
                Addr::Publisher(c) if *c == self.cluster => publisher.on_input(input, self.now),
                Addr::Tftp(h) if *h == self.node => match self.tftp.as_mut() {
                    Some(t) => t.on_input(input, self.now),
                    None => vec![],
                },
                Addr::Tvs(h) if *h == self.node => {
                    if let Input::Msg(m) = &input {
                        self.tvs_inputs.push(m.clone());
                    }
                    match self.tvs.as_mut() {
                        Some(t) => t.on_input(input, self.now),
                        None => vec![],
                    }
                }
                Addr::Capf(h) if Some(h) == self.capf_host.as_ref() => match self.capf.as_mut() {
                    Some(c) => c.on_input(input, self.now),
                    None => vec![],
                },
                _ => vec![],
            };
            for e in effects {
                if let Effect::Send { to, msg } = e {
                    queue.push_back((to, Input::Msg(msg)));
                }
            }
        }
    }
}
