//! The in-memory bus: routes messages between shells by [`Addr`], applies the link policy
//! (latency with jitter, loss, duplication, partitions — all decided from the seed), keeps each
//! host's simulated wall clock (with per-host skew) and collects the observation trace.
//!
//! Randomness per message comes from a hash of (seed, sender, receiver, sender's sequence
//! number), not from a shared generator, so it does not depend on how tasks interleave.

use crate::cost::CostMeter;
use crate::shell::Input;
use cucmsim_core::machine::{Addr, Msg, Now, Observation};
use cucmsim_core::WallTime;
use ractor::ActorRef;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// A set of endpoints a link rule applies to: node host names and phone id ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub hosts: BTreeSet<String>,
    /// Half-open phone id ranges `[first, first + count)`.
    pub phones: Vec<(u32, u32)>,
}

impl Group {
    pub fn contains(&self, addr: &Addr) -> bool {
        match addr {
            Addr::Phone(n) => self.phones.iter().any(|(f, c)| *n >= *f && *n < f + c),
            other => self.hosts.contains(&other.host()),
        }
    }
}

/// What a link rule does while it is active.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkEffect {
    /// Drop every message (a partition).
    Partition,
    /// Drop each message with this probability.
    Loss(f64),
    /// Add this delay (and up to `jitter_ms` more).
    Delay { ms: u64, jitter_ms: u64 },
    /// Deliver each message twice with this probability.
    Duplicate(f64),
}

/// A fault on the links: active in `[from_ms, until_ms)`, between two groups (either
/// direction) or everywhere when `between` is `None`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkRule {
    pub from_ms: u64,
    pub until_ms: u64,
    pub between: Option<(Group, Group)>,
    pub effect: LinkEffect,
}

impl LinkRule {
    fn applies(&self, t_ms: u64, from: &Addr, to: &Addr) -> bool {
        t_ms >= self.from_ms
            && t_ms < self.until_ms
            && self.between.as_ref().is_none_or(|(a, b)| {
                (a.contains(from) && b.contains(to)) || (b.contains(from) && a.contains(to))
            })
    }
}

struct Inner {
    seed: u64,
    epoch: WallTime,
    start: tokio::time::Instant,
    base_latency_ms: u64,
    jitter_ms: u64,
    routes: RwLock<HashMap<Addr, ActorRef<Input>>>,
    rules: RwLock<Vec<LinkRule>>,
    skews: RwLock<Vec<(Group, i64)>>,
    trace: Mutex<Vec<Observation>>,
    counters: Mutex<Counters>,
    costs: Mutex<CostMeter>,
}

/// Message counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub sent: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub duplicated: u64,
}

/// The bus. Cheap to clone.
#[derive(Clone)]
pub struct Bus(Arc<Inner>);

impl Bus {
    /// A bus whose virtual time starts now (call inside the runtime), with the wall clock at
    /// `epoch` and LAN latency `base_latency_ms` + up to `jitter_ms`.
    pub fn new(seed: u64, epoch: WallTime, base_latency_ms: u64, jitter_ms: u64) -> Bus {
        Bus(Arc::new(Inner {
            seed,
            epoch,
            start: tokio::time::Instant::now(),
            base_latency_ms,
            jitter_ms,
            routes: RwLock::new(HashMap::new()),
            rules: RwLock::new(vec![]),
            skews: RwLock::new(vec![]),
            trace: Mutex::new(vec![]),
            counters: Mutex::new(Counters::default()),
            costs: Mutex::new(CostMeter::default()),
        }))
    }

    /// Virtual milliseconds since the start.
    pub fn elapsed_ms(&self) -> u64 {
        self.0.start.elapsed().as_millis() as u64
    }

    /// `now` as seen by `addr`'s host (its wall clock may be skewed).
    pub fn now(&self, addr: &Addr) -> Now {
        let mono_ms = self.elapsed_ms();
        let skew: i64 = self
            .0
            .skews
            .read()
            .expect("skews")
            .iter()
            .filter(|(g, _)| g.contains(addr))
            .map(|(_, s)| *s)
            .sum();
        Now {
            mono_ms,
            wall: self.0.epoch.plus_s((mono_ms / 1000) as i64 + skew),
        }
    }

