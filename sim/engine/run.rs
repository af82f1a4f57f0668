//! Running a world on virtual time: a current-thread tokio runtime with a paused clock, so
//! timers of seconds or days fire at once and in order; crypto runs inline (deterministic).

use super::director::{deliver, spread, CaCerts};
use super::prebuilt::Prebuilt;
use super::schedule::{Stage, StepRun};
use super::spec::{Service, TlsMode, WorldSpec};
use super::world;
use cucmsim_actors::bus::Counters;
use cucmsim_actors::cost::CostMeter;
use cucmsim_actors::supervisor::{spawn_shell, Supervisor};
use cucmsim_actors::{Bus, Cause, Input, Mail};
use cucmsim_core::machine::capf::Capf;
use cucmsim_core::machine::tftp::Tftp;
use cucmsim_core::machine::tvs::Tvs;
use cucmsim_core::machine::{Addr, CallManager, Dhcp, Msg, Observation, Sftp};
use cucmsim_core::pki::cluster::ClusterPki;
use cucmsim_core::pki::mic::ManufacturingCa;
use cucmsim_core::pki::KeyForge;
use cucmsim_core::WallTime;
use ractor::{Actor, ActorRef};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

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
}

/// Runs the world with what it shares with other runs; the trace is the one [`run_with`]
/// gives unless `shared.canary` is set.
pub fn run_shared(
    spec: &WorldSpec,
    shared: &Shared<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunOutput, String> {
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
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
    let (trace, counters, costs, tvs_service_ms, steps) =
        rt.block_on(drive(spec, prebuilt, shared.canary, &mut watch))?;
    Ok(RunOutput {
        trace,
        counters,
        costs,
        tvs_service_ms,
        virtual_ms: spec.duration_ms,
        wall_s: started.elapsed().as_secs_f64(),
        build_s: built.unwrap_or(0.0),
        steps,
    })
}

/// The shells' supervisors, one per participant kind.
struct Supervisors {
    infra: ActorRef<()>,
    tftp: ActorRef<()>,
    tvs: ActorRef<()>,
    callmanager: ActorRef<()>,
    publisher: ActorRef<()>,
    phone: ActorRef<()>,
}

fn spawn_err(e: ractor::SpawnErr) -> String {
    e.to_string()
}

/// What driving a world leaves: trace, counters, costs, TVS service times, step timings.
type Driven = (
    Vec<Observation>,
    Counters,
    CostMeter,
    Vec<u64>,
    Vec<StepRun>,
);

async fn drive(
    spec: &WorldSpec,
    prebuilt: &Prebuilt,
    canary: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<Driven, String> {
    // The clusters come first (keys, certificates, ITL/CTL), before any phone.
    progress(Progress::Building {
        done: 0,
        total: u64::from(spec.phone_count()),
    });
    let forge = KeyForge::new(spec.seed);
    let mfg = prebuilt.mfg(
        &forge,
        world::install_time(spec.epoch).plus_s(-WallTime::YEAR_S * 4),
    )?;
    let mfg = &*mfg;
    let bus = Bus::new(spec.seed, spec.epoch, spec.latency_ms.0, spec.latency_ms.1);
    for rule in &spec.link_rules {
        bus.add_rule(rule.clone());
    }
    let (root, sups) = supervisors(&bus).await?;
    let cas = spawn_infra(spec, &bus, &sups, &forge, mfg).await?;
    let world = World {
        forge: &forge,
        mfg,
        prebuilt,
        canary,
    };
    let pkis = spawn_clusters(spec, &bus, &sups, &world).await?;
    let phones = spawn_phones(spec, &bus, &sups, &world, progress).await?;
    // Power-on instants, spread over the boot window from the seed.
    let start = tokio::time::Instant::now();
    let window = spec.phone_boot_ms.max(1);
    for (i, phone) in phones.iter().enumerate() {
        let at = spread(spec.seed, i as u64, window);
        ractor::time::send_after(Duration::from_millis(at), phone.get_cell(), || {
            Mail::plain(Input::Start)
        });
    }
    let stage = Stage {
        spec,
        bus: &bus,
        pkis: &pkis,
        cas: &cas,
        start,
    };
    let steps = stage.play(progress).await;
    let trace = bus.take_trace();
    let counters = bus.counters();
    let costs = bus.take_costs();
    let tvs_times = bus.take_tvs_times();
    root.stop(None);
    Ok((trace, counters, costs, tvs_times, steps))
}

/// One supervisor per participant kind under a root: a failing shell is reported, the rest
/// of the world goes on.
async fn supervisors(bus: &Bus) -> Result<(ActorRef<()>, Supervisors), String> {
    let (root, _) = Actor::spawn(
        None,
        Supervisor {
            bus: bus.clone(),
            kind: "root",
        },
        (),
    )
    .await
    .map_err(spawn_err)?;
    let mut kinds = vec![];
    for name in ["infra", "tftp", "tvs", "callmanager", "publisher", "phone"] {
        // Unnamed: ractor's name registry is process-wide and runs may be concurrent.
        let sup = Supervisor {
            bus: bus.clone(),
            kind: name,
        };
        let (a, _) = Actor::spawn_linked(None, sup, (), root.get_cell())
            .await
            .map_err(spawn_err)?;
        kinds.push(a);
    }
    let [infra, tftp, tvs, callmanager, publisher, phone] =
        <[_; 6]>::try_from(kinds).map_err(|_| "supervisors")?;
    let sups = Supervisors {
        infra,
        tftp,
        tvs,
        callmanager,
        publisher,
        phone,
    };
    Ok((root, sups))
}

/// SFTP, DHCP and the CAs outside the clusters; returns each CA's root and issuing
/// certificates (the manufacturing CA's too).
async fn spawn_infra(
    spec: &WorldSpec,
    bus: &Bus,
    sups: &Supervisors,
    forge: &KeyForge,
    mfg: &ManufacturingCa,
) -> Result<CaCerts, String> {
    spawn_shell(bus, &sups.infra, Sftp::default())
        .await
        .map_err(spawn_err)?;
    spawn_shell(bus, &sups.infra, Dhcp::default())
        .await
        .map_err(spawn_err)?;
    let mut cas = BTreeMap::new();
    cas.insert(
        super::spec::MIC_CA.to_string(),
        (mfg.root.cert.clone(), mfg.issuing.cert.clone()),
    );
    for d in &spec.cas {
        let (machine, root, issuing) = world::ca(d, forge, spec.epoch)?;
        cas.insert(d.name.clone(), (root, issuing));
        spawn_shell(bus, &sups.infra, machine)
            .await
            .map_err(spawn_err)?;
    }
    Ok(cas)
}

/// Every cluster: its nodes' services, then its publisher (started); returns each cluster's
/// install-time PKI.
/// What the clusters and phones are built from.
struct World<'a> {
    forge: &'a KeyForge,
    mfg: &'a ManufacturingCa,
    prebuilt: &'a Prebuilt,
    canary: bool,
}

async fn spawn_clusters(
    spec: &WorldSpec,
    bus: &Bus,
    sups: &Supervisors,
    w: &World<'_>,
) -> Result<BTreeMap<String, ClusterPki>, String> {
    let mut pkis = BTreeMap::new();
    for (ix, c) in spec.clusters.iter().enumerate() {
        let publisher = world::publisher(spec, ix, w.forge, w.mfg, w.prebuilt)?;
        pkis.insert(c.name.clone(), publisher.pki.clone());
        for node in &c.nodes {
            if node.services.contains(&Service::Tftp) {
                spawn_shell(bus, &sups.tftp, Tftp::new(&node.name))
                    .await
                    .map_err(spawn_err)?;
            }
            if node.services.contains(&Service::Tvs) {
                let mut tvs = Tvs::new(&node.name);
                tvs.canary = w.canary;
                spawn_shell(bus, &sups.tvs, tvs).await.map_err(spawn_err)?;
            }
            if node.services.contains(&Service::CallManager) {
                spawn_shell(
                    bus,
                    &sups.callmanager,
                    CallManager::new(&node.name, &c.name),
                )
                .await
                .map_err(spawn_err)?;
            }
            if node.services.contains(&Service::Capf) {
                spawn_shell(bus, &sups.publisher, Capf::new(&node.name))
                    .await
                    .map_err(spawn_err)?;
            }
        }
        let actor = spawn_shell(bus, &sups.publisher, publisher)
            .await
            .map_err(spawn_err)?;
        let _ = actor.cast(Mail::plain(Input::Start));
    }
    Ok(pkis)
}

/// Every fleet's phones (DHCP told their option 150 first); returns the phones' shells.
async fn spawn_phones(
    spec: &WorldSpec,
    bus: &Bus,
    sups: &Supervisors,
    w: &World<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<ActorRef<Mail>>, String> {
    let total = u64::from(spec.phone_count());
    let mut phones = Vec::with_capacity(total as usize);
    // About a hundred updates a build, at most 256 phones apart.
    let every = (total / 100).clamp(1, 256);
    let build = world::PhoneBuild {
        forge: w.forge,
        mfg: w.mfg,
        epoch: spec.epoch,
        tls: spec.tls == TlsMode::Full,
        prebuilt: w.prebuilt,
    };
    for fleet in &spec.fleets {
        let tftp = spec.hosts_with(fleet.cluster, Service::Tftp);
        deliver(
            bus,
            Addr::Dhcp,
            Msg::DhcpSet {
                first: fleet.first,
                count: fleet.count,
                option150: tftp,
            },
            Cause::NONE,
        );
        let capf = world::phone_capf(spec, fleet, w.forge);
        for id in fleet.first..fleet.first + fleet.count {
            let phone = world::phone(fleet, id, &build, capf.clone())?;
            phones.push(
                spawn_shell(bus, &sups.phone, phone)
                    .await
                    .map_err(spawn_err)?,
            );
            if phones.len() as u64 % every == 0 || phones.len() as u64 == total {
                progress(Progress::Building {
                    done: phones.len() as u64,
                    total,
                });
            }
        }
    }
    tracing::info!(
        phones = total,
        clusters = spec.clusters.len(),
        seed = spec.seed,
        "world built"
    );
    Ok(phones)
}
