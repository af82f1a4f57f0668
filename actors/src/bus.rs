//! The bus: what every logical process reads while a window runs — the link policy (latency
//! with jitter, loss, duplication, partitions, firewalls — all decided from the seed), the
//! routes (which logical process hosts an address), the hosts' wall clocks — and the two
//! small tables both ends of a TVS connection write.
//!
//! It is frozen once the world is built: routes and link rules never change during a run, so
//! the logical processes read them without a lock. Clock skews change at window barriers
//! only, and travel with each window ([`Skews`]).
//!
//! Randomness per message comes from a hash of (seed, sender, receiver, sender's sequence
//! number), not from a shared generator, so it does not depend on which thread runs what.
//!
//! ```text
//!  LP sends (from, seq, to, msg) at t ──plan──► copies (0: dropped), delay ≥ base latency
//!                                   ──route──► (LP, slot) of `to`
//!  the sender's LP orders the link (Fifo) ──► Letter due at t + delay
//! ```

use cucmsim_core::machine::{Addr, Input, Msg, Now};
use cucmsim_core::WallTime;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

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
    /// A stateful firewall that forgets a TCP connection idle for longer than this: the
    /// first message after such a silence, and every later one of that connection, is
    /// dropped. Connections are the sessions of TVS and CAPF (by session id).
    IdleTimeout { ms: u64 },
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

/// Clock skews in force (group, seconds), as of the window's start.
pub type Skews = Arc<Vec<(Group, i64)>>;

/// Where an address lives: its logical process and its slot there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub lp: u32,
    pub slot: u32,
}

/// Every address's route, by the address's key ([`addr_key`], computed once per message).
#[derive(Clone, Debug, Default)]
pub struct Routes {
    by_key: HashMap<u64, Route>,
}

impl Routes {
    /// Routes `addr`; `Err` when another address has the same key (never seen: the keys are
    /// 64-bit hashes, but a collision would misroute silently, so it is refused).
    pub fn insert(&mut self, addr: &Addr, route: Route) -> Result<(), String> {
        match self.by_key.insert(addr_key(addr), route) {
            Some(_) => Err(format!("two addresses share the routing key of {addr}")),
            None => Ok(()),
        }
    }

    pub fn get(&self, addr: &Addr) -> Option<Route> {
        self.by_key(addr_key(addr))
    }

    /// The route of the address whose key is `key`.
    pub fn by_key(&self, key: u64) -> Option<Route> {
        self.by_key.get(&key).copied()
    }
}

/// Time each TVS session spends inside the TVS (virtual time, measured at its network edge like
/// a capture on its port would): for every request flight, from its delivery to the TVS to the
/// TVS's next message on that session — queueing and service, no network latency.
///
/// Only the TVS's own logical process writes it (a request when the TVS is handed it, the
/// answer when the TVS sends it), so a phone on another thread or another node never has to
/// see it, and the order of writes is the TVS's own.
#[derive(Default)]
struct TvsTime {
    /// (TVS host, phone, session) → (delivery time of the pending request, total so far).
    sessions: HashMap<(String, u32, u64), (Option<u64>, u64)>,
}

impl TvsTime {
    fn on_request(&mut self, tvs: &str, phone: u32, session: u64, at_ms: u64) {
        let e = self
            .sessions
            .entry((tvs.to_string(), phone, session))
            .or_default();
        e.0 = Some(at_ms);
    }

    fn on_send(&mut self, from: &Addr, to: &Addr, session: u64, sent_ms: u64) {
        if let (Addr::Tvs(h), Addr::Phone(p)) = (from, to) {
            if let Some(e) = self.sessions.get_mut(&(h.clone(), *p, session)) {
                if let Some(since) = e.0.take() {
                    e.1 += sent_ms.saturating_sub(since);
                }
            }
        }
    }
}

