//! Running a world on virtual time, in conservative windows: the world's machines are built
//! (keys, certificates, MICs — on every thread), placed on logical processes (one per service,
//! phones on a few shards), and the director plays the scenario window after window on a tokio
//! runtime with `threads` workers. Timers of seconds or days fire at once and in order; crypto
//! runs inline; the trace does not depend on the thread count.
//!
//! ```text
//!  WorldSpec ──build──► services (Box<dyn Machine>) + phone shards (Vec<Phone>) + Routes
//!            ──spawn──► Lp actors (services first, then shards) under the root supervisor
//!            ──play───► Conductor windows, director at the barriers ──► Harvested
//! ```

use super::director::{spread, CaCerts};
use super::prebuilt::Prebuilt;
use super::schedule::{Stage, StepRun};
use super::spec::{Service, TlsMode, WorldSpec};
use super::world;
use cucmsim_actors::bus::{Counters, Route, Routes};
use cucmsim_actors::cost::CostMeter;
use cucmsim_actors::lp::LpMsg;
use cucmsim_actors::supervisor::{spawn_lp, Supervisor};
use cucmsim_actors::{Bus, Cause, Conductor, Input, WindowStats};
use cucmsim_core::machine::capf::Capf;
use cucmsim_core::machine::phone::Phone;
use cucmsim_core::machine::tftp::Tftp;
use cucmsim_core::machine::tvs::Tvs;
use cucmsim_core::machine::{Addr, CallManager, Dhcp, Machine, Msg, Observation, Sftp};
use cucmsim_core::pki::cluster::ClusterPki;
use cucmsim_core::pki::mic::ManufacturingCa;
use cucmsim_core::pki::KeyForge;
use cucmsim_core::WallTime;
use ractor::{Actor, ActorRef};
use std::collections::BTreeMap;
use std::time::Instant;

/// What a run produced.
pub struct RunOutput {
    pub trace: Vec<Observation>,
    pub counters: Counters,
    /// Real CPU time per handled input (host clock; never part of the trace).
    pub costs: CostMeter,
    /// Virtual ms each TVS session spent inside its TVS (queueing and service).
    pub tvs_service_ms: Vec<u64>,
    pub virtual_ms: u64,
    pub wall_s: f64,
    /// Of `wall_s`, the time spent building the world (keys, certificates, MICs, actors)
    /// before virtual time starts.
    pub build_s: f64,
    /// Operator steps: when each started and when its effects landed.
    pub steps: Vec<StepRun>,
    /// Worker threads the run used.
    pub threads: usize,
    /// Logical processes: services, then phone shards.
    pub lps: usize,
    pub shards: usize,
    /// Windows, events and letters exchanged.
    pub windows: WindowStats,
    /// A distributed run's workers: traffic, windows, barrier waits.
    pub peers: Vec<cucmsim_actors::peer::PeerFigures>,
}

/// Where a run is, for a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Phones spawned so far (keys derived, certificates issued).
    Building { done: u64, total: u64 },
    /// Virtual time reached.
    Running { virtual_ms: u64, total_ms: u64 },
}

/// Runs the world to its end and returns the trace.
pub fn run(spec: &WorldSpec) -> Result<RunOutput, String> {
    run_with(spec, &mut |_| {})
}

/// Runs the world, telling `progress` where it is now and then (about 500 times a run).
pub fn run_with(spec: &WorldSpec, progress: &mut dyn FnMut(Progress)) -> Result<RunOutput, String> {
    run_shared(spec, &Shared::default(), progress)
}

/// What many runs of one scenario share (`cucmsim explore`): the memoised world artefacts,
/// and the canary switch. `Shared::default()` shares nothing and plants nothing: a plain run.
#[derive(Clone, Copy, Default)]
pub struct Shared<'a> {
    /// Memoised certificates (`None`: made fresh for this run).
    pub prebuilt: Option<&'a Prebuilt>,
    /// Plants the documented defect `explore --canary` must find (see
    /// `cucmsim_core::machine::tvs::Tvs::canary`); never set by a scenario.
    pub canary: bool,
    /// Spread the run over worker nodes (`run --workers`); `None`: this process alone.
    pub distribute: Option<&'a crate::cluster::Cluster>,
}

