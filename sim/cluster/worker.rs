//! `cucmsim worker --listen ADDR --secret FILE`: a node that hosts phone shards of other
//! processes' runs, one run at a time. Its actor (in process group
//! [`super::proto::WORKERS`]) answers the coordinator's Hello, Load, Window and Finish; the
//! phones compute on their own runtime (`--threads`), the networking on another.
//!
//! Refused, with the reason sent back: another protocol or cucmsim version (Hello), a second
//! coordinator while a run is on (Hello), a scenario other than the one `--scenario` binds the
//! worker to, or one that compiles to another world (Load). A coordinator whose connection is
//! lost ends its run here too; `--once` exits then.

use super::net::{Node, Sessions};
use super::proto::{
    from_json, json, ok, refuse, Hello, HelloOk, Load, LoadOk, WorkerMsg, PROTOCOL, WORKERS,
};
use super::secret::Secret;
use crate::engine::distributed::{fingerprint, host, Hosted, Placement};
use crate::engine::spec::TlsMode;
use crate::lang::compile::Overrides;
use cucmsim_actors::bus::Counters;
use cucmsim_actors::cost::CostMeter;
use cucmsim_actors::lp::LpMsg;
use cucmsim_actors::remote::{
    decode_window_req, encode_finish, encode_window_resp, FinishResp, WindowResp,
};
use ractor::concurrency::oneshot;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{watch, Mutex};

/// `cucmsim worker --help` examples.
pub const WORKER_EXAMPLES: &str = "Examples:
  head -c 32 /dev/urandom | base64 > cluster.secret     # the same file on every node
  cucmsim worker --listen 0.0.0.0:7400 --secret cluster.secret
  cucmsim worker --listen 127.0.0.1:0 --secret cluster.secret --threads 4 --once
  # then, on the coordinator (the services run there, the phones on the workers):
  cucmsim run my-migration.toml --workers 10.0.0.2:7400,10.0.0.3:7400 --secret cluster.secret";

/// Arguments of `cucmsim worker`.
#[derive(clap::Args, Debug)]
pub struct WorkerArgs {
    /// QUIC address to listen on (port 0: any free port, printed on the first line).
    #[arg(long)]
    pub listen: SocketAddr,
    /// The shared secret file (at least 16 bytes; the same on every node).
    #[arg(long)]
    pub secret: PathBuf,
    /// Threads the hosted phones run on [default: every core].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// Accept only runs of this scenario file (another is refused at load).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Exit after one run (or when its coordinator is lost).
    #[arg(long)]
    pub once: bool,
}

impl WorkerArgs {
    pub fn config(&self) -> WorkerConfig {
        WorkerConfig {
            listen: self.listen,
            secret: self.secret.clone(),
            threads: self.threads.unwrap_or(0) as usize,
            scenario: self.scenario.clone(),
            once: self.once,
        }
    }
}

/// What `cucmsim worker` is told.
pub struct WorkerConfig {
    pub listen: SocketAddr,
    pub secret: PathBuf,
    /// Threads for the phones (0: every core).
    pub threads: usize,
    /// Accept only runs of this scenario file.
    pub scenario: Option<PathBuf>,
    /// Exit after one run.
    pub once: bool,
}

/// The run a worker is part of.
#[derive(Default)]
struct Current {
    coordinator: Option<String>,
    hosted: Option<Hosted>,
    /// Runs finished (for `--once`).
    done: u64,
}

impl Current {
    fn reset(&mut self) {
        self.coordinator = None;
        if let Some(h) = self.hosted.take() {
            h.stop();
        }
    }
}

struct Worker {
    threads: usize,
    bound: Option<(String, String)>,
    current: Arc<Mutex<Current>>,
    finished: watch::Sender<u64>,
}

/// Runs `cucmsim worker`; returns the exit code.
pub fn run(cfg: &WorkerConfig) -> u8 {
    match serve(cfg) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("cucmsim worker: {e}");
            2
        }
    }
}

