//! Distributed runs: one scenario over several processes and machines (`cucmsim worker`,
//! `cucmsim run --workers`). The nodes form a ractor_cluster cluster whose sessions ride on
//! QUIC (quinn + rustls, [`net`]); the secret file decides who belongs ([`secret`]); the
//! coordinator's conductor sees each worker as a [`Peer`] ([`peer`]) speaking [`proto`].
//!
//! ```text
//!  cucmsim run S --workers A,B --secret F          cucmsim worker --listen A --secret F
//!    Distribute::connect ──QUIC + cookie──────────►  worker actor in pg "cucmsim-workers"
//!    Cluster::load ──Load(scenario, shards)───────►  engine::distributed::host (its phones)
//!    Conductor::with_peers ──Window frames────────►  its logical processes
//!                          ◄─WindowDone frames────
//! ```

pub mod net;
pub mod peer;
pub mod proto;
pub mod secret;
pub mod worker;

use crate::engine::distributed::{fingerprint, Placement};
use crate::engine::spec::WorldSpec;
use cucmsim_actors::peer::Peer;
use cucmsim_core::machine::Addr;
use net::Node;
use proto::{from_json, json, open, Hello, HelloOk, Load, LoadOk, WorkerMsg, PROTOCOL, WORKERS};
use ractor::ActorRef;
use secret::Secret;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use peer::RemotePeer;

/// How long connecting to a worker and its Hello may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The scenario as the coordinator read it, for the workers to compile the same world.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub text: String,
    pub seed: Option<u64>,
    pub phones: Option<u32>,
    pub tls: Option<String>,
}

/// `run --workers`: where the workers are, the secret, and the scenario's source.
pub struct Distribute {
    pub workers: Vec<SocketAddr>,
    pub secret: Arc<Secret>,
    pub source: Source,
}

/// A connected worker.
pub struct WorkerInfo {
    pub addr: SocketAddr,
    pub node_id: u64,
    pub threads: usize,
    pub actor: ActorRef<WorkerMsg>,
}

/// The coordinator's node and its connected workers.
pub struct Cluster {
    node: Node,
    workers: Vec<WorkerInfo>,
    source: Source,
}

/// A reason a distributed run cannot keep a scenario's semantics, if any.
pub fn unsupported(spec: &WorldSpec) -> Option<String> {
    use cucmsim_actors::LinkEffect;
    spec.link_rules
        .iter()
        .any(|r| matches!(r.effect, LinkEffect::IdleTimeout { .. }))
        .then(|| {
            "the scenario has a firewall idle timeout (`idle_timeout`): its connection state is \
             shared by both ends of a connection, which a distributed run keeps on different \
             nodes; run it in one process"
                .to_string()
        })
}

impl Distribute {
    /// Connects to every worker, in parallel, and says hello; a worker that does not answer,
    /// has another secret or another version, or is busy is an error naming it.
    pub fn connect(&self, spec: &WorldSpec) -> Result<Cluster, String> {
        if let Some(why) = unsupported(spec) {
            return Err(why);
        }
        let bind: SocketAddr = if self.workers.iter().all(|a| a.is_ipv4()) {
            "0.0.0.0:0".parse().expect("address")
        } else {
            "[::]:0".parse().expect("address")
        };
        let name = format!("coordinator-{}", std::process::id());
        let node = Node::start(&name, bind, false, Arc::clone(&self.secret))?;
        let mut workers: Vec<WorkerInfo> = vec![];
        for addr in &self.workers {
            node.connect(*addr, CONNECT_TIMEOUT)
                .map_err(|e| format!("worker {e}"))?;
            let claimed: Vec<u64> = workers.iter().map(|w| w.node_id).collect();
            let (node_id, actor) = node.rt.block_on(find_worker(&node, *addr, &claimed))?;
            let hello = Hello {
                protocol: PROTOCOL,
                version: crate::version().to_string(),
                coordinator: name.clone(),
            };
            let answer = node.rt.block_on(call(
                &actor,
                WorkerMsg::Hello,
                json(&hello),
                CONNECT_TIMEOUT,
            ));
            let ok: HelloOk = answer
                .and_then(|a| from_json(&a))
                .map_err(|e| format!("worker {addr} refused: {e}"))?;
            workers.push(WorkerInfo {
                addr: *addr,
                node_id,
                threads: ok.threads.max(1),
                actor,
            });
        }
        Ok(Cluster {
            node,
            workers,
            source: self.source.clone(),
        })
    }
}