/// The worker threads `threads` asks for: 0 means every core.
pub fn resolve_threads(threads: usize) -> usize {
    match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// Runs the world with what it shares with other runs; the trace is the one [`run_with`]
/// gives unless `shared.canary` is set.
pub fn run_shared(
    spec: &WorldSpec,
    shared: &Shared<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunOutput, String> {
    let started = Instant::now();
    if spec.latency_ms.0 < 1 {
        // The lookahead of the windows: a message sent in a window must be due after it.
        return Err(format!(
            "the LAN base latency is {} ms; the parallel windows need at least 1 ms",
            spec.latency_ms.0
        ));
    }
    let threads = resolve_threads(spec.threads);
    let rt = match threads {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
    }
    .map_err(|e| format!("runtime: {e}"))?;
    let mut built = None;
    let mut watch = |p: Progress| {
        if built.is_none() && matches!(p, Progress::Running { .. }) {
            built = Some(started.elapsed().as_secs_f64());
        }
        progress(p)
    };
    let fresh = Prebuilt::default();
    let prebuilt = shared.prebuilt.unwrap_or(&fresh);
    let forge = KeyForge::new(spec.seed);
    let mfg = prebuilt.mfg(
        &forge,
        world::install_time(spec.epoch).plus_s(-WallTime::YEAR_S * 4),
    )?;
    let world = World {
        forge: &forge,
        mfg: &mfg,
        prebuilt,
        canary: shared.canary,
        threads,
    };
    let d = match shared.distribute {
        None => rt.block_on(drive(spec, &world, &mut watch))?,
        Some(dist) => super::distributed::coordinate(spec, &world, dist, &rt, &mut watch)?,
    };
    rt.shutdown_background();
    Ok(RunOutput {
        trace: d.harvest.trace,
        counters: d.harvest.counters,
        costs: d.harvest.costs,
        tvs_service_ms: d.harvest.tvs_times,
        virtual_ms: spec.duration_ms,
        wall_s: started.elapsed().as_secs_f64(),
        build_s: built.unwrap_or(0.0),
        steps: d.steps,
        threads,
        lps: d.lps,
        shards: d.shards,
        windows: d.harvest.stats,
        peers: d.harvest.peers,
    })
}

/// What driving a world leaves.
pub(super) struct Driven {
    pub(super) harvest: cucmsim_actors::Harvested,
    pub(super) steps: Vec<StepRun>,
    pub(super) lps: usize,
    pub(super) shards: usize,
}

/// What the clusters and phones are built from.
pub(super) struct World<'a> {
    pub(super) forge: &'a KeyForge,
    pub(super) mfg: &'a ManufacturingCa,
    pub(super) prebuilt: &'a Prebuilt,
    pub(super) canary: bool,
    pub(super) threads: usize,
}

/// The world's machines before they are placed: services (one logical process each, in this
/// order) and phones (in fleet order).
pub(super) struct Machines {
    pub(super) services: Vec<Box<dyn Machine>>,
    pub(super) phones: Vec<Phone>,
    pub(super) cas: CaCerts,
    pub(super) pkis: BTreeMap<String, ClusterPki>,
}

async fn drive(
    spec: &WorldSpec,
    w: &World<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Driven, String> {
    progress(Progress::Building {
        done: 0,
        total: u64::from(spec.phone_count()),
    });
    // The clusters come first (keys, certificates, ITL/CTL), before any phone.
    let mut m = services(spec, w)?;
    m.phones = build_phones(spec, w, progress, &|_| true)?;
    let shards = (w.threads * 2).clamp(1, m.phones.len().max(1));
    let services: Vec<Addr> = m.services.iter().map(|s| s.addr()).collect();
    let phone_ids: Vec<u32> = m.phones.iter().map(|p| p.id).collect();
    let bus = bus(spec, place(&services, &phone_ids, shards)?);
    let (root, _) = Actor::spawn(None, Supervisor, ())
        .await
        .map_err(|e| e.to_string())?;
    let lps = spawn(&bus, &root, m.services, m.phones, (shards, w.threads)).await?;
    let n_lps = lps.len();
    let mut c = Conductor::new(bus, lps, vec![None; n_lps]);
    set_up(spec, &mut c, &services, &phone_ids);
    tracing::info!(
        phones = phone_ids.len(),
        clusters = spec.clusters.len(),
        seed = spec.seed,
        lps = n_lps,
        shards,
        "world built"
    );
    let (steps, harvest) = conduct(spec, c, m.pkis, m.cas, progress).await?;
    root.stop(None);
    Ok(Driven {
        harvest: harvest?,
        steps: steps?,
        lps: n_lps,
        shards,
    })
}

pub(super) type Conducted = (
    Result<Vec<StepRun>, String>,
    Result<cucmsim_actors::Harvested, String>,
);

/// Plays the scenario and harvests, with the conductor as a task on a worker thread: a
/// logical process it wakes then runs on that same worker when it is the window's only one
/// (no wake-up across threads per window, which costs tens of µs on a VM), and the other
/// workers take the rest when a window has more. Progress comes back over a channel.
pub(super) async fn conduct(
    spec: &WorldSpec,
    mut c: Conductor,
    pkis: BTreeMap<String, ClusterPki>,
    cas: CaCerts,
    progress: &mut dyn FnMut(Progress),
) -> Result<Conducted, String> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let spec = spec.clone();
    let mut task = tokio::spawn(async move {
        let stage = Stage {
            spec: &spec,
            pkis: &pkis,
            cas: &cas,
        };
        let steps = stage
            .play(&mut c, &mut |p| {
                let _ = tx.send(p);
            })
            .await;
        (steps, c.finish().await)
    });
    loop {
        tokio::select! {
            done = &mut task => return done.map_err(|e| format!("the conductor failed: {e}")),
            Some(p) = rx.recv() => progress(p),
        }
    }
}

/// Every fleet's phones with their MICs, built on `w.threads` threads (each phone from the
/// seed and its id alone, so the same phones whatever the threads), in fleet order; only the
/// `k`-th phones (in fleet order) for which `keep(k)` holds.
pub(super) fn build_phones(
    spec: &WorldSpec,
    w: &World<'_>,
    progress: &mut dyn FnMut(Progress),
    keep: &dyn Fn(usize) -> bool,
) -> Result<Vec<Phone>, String> {
    let build = world::PhoneBuild {
        forge: w.forge,
        mfg: w.mfg,
        epoch: spec.epoch,
        tls: spec.tls == TlsMode::Full,
        prebuilt: w.prebuilt,
    };
    let mut jobs = vec![];
    for fleet in &spec.fleets {
        let capf = world::phone_capf(spec, fleet, w.forge);
        jobs.extend((fleet.first..fleet.first + fleet.count).map(|id| (fleet, id, capf.clone())));
    }
    let jobs: Vec<_> = jobs
        .into_iter()
        .enumerate()
        .filter(|(k, _)| keep(*k))
        .map(|(_, j)| j)
        .collect();
    let total = jobs.len() as u64;
    // About a hundred updates a build, at most 256 phones apart.
    let every = (total / 100).clamp(1, 256) as usize;
    let mut phones = Vec::with_capacity(jobs.len());
    for batch in jobs.chunks(every * w.threads.max(1)) {
        let part = batch.len().div_ceil(w.threads.max(1)).max(1);
        let built: Vec<Result<Vec<Phone>, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .chunks(part)
                .map(|chunk| {
                    let build = &build;
                    s.spawn(move || {
                        chunk
                            .iter()
                            .map(|(fleet, id, capf)| world::phone(fleet, *id, build, capf.clone()))
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("building a phone panicked".into()))
                })
                .collect()
        });
        for b in built {
            phones.extend(b?);
        }
        progress(Progress::Building {
            done: phones.len() as u64,
            total,
        });
    }
    Ok(phones)
}

