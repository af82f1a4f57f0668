//! `--mode model`: a discrete-event simulation of a multi-server FCFS queue in virtual µs.
//!
//! ```text
//!  arrivals (open: schedule; closed: client sends) ──► W workers free? ──yes──► service ~ ServiceTime
//!                                                        │no
//!                                                        ▼
//!                                       waiting < queue limit? ──no──► refused (an error)
//!                                                        │yes
//!                                                        ▼
//!                                               FIFO queue ──► next free worker
//!  completion ──► latency = completion − intended arrival (open)  |  − send (closed, plus
//!                 the CO-corrected copy via record_correct)
//! ```
//! Events are ordered by (time, completions before arrivals, sequence number), every random draw
//! comes from [`SplitMix`] streams of the seed, and service times are drawn in the order
//! services start: same seed, same service distribution, same result, on any machine.
//!
//! The run goes on after the last arrival until every admitted request has completed, so the
//! requests still queued at the end are in the tail instead of silently dropped.

use super::load::{ClosedLoad, OpenLoad, ServiceTime, SplitMix};
use hdrhistogram::Histogram;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// The server: `workers` serve in parallel; at most `queue_limit` requests wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Server {
    pub workers: u32,
    pub queue_limit: u64,
}

/// One load model.
#[derive(Clone, Debug, PartialEq)]
pub enum Load {
    Open(OpenLoad),
    Closed(ClosedLoad),
}

/// A latency histogram in µs (1 µs to 1 hour, 3 significant digits; longer values saturate).
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
}

/// What one run of a load against the server gave.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// Requests offered to the server (admitted + refused).
    pub sent: u64,
    pub completed: u64,
    /// Refused because the queue was full.
    pub refused: u64,
    /// The operation itself failed (live mode only).
    pub failed: u64,
    /// The arrival window, s (open: duration or expected time of the last arrival; closed:
    /// duration or the last send).
    pub window_s: f64,
    /// Start of the run to the last completion, s.
    pub last_completion_s: f64,
    /// Most requests waiting at once.
    pub max_waiting: u64,
    /// Latency from the intended arrival (open) or the send (closed), µs.
    pub latency: Histogram<u64>,
    /// Closed model only: the same latencies with hdrhistogram's coordinated-omission correction.
    pub corrected: Option<Histogram<u64>>,
}

impl RunOutcome {
    /// Nothing sent yet; `closed` adds the coordinated-omission-corrected histogram.
    pub fn empty(closed: bool) -> RunOutcome {
        RunOutcome {
            sent: 0,
            completed: 0,
            refused: 0,
            failed: 0,
            window_s: 0.0,
            last_completion_s: 0.0,
            max_waiting: 0,
            latency: latency_histogram(),
            corrected: closed.then(latency_histogram),
        }
    }

    /// Completions per second over max(window, last completion).
    pub fn achieved_per_s(&self) -> f64 {
        let span = self.window_s.max(self.last_completion_s);
        if span > 0.0 {
            self.completed as f64 / span
        } else {
            0.0
        }
    }

    /// Requests offered per second of the window.
    pub fn offered_per_s(&self) -> f64 {
        if self.window_s > 0.0 {
            self.sent as f64 / self.window_s
        } else {
            0.0
        }
    }
}

const NO_CLIENT: u32 = u32::MAX;
const DONE: u8 = 0;
const ARRIVE: u8 = 1;

/// (time µs, kind, sequence, intended µs, client).
type Event = Reverse<(u64, u8, u64, u64, u32)>;

struct Des<'a> {
    server: Server,
    service: &'a ServiceTime,
    service_rng: SplitMix,
    events: BinaryHeap<Event>,
    seq: u64,
    busy: u32,
    waiting: VecDeque<(u64, u32)>,
    out: RunOutcome,
}