/// The worker actor behind the node session `addr`'s connection just opened: the one ready
/// session not `claimed` by an earlier worker (this node only connects, one at a time).
async fn find_worker(
    node: &Node,
    addr: SocketAddr,
    claimed: &[u64],
) -> Result<(u64, ActorRef<WorkerMsg>), String> {
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    let mut sessions = node.sessions.clone();
    loop {
        let (fresh, lost) = {
            let s = sessions.borrow();
            let fresh: Vec<u64> = s
                .ready
                .keys()
                .filter(|id| !claimed.contains(id))
                .copied()
                .collect();
            let lost = s
                .down
                .iter()
                .find(|(id, _)| !claimed.contains(id))
                .map(|(_, n)| n.clone());
            (fresh, lost)
        };
        if let (true, Some(who)) = (fresh.is_empty(), lost) {
            return Err(format!(
                "worker {addr}: the session with {who} ended before it was ready (another secret?)"
            ));
        }
        for id in fresh {
            let members = ractor::pg::get_members(&WORKERS.to_string());
            if let Some(cell) = members.into_iter().find(|c| c.get_id().node() == id) {
                return Ok((id, ActorRef::from(cell)));
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "worker {addr}: no authenticated session with a worker in {} s (another secret, \
                 or not a cucmsim worker?)",
                CONNECT_TIMEOUT.as_secs()
            ));
        }
        let _ = tokio::time::timeout(left.min(Duration::from_millis(50)), sessions.changed()).await;
    }
}

/// One call to a worker: the answer's payload, or why there is none.
pub(crate) async fn call(
    actor: &ActorRef<WorkerMsg>,
    variant: fn(Vec<u8>, ractor::RpcReplyPort<Vec<u8>>) -> WorkerMsg,
    payload: Vec<u8>,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    match actor
        .call(|reply| variant(payload, reply), Some(timeout))
        .await
    {
        Ok(ractor::rpc::CallResult::Success(answer)) => open(answer),
        Ok(ractor::rpc::CallResult::Timeout) => {
            Err(format!("no answer in {} s", timeout.as_secs()))
        }
        Ok(ractor::rpc::CallResult::SenderError) => Err("the worker dropped the call".into()),
        Err(e) => Err(format!("the call failed: {e}")),
    }
}

impl Cluster {
    pub fn workers(&self) -> &[WorkerInfo] {
        &self.workers
    }

    /// Every worker builds its shards of the run (in parallel); the peers the conductor
    /// drives them through.
    pub fn load(
        &self,
        spec: &WorldSpec,
        services: &[Addr],
        placement: &Placement,
    ) -> Result<Vec<Box<dyn Peer>>, String> {
        let source = &self.source;
        let fp = fingerprint(spec);
        let services: Vec<(String, String)> = services.iter().map(proto::addr_text).collect();
        let mut pending = vec![];
        for (i, w) in self.workers.iter().enumerate() {
            let load = Load {
                name: source.name.clone(),
                text: source.text.clone(),
                seed: source.seed,
                phones: source.phones,
                tls: source.tls.clone(),
                fingerprint: fp.clone(),
                shards: placement.shards,
                first_shard: placement.first_shard,
                hosted: placement.hosted(i),
                services: services.clone(),
            };
            let actor = w.actor.clone();
            // Building a million phones' keys takes minutes: no call timeout, liveness is
            // the QUIC connection's.
            pending.push(self.node.rt.spawn(async move {
                call(
                    &actor,
                    WorkerMsg::Load,
                    json(&load),
                    Duration::from_secs(24 * 3600),
                )
                .await
            }));
        }
        let mut peers: Vec<Box<dyn Peer>> = vec![];
        for (w, p) in self.workers.iter().zip(pending) {
            let answer = self
                .node
                .rt
                .block_on(peer::or_down(&self.node, w, p))
                .and_then(|a| from_json::<LoadOk>(&a))
                .map_err(|e| format!("worker {} could not load the run: {e}", w.addr))?;
            tracing::info!(worker = %w.addr, phones = answer.phones, build_s = answer.build_s, "worker loaded");
            peers.push(Box::new(RemotePeer::new(&self.node, w, answer.phones)));
        }
        Ok(peers)
    }
}