/// The services (infrastructure, then every cluster's), no phone yet.
pub(super) fn services(spec: &WorldSpec, w: &World<'_>) -> Result<Machines, String> {
    let mut m = Machines {
        services: vec![],
        phones: vec![],
        cas: BTreeMap::new(),
        pkis: BTreeMap::new(),
    };
    infra(spec, w, &mut m)?;
    clusters(spec, w, &mut m)?;
    Ok(m)
}

/// The run's bus over `routes`.
pub(super) fn bus(spec: &WorldSpec, routes: Routes) -> Bus {
    Bus::new(
        spec.seed,
        spec.epoch,
        spec.latency_ms,
        routes,
        spec.link_rules.clone(),
    )
}

/// Every phone's id, in fleet order.
pub(super) fn phone_ids(spec: &WorldSpec) -> Vec<u32> {
    spec.fleets
        .iter()
        .flat_map(|f| f.first..f.first + f.count)
        .collect()
}

/// The routes: service `i` is logical process `i`; phone `k` (in fleet order) is on shard
/// `k % shards`, slot `k / shards`.
pub(super) fn place(services: &[Addr], phone_ids: &[u32], shards: usize) -> Result<Routes, String> {
    let mut routes = Routes::default();
    for (i, s) in services.iter().enumerate() {
        let route = Route {
            lp: i as u32,
            slot: 0,
        };
        routes.insert(s, route)?;
    }
    let first_shard = services.len();
    for (k, id) in phone_ids.iter().enumerate() {
        let route = Route {
            lp: (first_shard + k % shards) as u32,
            slot: (k / shards) as u32,
        };
        routes.insert(&Addr::Phone(*id), route)?;
    }
    Ok(routes)
}