    /// Registers a shell under `addr`.
    pub fn register(&self, addr: Addr, actor: ActorRef<Input>) {
        self.0.routes.write().expect("routes").insert(addr, actor);
    }

    /// The shell registered under `addr`.
    pub fn route(&self, addr: &Addr) -> Option<ActorRef<Input>> {
        self.0.routes.read().expect("routes").get(addr).cloned()
    }

    /// Adds a link fault.
    pub fn add_rule(&self, rule: LinkRule) {
        self.0.rules.write().expect("rules").push(rule);
    }

    /// Skews the wall clock of every host in `group` by `secs` (added to earlier skews).
    pub fn skew(&self, group: Group, secs: i64) {
        self.0.skews.write().expect("skews").push((group, secs));
    }

    /// Appends an observation to the trace.
    pub fn observe(&self, obs: Observation) {
        self.0.trace.lock().expect("trace").push(obs);
    }

    /// Takes the trace collected so far.
    pub fn take_trace(&self) -> Vec<Observation> {
        std::mem::take(&mut *self.0.trace.lock().expect("trace"))
    }

    /// Records the real CPU time a shell spent handling one input.
    pub fn record_cost(&self, kind: &'static str, input: &'static str, took: Duration) {
        self.0
            .costs
            .lock()
            .expect("costs")
            .record(kind, input, took);
    }

    /// Takes the cost histograms collected so far.
    pub fn take_costs(&self) -> CostMeter {
        std::mem::take(&mut *self.0.costs.lock().expect("costs"))
    }

    pub fn counters(&self) -> Counters {
        *self.0.counters.lock().expect("counters")
    }

    fn draw(&self, from: &Addr, to: &Addr, seq: u64, salt: u8) -> f64 {
        let mut h = Sha256::new();
        h.update(self.0.seed.to_be_bytes());
        h.update(format!("{from}>{to}#{seq}/{salt}").as_bytes());
        let d = h.finalize();
        u64::from_be_bytes(d[..8].try_into().expect("8 bytes")) as f64 / u64::MAX as f64
    }

    /// Sends `msg` from `from` (whose `seq`-th message this is) to `to`, through the link
    /// policy. Messages to unknown addresses are dropped (no such host). Duplication applies
    /// only to datagrams (TFTP, DHCP): TCP never delivers a duplicate to the application.
    pub fn send(&self, from: &Addr, seq: u64, to: Addr, msg: Msg) {
        let t = self.elapsed_ms();
        let mut delay = self.0.base_latency_ms
            + (self.draw(from, &to, seq, 0) * self.0.jitter_ms as f64) as u64;
        let mut copies = 1;
        for rule in self
            .0
            .rules
            .read()
            .expect("rules")
            .iter()
            .filter(|r| r.applies(t, from, &to))
        {
            match rule.effect {
                LinkEffect::Partition => copies = 0,
                LinkEffect::Loss(p) if self.draw(from, &to, seq, 1) < p => copies = 0,
                LinkEffect::Delay { ms, jitter_ms } => {
                    delay += ms + (self.draw(from, &to, seq, 2) * jitter_ms as f64) as u64
                }
                LinkEffect::Duplicate(p)
                    if copies == 1 && !msg.on_stream() && self.draw(from, &to, seq, 3) < p =>
                {
                    copies = 2
                }
                _ => {}
            }
        }
        let route = self.route(&to);
        let mut c = self.0.counters.lock().expect("counters");
        c.sent += 1;
        let Some(actor) = route.filter(|_| copies > 0) else {
            tracing::trace!(%from, %to, t_ms = t, "message dropped");
            c.dropped += 1;
            return;
        };
        c.delivered += 1;
        c.duplicated += u64::from(copies == 2);
        drop(c);
        for copy in 0..copies {
            let actor = actor.clone();
            let msg = msg.clone();
            let wait = Duration::from_millis(delay + copy);
            tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                let _ = actor.cast(Input::Msg(msg));
            });
        }
    }
}