fn serve(cfg: &WorkerConfig) -> Result<(), String> {
    let secret = Arc::new(Secret::load(&cfg.secret)?);
    let bound = match &cfg.scenario {
        None => None,
        Some(p) => Some((
            p.display().to_string(),
            crate::lang::read_scenario(p).map_err(|e| e.to_string())?,
        )),
    };
    let threads = crate::engine::run::resolve_threads(cfg.threads);
    let node = Node::start(
        &format!("worker-{}", std::process::id()),
        cfg.listen,
        true,
        secret,
    )?;
    node.serve();
    let current = Arc::new(Mutex::new(Current::default()));
    let (finished, mut finished_rx) = watch::channel(0u64);
    let worker = Worker {
        threads,
        bound,
        current: Arc::clone(&current),
        finished,
    };
    let actor = node.rt.block_on(async {
        let (actor, _) = Actor::spawn(None, worker, ())
            .await
            .map_err(|e| format!("worker actor: {e}"))?;
        ractor::pg::join(WORKERS.to_string(), vec![actor.get_cell()]);
        Ok::<_, String>(actor)
    })?;
    println!(
        "cucmsim worker: listening on {} (QUIC), {threads} threads, version {}",
        node.local_addr()?,
        crate::version()
    );
    let mut sessions = node.sessions.clone();
    let once = cfg.once;
    node.rt.block_on(async move {
        // With --once: after the run, until the coordinator has the harvest and hangs up.
        let mut linger: Option<tokio::time::Instant> = None;
        loop {
            let grace = async {
                match linger {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = grace => break,
                r = sessions.changed() => {
                    if r.is_err() { break; }
                    let lost = coordinator_lost(&sessions.borrow());
                    if lost {
                        let mut c = current.lock().await;
                        if c.coordinator.is_some() {
                            tracing::warn!("the coordinator's connection was lost; its run ends here");
                            c.reset();
                            c.done += 1;
                        }
                        if once && c.done > 0 { break; }
                    }
                }
                r = finished_rx.changed() => {
                    if r.is_err() { break; }
                    if once {
                        let wait = std::time::Duration::from_secs(super::secret::IDLE_TIMEOUT_S + 1);
                        linger = Some(tokio::time::Instant::now() + wait);
                    }
                }
            }
        }
    });
    actor.stop(None);
    Ok(())
}

/// No coordinator session is up.
fn coordinator_lost(s: &Sessions) -> bool {
    s.ready.is_empty()
}

impl Actor for Worker {
    type Msg = WorkerMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<WorkerMsg>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _: ActorRef<WorkerMsg>,
        msg: WorkerMsg,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        let (answer, reply) = match msg {
            WorkerMsg::Hello(b, reply) => (self.hello(&b).await, reply),
            WorkerMsg::Load(b, reply) => (self.load(&b).await, reply),
            WorkerMsg::Window(b, reply) => (self.window(&b).await, reply),
            WorkerMsg::Finish(_, reply) => (self.finish().await, reply),
        };
        let _ = reply.send(match answer {
            Ok(payload) => ok(payload),
            Err(why) => {
                tracing::warn!(%why, "refused");
                refuse(&why)
            }
        });
        Ok(())
    }
}

impl Worker {
    async fn hello(&self, b: &[u8]) -> Result<Vec<u8>, String> {
        let h: Hello = from_json(b)?;
        let mine = crate::version();
        if h.protocol != super::proto::PROTOCOL || h.version != mine {
            return Err(format!(
                "this worker is cucmsim {mine} (protocol {PROTOCOL}); the coordinator is {} \
                 (protocol {}): run the same build on every node",
                h.version, h.protocol
            ));
        }
        let mut c = self.current.lock().await;
        if let Some(other) = &c.coordinator {
            return Err(format!("busy with a run of {other}"));
        }
        c.coordinator = Some(h.coordinator);
        Ok(json(&HelloOk {
            version: mine.to_string(),
            threads: self.threads,
        }))
    }

    async fn load(&self, b: &[u8]) -> Result<Vec<u8>, String> {
        let load: Load = from_json(b)?;
        if let Some((name, text)) = &self.bound {
            if *text != load.text {
                return Err(format!(
                    "this worker runs only the scenario {name}; refused {}",
                    load.name
                ));
            }
        }
        let started = Instant::now();
        let threads = self.threads;
        let load_name = load.name.clone();
        let (tx, rx) = oneshot();
        std::thread::spawn(move || {
            let _ = tx.send(build(&load, threads));
        });
        let hosted = rx
            .await
            .map_err(|_| "building the phones failed".to_string())??;
        let phones = hosted.phones;
        let mut c = self.current.lock().await;
        println!(
            "cucmsim worker: hosting {phones} phones of {} for {} (built in {:.1} s)",
            load_name,
            c.coordinator.as_deref().unwrap_or("?"),
            started.elapsed().as_secs_f64()
        );
        if c.coordinator.is_none() {
            hosted.stop();
            return Err("the run was abandoned while loading".into());
        }
        if let Some(old) = c.hosted.replace(hosted) {
            old.stop();
        }
        Ok(json(&LoadOk {
            phones,
            build_s: started.elapsed().as_secs_f64(),
        }))
    }

