//! A run spread over worker nodes (`cucmsim run --workers`): the engine's side. The
//! coordinator builds the services and hosts them; the phone shards live on the workers, each
//! of which builds its own phones from (seed, entity) — the same keys and certificates — and
//! runs the same logical processes. The conductor drives them through [`Peer`]s exactly as it
//! drives its own, so the trace is the one process's.
//!
//! ```text
//!  coordinator: connect + Hello (threads) ─► services built ─► Load(shards) to every worker
//!               services' LPs here, shard LPs there ─► Conductor::with_peers ─► play ─► harvest
//!  worker:      Load ─► host(): its phones, the run's routes, its shard LPs (global indices)
//! ```

use super::run::{
    build_phones, bus, conduct, phone_ids, place, services, set_up, spawn, Driven, Progress, World,
};
use super::spec::WorldSpec;
use crate::cluster::Cluster;
use cucmsim_actors::conductor::Home;
use cucmsim_actors::lp::LpMsg;
use cucmsim_actors::peer::Peer;
use cucmsim_actors::supervisor::{spawn_lp, Supervisor};
use cucmsim_actors::Conductor;
use cucmsim_core::machine::phone::Phone;
use cucmsim_core::machine::{Addr, Machine};
use ractor::{Actor, ActorRef};
use std::collections::BTreeMap;

/// Phone shards: how many in all, where shard 0's LP is, and which node hosts each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub shards: usize,
    pub first_shard: usize,
    /// `owner[s]`: the worker hosting shard `s`.
    pub owner: Vec<usize>,
}

impl Placement {
    /// `2 × threads` shards per worker (fewer when there are fewer phones), in blocks.
    pub fn new(first_shard: usize, threads: &[usize], phones: usize) -> Placement {
        let mut owner = vec![];
        for (w, t) in threads.iter().enumerate() {
            owner.extend(std::iter::repeat_n(w, 2 * t.max(&1)));
        }
        owner.truncate(phones.max(1));
        Placement {
            shards: owner.len(),
            first_shard,
            owner,
        }
    }

    /// The shards worker `w` hosts.
    pub fn hosted(&self, w: usize) -> Vec<usize> {
        (0..self.shards).filter(|s| self.owner[*s] == w).collect()
    }
}

/// Drives `spec` with its phones on `cluster`'s workers; the services here.
pub(super) fn coordinate(
    spec: &WorldSpec,
    w: &World<'_>,
    cluster: &Cluster,
    rt: &tokio::runtime::Runtime,
    progress: &mut dyn FnMut(Progress),
) -> Result<Driven, String> {
    let m = services(spec, w)?;
    let services: Vec<Addr> = m.services.iter().map(|s| s.addr()).collect();
    let ids = phone_ids(spec);
    let threads: Vec<usize> = cluster.workers().iter().map(|w| w.threads).collect();
    let placement = Placement::new(services.len(), &threads, ids.len());
    progress(Progress::Building {
        done: 0,
        total: ids.len() as u64,
    });
    let peers = cluster.load(spec, &services, &placement)?;
    progress(Progress::Building {
        done: ids.len() as u64,
        total: ids.len() as u64,
    });
    let bus = bus(spec, place(&services, &ids, placement.shards)?);
    let out = rt.block_on(async {
        let (root, _) = Actor::spawn(None, Supervisor, ())
            .await
            .map_err(|e| e.to_string())?;
        let local = spawn(&bus, &root, m.services, vec![], (1, w.threads)).await?;
        let mut homes: Vec<Home> = local.into_iter().map(Home::Local).collect();
        homes.extend(placement.owner.iter().map(|o| Home::Peer(*o)));
        let n_lps = homes.len();
        let peers: Vec<Box<dyn Peer>> = peers;
        let mut c = Conductor::with_peers(bus, homes, peers, vec![None; n_lps]);
        set_up(spec, &mut c, &services, &ids);
        tracing::info!(
            phones = ids.len(),
            workers = threads.len(),
            lps = n_lps,
            shards = placement.shards,
            "distributed world built"
        );
        let (steps, harvest) = conduct(spec, c, m.pkis, m.cas, progress).await?;
        root.stop(None);
        Ok::<_, String>(Driven {
            harvest: harvest?,
            steps: steps?,
            lps: n_lps,
            shards: placement.shards,
        })
    });
    out
}

