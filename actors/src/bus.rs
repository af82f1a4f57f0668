//! The in-memory bus: routes messages between shells by [`Addr`], applies the link policy
//! (latency with jitter, loss, duplication, partitions — all decided from the seed), keeps each
//! host's simulated wall clock (with per-host skew) and collects the observation trace.
//!
//! Randomness per message comes from a hash of (seed, sender, receiver, sender's sequence
//! number), not from a shared generator, so it does not depend on how tasks interleave.
//!
//! Between two endpoints, every message but a datagram (TFTP, DHCP) keeps its sending order:
//! its due time is never before the previous one's on that link (TCP, and the publisher's
//! database changes, are ordered), so a later trust-store snapshot cannot overtake an earlier
//! one through jitter.
//!
//! Messages in flight and shells' timers wait in one queue ordered by (due time, posting
//! order), emptied by one postman task: each costs a heap push and pop, not a task and a tokio
//! timer of its own (a week of keepalives from 10,000 phones is 13 million messages and 6.7
//! million timers).

use crate::cost::CostMeter;
use crate::steps::{Cause, Mail, StepBook};
use cucmsim_core::machine::{Addr, Input, Msg, Now, Observation};
use cucmsim_core::WallTime;
use ractor::ActorRef;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
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

struct Inner {
    seed: u64,
    epoch: WallTime,
    start: tokio::time::Instant,
    base_latency_ms: u64,
    jitter_ms: u64,
    routes: RwLock<HashMap<Addr, ActorRef<Mail>>>,
    rules: RwLock<Vec<LinkRule>>,
    skews: RwLock<Vec<(Group, i64)>>,
    trace: Mutex<Vec<Observation>>,
    counters: Mutex<Counters>,
    costs: Mutex<CostMeter>,
    post: Arc<Postbox>,
    tvs_time: Mutex<TvsTime>,
    /// Firewall state for idle-timeout rules: (endpoint pair, session) → last message, or
    /// `None` once the firewall forgot the connection.
    flows: Mutex<HashMap<(u64, u64, u64), Option<u64>>>,
    /// Ordered links: (sender, receiver) → due time of the last ordered message on it.
    fifo: Mutex<Fifo>,
    /// Operator steps' effects in flight, and the director's doorbell when one lands.
    steps: Mutex<StepBook>,
    step_landed: tokio::sync::Notify,
}

/// The due time of the last ordered message of each link still in flight.
#[derive(Default)]
struct Fifo {
    last_due: HashMap<(u64, u64), u64>,
    /// Size after the last pruning: links whose last message has landed are forgotten when
    /// the map doubles.
    pruned_len: usize,
}

impl Fifo {
    /// The due time of a message sent at `t_ms` that the network would deliver at `due_ms`:
    /// not before the link's previous ordered message.
    fn order(&mut self, link: (u64, u64), t_ms: u64, due_ms: u64) -> u64 {
        if self.last_due.len() > 2 * self.pruned_len.max(1024) {
            self.last_due.retain(|_, last| *last > t_ms);
            self.pruned_len = self.last_due.len();
        }
        let last = self.last_due.entry(link).or_insert(0);
        *last = due_ms.max(*last);
        *last
    }
}

/// Time each TVS session spends inside the TVS (virtual time, measured at its network edge like
/// a capture on its port would): for every request flight, from its delivery to the TVS to the
/// TVS's next message on that session — queueing and service, no network latency.
#[derive(Default)]
struct TvsTime {
    /// (TVS host, phone, session) → (delivery time of the pending request, total so far).
    sessions: HashMap<(String, u32, u64), (Option<u64>, u64)>,
}