/// SplitMix64's finaliser: a fast, well-mixed 64-bit hash step.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable 64-bit key of an address (the same on every run and platform): the source
/// entity in a letter's delivery order, and a link's name.
pub fn addr_key(a: &Addr) -> u64 {
    let text = |tag: u64, s: &str| s.bytes().fold(mix(tag), |h, b| mix(h ^ u64::from(b)));
    match a {
        Addr::Phone(n) => mix(1 << 40 | u64::from(*n)),
        Addr::Tftp(h) => text(2, h),
        Addr::Tvs(h) => text(3, h),
        Addr::CallManager(h) => text(4, h),
        Addr::Publisher(h) => text(5, h),
        Addr::Dhcp => mix(6),
        Addr::Sftp => mix(7),
        Addr::Capf(h) => text(8, h),
        Addr::Ca(h) => text(9, h),
    }
}

/// Message counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub sent: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub duplicated: u64,
}

impl Counters {
    pub fn add(&mut self, o: &Counters) {
        self.sent += o.sent;
        self.delivered += o.delivered;
        self.dropped += o.dropped;
        self.duplicated += o.duplicated;
    }
}

/// What the link policy decided for one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// 0 (dropped), 1, or 2 (duplicated).
    pub copies: u8,
    /// Latency, at least the base latency.
    pub delay_ms: u64,
}

struct Inner {
    seed: u64,
    epoch: WallTime,
    base_latency_ms: u64,
    jitter_ms: u64,
    routes: Routes,
    rules: Vec<LinkRule>,
    tvs_time: Mutex<TvsTime>,
    /// Firewall state for idle-timeout rules: (endpoint pair, session) → last message, or
    /// `None` once the firewall forgot the connection. Both ends of a connection write it;
    /// see [`TvsTime`] for why their order is that of virtual time.
    flows: Mutex<HashMap<(u64, u64, u64), Option<u64>>>,
}

/// The frozen bus. Cheap to clone.
#[derive(Clone)]
pub struct Bus(Arc<Inner>);

impl Bus {
    /// A bus with the wall clock at `epoch` at virtual time 0, LAN latency `base_latency_ms`
    /// + up to `jitter_ms`, these routes and link rules.
    pub fn new(
        seed: u64,
        epoch: WallTime,
        (base_latency_ms, jitter_ms): (u64, u64),
        routes: Routes,
        rules: Vec<LinkRule>,
    ) -> Bus {
        Bus(Arc::new(Inner {
            seed,
            epoch,
            base_latency_ms,
            jitter_ms,
            routes,
            rules,
            tvs_time: Mutex::new(TvsTime::default()),
            flows: Mutex::new(HashMap::new()),
        }))
    }

    /// The lookahead of the conservative windows: no message arrives sooner than this after
    /// it was sent.
    pub fn lookahead_ms(&self) -> u64 {
        self.0.base_latency_ms
    }

    /// `now` at virtual `t_ms` as seen by `addr`'s host (its wall clock may be skewed).
    pub fn now(&self, addr: &Addr, t_ms: u64, skews: &[(Group, i64)]) -> Now {
        let skew: i64 = skews
            .iter()
            .filter(|(g, _)| g.contains(addr))
            .map(|(_, s)| *s)
            .sum();
        Now {
            mono_ms: t_ms,
            wall: self.0.epoch.plus_s((t_ms / 1000) as i64 + skew),
        }
    }

    /// The logical process and slot hosting `addr`.
    pub fn route(&self, addr: &Addr) -> Option<Route> {
        self.0.routes.get(addr)
    }

    /// The route of the address whose key ([`addr_key`]) is `key`.
    pub fn route_key(&self, key: u64) -> Option<Route> {
        self.0.routes.by_key(key)
    }