/// Spawns the logical processes: one per service, then the phone shards.
pub(super) async fn spawn(
    bus: &Bus,
    root: &ActorRef<()>,
    services: Vec<Box<dyn Machine>>,
    phones: Vec<Phone>,
    (shards, threads): (usize, usize),
) -> Result<Vec<ActorRef<LpMsg>>, String> {
    let err = |e: ractor::SpawnErr| e.to_string();
    let mut lps = vec![];
    for s in services {
        let index = lps.len() as u32;
        lps.push(
            spawn_lp(bus, root, (index, threads), vec![s], vec![])
                .await
                .map_err(err)?,
        );
    }
    if phones.is_empty() {
        return Ok(lps);
    }
    let mut slabs: Vec<Vec<Phone>> = (0..shards)
        .map(|_| Vec::with_capacity(phones.len() / shards + 1))
        .collect();
    for (k, p) in phones.into_iter().enumerate() {
        slabs[k % shards].push(p);
    }
    for slab in slabs {
        let index = lps.len() as u32;
        lps.push(
            spawn_lp(bus, root, (index, threads), slab, vec![])
                .await
                .map_err(err)?,
        );
    }
    Ok(lps)
}

/// The set-up at time 0: publishers started, DHCP told every fleet's option 150, then each
/// phone's power-on, spread over the boot window from the seed.
pub(super) fn set_up(spec: &WorldSpec, c: &mut Conductor, services: &[Addr], phone_ids: &[u32]) {
    for s in services.iter().filter(|s| matches!(s, Addr::Publisher(_))) {
        c.hand(s, Input::Start, Cause::NONE);
    }
    for fleet in &spec.fleets {
        let option150 = spec.hosts_with(fleet.cluster, Service::Tftp);
        let set = Msg::DhcpSet {
            first: fleet.first,
            count: fleet.count,
            option150,
        };
        c.hand(&Addr::Dhcp, Input::Msg(set), Cause::NONE);
    }
    let window = spec.phone_boot_ms.max(1);
    for (i, id) in phone_ids.iter().enumerate() {
        let at = spread(spec.seed, i as u64, window);
        c.hand_at(&Addr::Phone(*id), at, Input::Start);
    }
}

/// SFTP, DHCP and the CAs outside the clusters, with each CA's root and issuing certificates
/// (the manufacturing CA's too).
fn infra(spec: &WorldSpec, w: &World<'_>, m: &mut Machines) -> Result<(), String> {
    m.services.push(Box::new(Sftp::default()));
    m.services.push(Box::new(Dhcp::default()));
    m.cas.insert(
        super::spec::MIC_CA.to_string(),
        (w.mfg.root.cert.clone(), w.mfg.issuing.cert.clone()),
    );
    for d in &spec.cas {
        let (machine, root, issuing) = world::ca(d, w.forge, spec.epoch)?;
        m.cas.insert(d.name.clone(), (root, issuing));
        m.services.push(Box::new(machine));
    }
    Ok(())
}

/// Every cluster: its nodes' services, then its publisher; with each cluster's install-time
/// PKI.
fn clusters(spec: &WorldSpec, w: &World<'_>, m: &mut Machines) -> Result<(), String> {
    for (ix, c) in spec.clusters.iter().enumerate() {
        let publisher = world::publisher(spec, ix, w.forge, w.mfg, w.prebuilt)?;
        m.pkis.insert(c.name.clone(), publisher.pki.clone());
        for node in &c.nodes {
            if node.services.contains(&Service::Tftp) {
                m.services.push(Box::new(Tftp::new(&node.name)));
            }
            if node.services.contains(&Service::Tvs) {
                let mut tvs = Tvs::new(&node.name);
                tvs.canary = w.canary;
                m.services.push(Box::new(tvs));
            }
            if node.services.contains(&Service::CallManager) {
                m.services
                    .push(Box::new(CallManager::new(&node.name, &c.name)));
            }
            if node.services.contains(&Service::Capf) {
                m.services.push(Box::new(Capf::new(&node.name)));
            }
        }
        m.services.push(Box::new(publisher));
    }
    Ok(())
}