impl Des<'_> {
    fn push(&mut self, t: u64, kind: u8, intended: u64, client: u32) {
        self.seq += 1;
        self.events
            .push(Reverse((t, kind, self.seq, intended, client)));
    }

    fn start(&mut self, now: u64, intended: u64, client: u32) {
        self.busy += 1;
        let s = self.service.sample(&mut self.service_rng).max(1);
        self.push(now + s, DONE, intended, client);
    }

    /// An arrival: served, queued or refused; `false` when refused.
    fn arrive(&mut self, now: u64, intended: u64, client: u32) -> bool {
        self.out.sent += 1;
        if self.busy < self.server.workers {
            self.start(now, intended, client);
        } else if (self.waiting.len() as u64) < self.server.queue_limit {
            self.waiting.push_back((intended, client));
            self.out.max_waiting = self.out.max_waiting.max(self.waiting.len() as u64);
        } else {
            self.out.refused += 1;
            return false;
        }
        true
    }

    /// A completion: records the latency and starts the next waiting request.
    fn complete(&mut self, now: u64, intended: u64) -> u64 {
        self.busy -= 1;
        self.out.completed += 1;
        self.out.last_completion_s = now as f64 / 1e6;
        let latency = now - intended;
        self.out.latency.saturating_record(latency.max(1));
        if let Some((i, c)) = self.waiting.pop_front() {
            self.start(now, i, c);
        }
        latency
    }
}

fn des<'a>(server: Server, service: &'a ServiceTime, seed: u64) -> Des<'a> {
    Des {
        server,
        service,
        service_rng: SplitMix::new(seed, 2),
        events: BinaryHeap::new(),
        seq: 0,
        busy: 0,
        waiting: VecDeque::new(),
        out: RunOutcome::empty(false),
    }
}

/// Simulates `load` against `server` with service times from `service`.
pub fn simulate(server: Server, load: &Load, service: &ServiceTime, seed: u64) -> RunOutcome {
    match load {
        Load::Open(open) => simulate_open(server, open, service, seed),
        Load::Closed(closed) => simulate_closed(server, closed, service, seed),
    }
}

fn simulate_open(server: Server, load: &OpenLoad, service: &ServiceTime, seed: u64) -> RunOutcome {
    let mut d = des(server, service, seed);
    let mut arrivals = load.arrivals(seed);
    if let Some(t) = arrivals.next() {
        d.push(t, ARRIVE, t, NO_CLIENT);
    }
    while let Some(Reverse((now, kind, _, intended, _))) = d.events.pop() {
        if kind == DONE {
            d.complete(now, intended);
            continue;
        }
        d.arrive(now, intended, NO_CLIENT);
        if let Some(t) = arrivals.next() {
            d.push(t, ARRIVE, t, NO_CLIENT);
        }
    }
    d.out.window_s = load.window_s();
    d.out
}

fn simulate_closed(
    server: Server,
    load: &ClosedLoad,
    service: &ServiceTime,
    seed: u64,
) -> RunOutcome {
    let mut d = des(server, service, seed);
    let mut think_rng = SplitMix::new(seed, 3);
    let mut corrected = latency_histogram();
    let end_us = load.duration_s.map(|s| (s * 1e6).round() as u64);
    let mut scheduled = 0u64;
    let mut last_send = 0u64;
    let mut schedule = |d: &mut Des, t: u64, client: u32| {
        if end_us.is_some_and(|end| t >= end) || load.requests.is_some_and(|n| scheduled >= n) {
            return;
        }
        scheduled += 1;
        d.push(t, ARRIVE, t, client);
    };
    for i in 0..load.clients {
        schedule(&mut d, load.first_send_us(i), i);
    }
    while let Some(Reverse((now, kind, _, intended, client))) = d.events.pop() {
        if kind == DONE {
            let latency = d.complete(now, intended);
            let _ = corrected.record_correct(latency.max(1), load.expected_interval_us);
            let think = load.think(&mut think_rng, false);
            schedule(&mut d, now + think, client);
            continue;
        }
        last_send = now;
        if !d.arrive(now, intended, client) {
            let think = load.think(&mut think_rng, true);
            schedule(&mut d, now + think, client);
        }
    }
    d.out.window_s = load.duration_s.unwrap_or(last_send as f64 / 1e6);
    d.out.corrected = Some(corrected);
    d.out
}