impl TvsTime {
    fn on_send(&mut self, from: &Addr, to: &Addr, msg: &Msg, sent_ms: u64, due_ms: u64) {
        let Some(session) = msg.tvs_session() else {
            return;
        };
        match (from, to) {
            (Addr::Phone(p), Addr::Tvs(h)) => {
                let e = self.sessions.entry((h.clone(), *p, session)).or_default();
                e.0 = Some(due_ms);
            }
            (Addr::Tvs(h), Addr::Phone(p)) => {
                if let Some(e) = self.sessions.get_mut(&(h.clone(), *p, session)) {
                    if let Some(since) = e.0.take() {
                        e.1 += sent_ms.saturating_sub(since);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A message (or a shell's timer) waiting for its time.
struct Letter {
    due_ms: u64,
    order: u64,
    to: ActorRef<Mail>,
    mail: Mail,
}

impl PartialEq for Letter {
    fn eq(&self, other: &Self) -> bool {
        (self.due_ms, self.order) == (other.due_ms, other.order)
    }
}
impl Eq for Letter {}
impl PartialOrd for Letter {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Letter {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due_ms, self.order).cmp(&(other.due_ms, other.order))
    }
}

/// The in-flight queue and the postman's doorbell.
#[derive(Default)]
struct Postbox {
    queue: Mutex<(BinaryHeap<Reverse<Letter>>, u64)>,
    bell: tokio::sync::Notify,
}

impl Postbox {
    fn post(&self, due_ms: u64, to: ActorRef<Mail>, mail: Mail) {
        let mut q = self.queue.lock().expect("postbox");
        q.1 += 1;
        let order = q.1;
        let earliest = q.0.peek().is_none_or(|l| due_ms < l.0.due_ms);
        q.0.push(Reverse(Letter {
            due_ms,
            order,
            to,
            mail,
        }));
        drop(q);
        if earliest {
            self.bell.notify_one();
        }
    }

    /// Delivers every letter due by `now_ms`; returns when the next one is due.
    fn deliver_due(&self, now_ms: u64) -> Option<u64> {
        let mut due = vec![];
        let next = {
            let mut q = self.queue.lock().expect("postbox");
            while q.0.peek().is_some_and(|l| l.0.due_ms <= now_ms) {
                due.extend(q.0.pop());
            }
            q.0.peek().map(|l| l.0.due_ms)
        };
        for Reverse(letter) in due {
            let _ = letter.to.cast(letter.mail);
        }
        next
    }
}

/// The postman: sleeps until the earliest letter is due (or a sooner one is posted).
async fn postman(post: Arc<Postbox>, start: tokio::time::Instant) {
    loop {
        let now_ms = start.elapsed().as_millis() as u64;
        match post.deliver_due(now_ms) {
            Some(due) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(start + Duration::from_millis(due)) => {}
                    _ = post.bell.notified() => {}
                }
            }
            None => post.bell.notified().await,
        }
    }
}

/// SplitMix64's finaliser: a fast, well-mixed 64-bit hash step.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable 64-bit key of an address (the same on every run and platform).
fn addr_key(a: &Addr) -> u64 {
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

/// The bus. Cheap to clone.
#[derive(Clone)]
pub struct Bus(Arc<Inner>);

impl Bus {
    /// A bus whose virtual time starts now (call inside the runtime), with the wall clock at
    /// `epoch` and LAN latency `base_latency_ms` + up to `jitter_ms`.
    pub fn new(seed: u64, epoch: WallTime, base_latency_ms: u64, jitter_ms: u64) -> Bus {
        let start = tokio::time::Instant::now();
        let post = Arc::new(Postbox::default());
        tokio::spawn(postman(Arc::clone(&post), start));
        Bus(Arc::new(Inner {
            seed,
            epoch,
            start,
            base_latency_ms,
            jitter_ms,
            routes: RwLock::new(HashMap::new()),
            rules: RwLock::new(vec![]),
            skews: RwLock::new(vec![]),
            trace: Mutex::new(vec![]),
            counters: Mutex::new(Counters::default()),
            costs: Mutex::new(CostMeter::default()),
            post,
            tvs_time: Mutex::new(TvsTime::default()),
            flows: Mutex::new(HashMap::new()),
            fifo: Mutex::new(Fifo::default()),
            steps: Mutex::new(StepBook::default()),
            step_landed: tokio::sync::Notify::new(),
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
    pub fn register(&self, addr: Addr, actor: ActorRef<Mail>) {
        self.0.routes.write().expect("routes").insert(addr, actor);
    }

    /// The shell registered under `addr`.
    pub fn route(&self, addr: &Addr) -> Option<ActorRef<Mail>> {
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

    /// Calls `to` back with `Input::Timer(token)` after `after_ms` of virtual time (through the
    /// postman's queue, like messages: no task per timer).
    pub fn timer(&self, to: ActorRef<Mail>, after_ms: u64, token: u64) {
        self.0.post.post(
            self.elapsed_ms() + after_ms,
            to,
            Mail::plain(Input::Timer(token)),
        );
    }

    /// Hands `msg` to `to` after `after_ms` of virtual time, outside the link policy (the
    /// harness's own deliveries, e.g. resets spread over a window).
    pub fn deliver_after(&self, to: ActorRef<Mail>, after_ms: u64, msg: Msg) {
        self.0.post.post(
            self.elapsed_ms() + after_ms,
            to,
            Mail::plain(Input::Msg(msg)),
        );
    }

    /// Records the real CPU time a shell spent handling one input.
    pub fn record_cost(&self, kind: &'static str, input: &'static str, took: Duration) {
        self.0
            .costs
            .lock()
            .expect("costs")
            .record(kind, input, took);
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

    /// Takes the cost histograms collected so far.
    pub fn take_costs(&self) -> CostMeter {
        std::mem::take(&mut *self.0.costs.lock().expect("costs"))
    }

    pub fn counters(&self) -> Counters {
        *self.0.counters.lock().expect("counters")
    }

    /// A uniform draw in [0, 1) for message `seq` of `from` to `to`; `salt` tells the uses
    /// apart (jitter, loss, delay jitter, duplication).
    fn draw(&self, from: &Addr, to: &Addr, seq: u64, salt: u8) -> f64 {
        let h = mix(self.0.seed
            ^ mix(addr_key(from)
                ^ mix(addr_key(to).rotate_left(17) ^ mix(seq ^ u64::from(salt) << 56))));
        (h >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Sends `msg` from `from` (whose `seq`-th message this is) to `to`, through the link
    /// policy. Messages to unknown addresses are dropped (no such host). Duplication applies
    /// only to datagrams (TFTP, DHCP): TCP never delivers a duplicate to the application.
    pub fn send(&self, from: &Addr, seq: u64, to: Addr, msg: Msg) {
        self.send_caused(from, seq, to, msg, Cause::NONE)
    }

    /// [`Bus::send`] for an effect of an input that operator step `cause` caused: the message
    /// inherits the cause unless it goes to a phone (the operator waits for the servers, not
    /// for the phones).
    pub fn send_caused(&self, from: &Addr, seq: u64, to: Addr, msg: Msg, cause: Cause) {
        let t = self.elapsed_ms();
        let mut delay = self.0.base_latency_ms;
        if self.0.jitter_ms > 0 {
            delay += (self.draw(from, &to, seq, 0) * self.0.jitter_ms as f64) as u64;
        }
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
                LinkEffect::IdleTimeout { ms } => {
                    if let Some(session) = msg.session() {
                        let (a, b) = (addr_key(from), addr_key(&to));
                        let key = (a.min(b), a.max(b), session);
                        let mut flows = self.0.flows.lock().expect("flows");
                        let entry = flows.entry(key).or_insert(Some(t));
                        match *entry {
                            Some(last) if t.saturating_sub(last) <= ms => *entry = Some(t),
                            _ => {
                                *entry = None;
                                copies = 0;
                            }
                        }
                    }
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
        let mut due = t + delay;
        if !msg.datagram() {
            let link = (addr_key(from), addr_key(&to));
            due = self.0.fifo.lock().expect("fifo").order(link, t, due);
        }
        self.0
            .tvs_time
            .lock()
            .expect("tvs time")
            .on_send(from, &to, &msg, t, due);
        self.post_copies(actor, &to, msg, due, copies, cause);
    }

    /// Posts `msg` to `actor` (at `to`) due at `due`, a second copy 1 ms later when
    /// duplicated; each copy counts for step `cause` unless it goes to a phone.
    fn post_copies(
        &self,
        actor: ActorRef<Mail>,
        to: &Addr,
        msg: Msg,
        due: u64,
        copies: u64,
        cause: Cause,
    ) {
        let cause = if matches!(to, Addr::Phone(_)) {
            Cause::NONE
        } else {
            cause
        };
        self.0.steps.lock().expect("steps").add(cause, copies);
        if copies == 2 {
            let mail = Mail {
                input: Input::Msg(msg.clone()),
                cause,
            };
            self.0.post.post(due + 1, actor.clone(), mail);
        }
        let mail = Mail {
            input: Input::Msg(msg),
            cause,
        };
        self.0.post.post(due, actor, mail);
    }
}

/// Operator steps: the director's side of [`crate::steps`].
impl Bus {
    /// A new operator step's cause.
    pub fn open_step(&self) -> Cause {
        self.0.steps.lock().expect("steps").open()
    }

    /// Hands `input` to `to` now, outside the link policy, as an effect of `cause` (the
    /// harness's own deliveries); inputs to phones are never counted.
    pub fn hand(&self, to: &Addr, input: Input, cause: Cause) {
        let Some(actor) = self.route(to) else {
            return;
        };
        let cause = if matches!(to, Addr::Phone(_)) {
            Cause::NONE
        } else {
            cause
        };
        self.0.steps.lock().expect("steps").add(cause, 1);
        let _ = actor.cast(Mail { input, cause });
    }

    /// A shell finished handling an input of `cause` (after sending its effects).
    pub fn handled(&self, cause: Cause) {
        if self.0.steps.lock().expect("steps").done(cause) {
            self.0.step_landed.notify_one();
        }
    }

    /// Inputs of step `cause` not yet handled.
    pub fn in_flight(&self, cause: Cause) -> u64 {
        self.0.steps.lock().expect("steps").in_flight(cause)
    }

    /// Resolves when an input of some step was the last of its step (the director then
    /// checks [`Bus::in_flight`] for the one it waits on).
    pub async fn a_step_landed(&self) {
        self.0.step_landed.notified().await
    }
}