    /// A uniform draw in [0, 1) for message `seq` of `from` to `to`; `salt` tells the uses
    /// apart (jitter, loss, delay jitter, duplication).
    fn draw(&self, from: u64, to: u64, seq: u64, salt: u8) -> f64 {
        let h =
            mix(self.0.seed
                ^ mix(from ^ mix(to.rotate_left(17) ^ mix(seq ^ u64::from(salt) << 56))));
        (h >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The link policy for message `seq` of `from` (key `fk`) to `to` (key `tk`), sent at
    /// `t`. Duplication applies only to datagrams (TFTP, DHCP): TCP never delivers a duplicate
    /// to the application.
    pub fn plan(
        &self,
        (from, fk): (&Addr, u64),
        seq: u64,
        (to, tk): (&Addr, u64),
        msg: &Msg,
        t: u64,
    ) -> Plan {
        let mut delay = self.0.base_latency_ms;
        if self.0.jitter_ms > 0 {
            delay += (self.draw(fk, tk, seq, 0) * self.0.jitter_ms as f64) as u64;
        }
        let mut copies = 1;
        for rule in self.0.rules.iter().filter(|r| r.applies(t, from, to)) {
            match rule.effect {
                LinkEffect::Partition => copies = 0,
                LinkEffect::Loss(p) if self.draw(fk, tk, seq, 1) < p => copies = 0,
                LinkEffect::Delay { ms, jitter_ms } => {
                    delay += ms + (self.draw(fk, tk, seq, 2) * jitter_ms as f64) as u64
                }
                LinkEffect::Duplicate(p)
                    if copies == 1 && !msg.on_stream() && self.draw(fk, tk, seq, 3) < p =>
                {
                    copies = 2
                }
                LinkEffect::IdleTimeout { ms } => {
                    if let Some(session) = msg.session() {
                        if self.firewall_forgot((fk.min(tk), fk.max(tk), session), t, ms) {
                            copies = 0;
                        }
                    }
                }
                _ => {}
            }
        }
        Plan {
            copies,
            delay_ms: delay,
        }
    }

    /// Whether the firewall dropped connection `key` (idle for longer than `ms` at `t`).
    fn firewall_forgot(&self, key: (u64, u64, u64), t: u64, ms: u64) -> bool {
        let mut flows = self.0.flows.lock().expect("flows");
        let entry = flows.entry(key).or_insert(Some(t));
        match *entry {
            Some(last) if t.saturating_sub(last) <= ms => {
                *entry = Some(t);
                false
            }
            _ => {
                *entry = None;
                true
            }
        }
    }

    /// Notes a TVS-session message sent at `sent_ms` (the TVS's answers end a request's time).
    pub fn note_tvs(&self, from: &Addr, to: &Addr, msg: &Msg, sent_ms: u64) {
        if let (Addr::Tvs(_), Some(session)) = (from, msg.tvs_session()) {
            self.0
                .tvs_time
                .lock()
                .expect("tvs time")
                .on_send(from, to, session, sent_ms);
        }
    }

    /// Notes input `input` handed to `to` at `t_ms`: a phone's request flight to a TVS starts
    /// that TVS's time on the session.
    pub fn note_tvs_arrival(&self, to: &Addr, input: &Input, t_ms: u64) {
        let Addr::Tvs(host) = to else {
            return;
        };
        if let Input::Msg(
            Msg::TvsTls { phone, session, .. } | Msg::TvsPlain { phone, session, .. },
        ) = input
        {
            self.0
                .tvs_time
                .lock()
                .expect("tvs time")
                .on_request(host, *phone, *session, t_ms);
        }
    }

    /// Takes the time each TVS session spent inside its TVS (ms of virtual time), for sessions
    /// the TVS answered at least once, in a stable order.
    pub fn take_tvs_times(&self) -> Vec<u64> {
        let sessions = std::mem::take(&mut self.0.tvs_time.lock().expect("tvs time").sessions);
        let mut out: Vec<((String, u32, u64), u64)> = sessions
            .into_iter()
            .filter(|(_, (pending, total))| pending.is_none() || *total > 0)
            .map(|(k, (_, total))| (k, total))
            .collect();
        out.sort();
        out.into_iter().map(|(_, t)| t).collect()
    }
}