/// What a worker hosts for one run.
pub struct Hosted {
    /// The runtime its logical processes compute on.
    pub rt: tokio::runtime::Runtime,
    pub lps: BTreeMap<u32, ActorRef<LpMsg>>,
    pub phones: u64,
    root: ActorRef<()>,
}

impl Hosted {
    /// Stops the logical processes and lets the runtime go (callable from async code).
    pub fn stop(self) {
        self.root.stop(None);
        self.rt.shutdown_background();
    }
}

/// A worker's part of the run of `spec`: the phones of shards `hosted` (of `placement`),
/// on `threads` threads, routed with the run's whole address plan (`services`, every phone).
/// Call it outside any async runtime.
pub fn host(
    spec: &WorldSpec,
    services: &[Addr],
    placement: &Placement,
    hosted: &[usize],
    threads: usize,
) -> Result<Hosted, String> {
    let forge = cucmsim_core::pki::KeyForge::new(spec.seed);
    let prebuilt = super::Prebuilt::default();
    let mfg = prebuilt.mfg(
        &forge,
        super::world::install_time(spec.epoch).plus_s(-cucmsim_core::WallTime::YEAR_S * 4),
    )?;
    let w = World {
        forge: &forge,
        mfg: &mfg,
        prebuilt: &prebuilt,
        canary: false,
        threads,
    };
    let shards = placement.shards;
    let mine: Vec<bool> = (0..shards).map(|s| hosted.contains(&s)).collect();
    let phones = build_phones(spec, &w, &mut |_| {}, &|k| mine[k % shards])?;
    let ids = phone_ids(spec);
    let bus = bus(spec, place(services, &ids, shards)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let count = phones.len() as u64;
    let (root, lps) = rt.block_on(async {
        let (root, _) = Actor::spawn(None, Supervisor, ())
            .await
            .map_err(|e| e.to_string())?;
        // Phone k of the run is on shard k % shards; this node's phones come in that order.
        let mut slabs: BTreeMap<usize, Vec<Phone>> = hosted.iter().map(|s| (*s, vec![])).collect();
        let mut k_of = ids.iter().enumerate().filter(|(k, _)| mine[k % shards]);
        for p in phones {
            let (k, id) = k_of.next().ok_or("more phones than the plan")?;
            debug_assert_eq!(*id, p.id);
            slabs
                .get_mut(&(k % shards))
                .ok_or("a phone off the plan")?
                .push(p);
        }
        let mut lps = BTreeMap::new();
        for (s, slab) in slabs {
            let index = (placement.first_shard + s) as u32;
            let lp = spawn_lp(&bus, &root, (index, threads), slab, vec![])
                .await
                .map_err(|e| e.to_string())?;
            lps.insert(index, lp);
        }
        Ok::<_, String>((root, lps))
    })?;
    Ok(Hosted {
        rt,
        lps,
        phones: count,
        root,
    })
}

/// A fingerprint of the compiled world (threads aside): two nodes that compiled the same
/// scenario with the same build have the same one.
pub fn fingerprint(spec: &WorldSpec) -> String {
    use sha2::{Digest, Sha256};
    let mut s = spec.clone();
    s.threads = 0;
    hex::encode(&Sha256::digest(format!("{s:?}").as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::Placement;

    #[test]
    fn shards_go_to_workers_in_blocks_and_never_outnumber_the_phones() {
        let p = Placement::new(5, &[2, 1], 1000);
        assert_eq!(p.shards, 6);
        assert_eq!(p.owner, vec![0, 0, 0, 0, 1, 1]);
        assert_eq!(p.hosted(1), vec![4, 5]);
        let few = Placement::new(5, &[2, 1], 3);
        assert_eq!(few.shards, 3);
        assert!(few.hosted(1).is_empty());
    }
}