    async fn window(&self, b: &[u8]) -> Result<Vec<u8>, String> {
        let started = Instant::now();
        let req = decode_window_req(b).map_err(|e| e.to_string())?;
        let c = self.current.lock().await;
        let hosted = c.hosted.as_ref().ok_or("no run loaded")?;
        let skews = Arc::new(req.skews);
        let mut waiting = vec![];
        for (lp, letters) in req.letters {
            let actor = hosted
                .lps
                .get(&lp)
                .ok_or_else(|| format!("logical process {lp} is not hosted here"))?;
            let (tx, rx) = oneshot();
            actor
                .cast(LpMsg::Window {
                    end_ms: req.end_ms,
                    letters,
                    skews: Arc::clone(&skews),
                    reply: tx.into(),
                })
                .map_err(|e| format!("logical process {lp}: {e}"))?;
            waiting.push((lp, rx));
        }
        let mut done = Vec::with_capacity(waiting.len());
        for (lp, rx) in waiting {
            done.push((
                lp,
                rx.await.map_err(|e| format!("logical process {lp}: {e}"))?,
            ));
        }
        let resp = WindowResp {
            done,
            busy_ns: started.elapsed().as_nanos() as u64,
        };
        encode_window_resp(&resp).map_err(|e| e.to_string())
    }

    async fn finish(&self) -> Result<Vec<u8>, String> {
        let mut c = self.current.lock().await;
        let hosted = c.hosted.as_ref().ok_or("no run loaded")?;
        let mut out = FinishResp {
            trace: vec![],
            counters: Counters::default(),
            costs: CostMeter::default(),
        };
        for (lp, actor) in &hosted.lps {
            let (tx, rx) = oneshot();
            actor
                .cast(LpMsg::Finish(tx.into()))
                .map_err(|e| format!("logical process {lp}: {e}"))?;
            let h = rx.await.map_err(|e| format!("logical process {lp}: {e}"))?;
            out.trace.extend(h.trace);
            out.counters.add(&h.counters);
            out.costs.merge(h.costs);
        }
        let frame = encode_finish(&out).map_err(|e| e.to_string());
        println!(
            "cucmsim worker: run finished ({} observations handed over)",
            out.trace.len()
        );
        c.reset();
        c.done += 1;
        let _ = self.finished.send(c.done);
        frame
    }
}

/// Compiles the coordinator's scenario and builds this worker's phones (a plain thread: it
/// starts the runtime the phones compute on).
fn build(load: &Load, threads: usize) -> Result<Hosted, String> {
    let tls = match load.tls.as_deref() {
        None => None,
        Some("full") => Some(TlsMode::Full),
        Some("identity") => Some(TlsMode::Identity),
        Some(other) => return Err(format!("no TLS mode `{other}`")),
    };
    let o = Overrides {
        seed: load.seed,
        phones: load.phones,
        tls,
    };
    let mut compiled =
        crate::lang::parse_with(&load.name, &load.text, o).map_err(|e| e.to_string())?;
    compiled.spec.threads = threads;
    let fp = fingerprint(&compiled.spec);
    if fp != load.fingerprint {
        return Err(format!(
            "this worker compiles {} to another world (fingerprint {fp}, the coordinator's {}): \
             another cucmsim build?",
            load.name, load.fingerprint
        ));
    }
    let services = load
        .services
        .iter()
        .map(super::proto::addr_from)
        .collect::<Result<Vec<_>, _>>()?;
    let placement = Placement {
        shards: load.shards,
        first_shard: load.first_shard,
        owner: vec![],
    };
    if load.hosted.iter().any(|s| *s >= load.shards) {
        return Err("a shard off the plan".into());
    }
    let total = compiled.spec.phone_count() as usize;
    let mine = (0..total)
        .filter(|k| load.hosted.contains(&(k % load.shards.max(1))))
        .count();
    crate::cli::memory::fits(mine as u32, crate::cli::memory::available())?;
    host(&compiled.spec, &services, &placement, &load.hosted, threads)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker() -> Worker {
        Worker {
            threads: 1,
            bound: None,
            current: Arc::new(Mutex::new(Current::default())),
            finished: watch::channel(0).0,
        }
    }

    fn hello(version: &str, protocol: u32, who: &str) -> Vec<u8> {
        json(&Hello {
            protocol,
            version: version.to_string(),
            coordinator: who.to_string(),
        })
    }

    #[tokio::test]
    async fn another_version_or_a_second_coordinator_is_refused_at_hello() {
        let w = worker();
        let err = w.hello(&hello("0.0.9 (git 1234567)", PROTOCOL, "a")).await;
        assert!(err
            .unwrap_err()
            .contains("run the same build on every node"));
        let err = w.hello(&hello(crate::version(), PROTOCOL + 1, "a")).await;
        assert!(err.is_err());
        let ok: HelloOk = from_json(
            &w.hello(&hello(crate::version(), PROTOCOL, "a"))
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(ok.threads, 1);
        let busy = w.hello(&hello(crate::version(), PROTOCOL, "b")).await;
        assert_eq!(busy.unwrap_err(), "busy with a run of a");
        assert!(w.window(&[]).await.is_err(), "no run loaded");
    }
}
