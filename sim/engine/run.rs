//! Running a world on virtual time: a current-thread tokio runtime with a paused clock, so
//! timers of seconds or days fire at once and in order; crypto runs inline (deterministic).

use super::director::{deliver, dispatch, spread, CaCerts};
use super::spec::{Service, TlsMode, WorldSpec};
use super::world;
use cucmsim_actors::bus::Counters;
use cucmsim_actors::cost::CostMeter;
use cucmsim_actors::supervisor::{spawn_shell, Supervisor};
use cucmsim_actors::{Bus, Input};
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
    let (trace, counters, costs, tvs_service_ms) = rt.block_on(drive(spec, &mut watch))?;
    Ok(RunOutput {
        trace,
        counters,
        costs,
        tvs_service_ms,
        virtual_ms: spec.duration_ms,
        wall_s: started.elapsed().as_secs_f64(),
        build_s: built.unwrap_or(0.0),
    })
}

/// Sleeps (virtual time) until `until`, reporting progress every `tick_ms`.
async fn sleep_reporting(
    start: tokio::time::Instant,
    until_ms: u64,
    total_ms: u64,
    progress: &mut dyn FnMut(Progress),
) {
    let tick_ms = (total_ms / 500).max(1);
    loop {
        let now_ms = start.elapsed().as_millis() as u64;
        progress(Progress::Running {
            virtual_ms: now_ms.min(total_ms),
            total_ms,
        });
        if now_ms >= until_ms {
            return;
        }
        // Past the end there is no progress to show: one sleep to `until_ms`, not a tick
        // every total/500 ms (an event at "999999 days" in a 10-minute run was 72 million
        // ticks, hours at 100 % CPU).
        let next = if now_ms >= total_ms {
            until_ms
        } else {
            (now_ms / tick_ms + 1) * tick_ms
        };
        tokio::time::sleep_until(start + Duration::from_millis(next.min(until_ms))).await;
    }
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

async fn drive(
    spec: &WorldSpec,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Vec<Observation>, Counters, CostMeter, Vec<u64>), String> {
    let forge = KeyForge::new(spec.seed);
    let mfg = ManufacturingCa::new(
        &forge,
        world::install_time(spec.epoch).plus_s(-WallTime::YEAR_S * 4),
    )
    .map_err(|e| e.to_string())?;
    let bus = Bus::new(spec.seed, spec.epoch, spec.latency_ms.0, spec.latency_ms.1);
    for rule in &spec.link_rules {
        bus.add_rule(rule.clone());
    }
    let (root, sups) = supervisors(&bus).await?;
    let cas = spawn_infra(spec, &bus, &sups, &forge, &mfg).await?;
    let pkis = spawn_clusters(spec, &bus, &sups, &forge, &mfg).await?;
    let phones = spawn_phones(spec, &bus, &sups, &forge, &mfg, progress).await?;
    // Power-on instants, spread over the boot window from the seed.
    let start = tokio::time::Instant::now();
    let window = spec.phone_boot_ms.max(1);
    for (i, phone) in phones.iter().enumerate() {
        let at = spread(spec.seed, i as u64, window);
        ractor::time::send_after(Duration::from_millis(at), phone.get_cell(), || Input::Start);
    }
    let end = spec.duration_ms;
    for (at_ms, event) in &spec.events {
        sleep_reporting(start, *at_ms, end, progress).await;
        dispatch(spec, &bus, &pkis, &cas, event);
    }
    sleep_reporting(start, end, end, progress).await;
    let trace = bus.take_trace();
    let counters = bus.counters();
    let costs = bus.take_costs();
    let tvs_times = bus.take_tvs_times();
    root.stop(None);
    Ok((trace, counters, costs, tvs_times))
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
async fn spawn_clusters(
    spec: &WorldSpec,
    bus: &Bus,
    sups: &Supervisors,
    forge: &KeyForge,
    mfg: &ManufacturingCa,
) -> Result<BTreeMap<String, ClusterPki>, String> {
    let mut pkis = BTreeMap::new();
    for (ix, c) in spec.clusters.iter().enumerate() {
        let publisher = world::publisher(spec, ix, forge, mfg)?;
        pkis.insert(c.name.clone(), publisher.pki.clone());
        for node in &c.nodes {
            if node.services.contains(&Service::Tftp) {
                spawn_shell(bus, &sups.tftp, Tftp::new(&node.name))
                    .await
                    .map_err(spawn_err)?;
            }
            if node.services.contains(&Service::Tvs) {
                spawn_shell(bus, &sups.tvs, Tvs::new(&node.name))
                    .await
                    .map_err(spawn_err)?;
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
        let _ = actor.cast(Input::Start);
    }
    Ok(pkis)
}

/// Every fleet's phones (DHCP told their option 150 first); returns the phones' shells.
async fn spawn_phones(
    spec: &WorldSpec,
    bus: &Bus,
    sups: &Supervisors,
    forge: &KeyForge,
    mfg: &ManufacturingCa,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<ActorRef<Input>>, String> {
    let total = u64::from(spec.phone_count());
    let mut phones = Vec::with_capacity(total as usize);
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
        );
        let capf = world::phone_capf(spec, fleet, forge);
        for id in fleet.first..fleet.first + fleet.count {
            let phone = world::phone(
                fleet,
                id,
                forge,
                mfg,
                spec.epoch,
                spec.tls == TlsMode::Full,
                capf.clone(),
            )?;
            phones.push(
                spawn_shell(bus, &sups.phone, phone)
                    .await
                    .map_err(spawn_err)?,
            );
            if phones.len() % 256 == 0 {
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
