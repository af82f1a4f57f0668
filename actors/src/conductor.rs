//! The conductor: the harness's side of the conservative windows. It owns the logical
//! processes' mailboxes, runs one window at a time on all of them at once, exchanges the
//! letters they sent each other at the barrier, and carries the director's own deliveries
//! (power-on, operator steps, faults) into the world — always at a barrier, never inside a
//! window.
//!
//! ```text
//!  now ─► director: events due ─► hand / deliver_after ─► inbox[lp]
//!      ─► run_window(end = min(now + lookahead, director's next wake)):
//!           every LP with a letter due before `end` ◄── Window{letters, skews} (all at once)
//!           ◄── WindowDone{out, next_due, steps} from each ─► out into inbox[target]
//!      ─► now = the earliest letter anywhere, or the director's wake (idle stretches skipped)
//! ```
//! Letters are ordered by (due, source, source sequence) in their LP's queue, so the order
//! they reach the inbox in does not matter: same seed, same trace at any thread count.

use crate::bus::{Bus, Counters, Group, Skews};
use crate::cost::CostMeter;
use crate::letter::{Letter, HARNESS};
use crate::lp::{Harvest, LpMsg, StepDelta, WindowDone};
use crate::peer::{Peer, PeerFigures, PeerWindow};
use crate::steps::{Cause, Mail, StepBook};
use cucmsim_core::machine::{Addr, Input, Msg, Now, Observation};
use ractor::concurrency::oneshot;
use ractor::ActorRef;
use std::collections::HashMap;
use std::sync::Arc;

/// Figures of the windows, for the report and the scale bench.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowStats {
    /// Windows run.
    pub windows: u64,
    /// Inputs handled, all logical processes together.
    pub events: u64,
    /// Logical-process windows run (a window activates only the LPs with work).
    pub lp_windows: u64,
    /// Letters exchanged between logical processes at barriers.
    pub exchanged: u64,
}

/// What a run leaves once every logical process has handed over.
pub struct Harvested {
    /// The trace in canonical order: by time, then participant; each participant's own order.
    pub trace: Vec<Observation>,
    pub counters: Counters,
    pub costs: CostMeter,
    pub tvs_times: Vec<u64>,
    pub stats: WindowStats,
    /// Per peer node of a distributed run (none in one process).
    pub peers: Vec<PeerFigures>,
}

/// Where a logical process runs: here, or on peer node `n`.
pub enum Home {
    Local(ActorRef<LpMsg>),
    Peer(usize),
}

/// The conductor of one run.
pub struct Conductor {
    bus: Bus,
    lps: Vec<Home>,
    peers: Vec<Box<dyn Peer>>,
    /// Per peer: windows taken part in, its own busy time, time at barriers (ns).
    peer_time: Vec<(u64, u64, u64)>,
    inbox: Vec<Vec<Letter>>,
    /// Earliest due of each LP: its own queue (as last reported) and its inbox.
    queued_next: Vec<Option<u64>>,
    inbox_next: Vec<Option<u64>>,
    now_ms: u64,
    harness_seq: u64,
    skews: Skews,
    trace: Vec<Observation>,
    steps: StepBook,
    /// Per step: when its last input so far was handled.
    last_done: HashMap<u32, u64>,
    stats: WindowStats,
}

fn min_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

impl Conductor {
    /// A conductor of these logical processes (index = position), each of which may already
    /// hold letters due from `first_due[i]`.
    pub fn new(bus: Bus, lps: Vec<ActorRef<LpMsg>>, first_due: Vec<Option<u64>>) -> Conductor {
        let lps = lps.into_iter().map(Home::Local).collect();
        Conductor::with_peers(bus, lps, vec![], first_due)
    }

    /// A conductor of logical processes some of which run on `peers` (a distributed run).
    pub fn with_peers(
        bus: Bus,
        lps: Vec<Home>,
        peers: Vec<Box<dyn Peer>>,
        first_due: Vec<Option<u64>>,
    ) -> Conductor {
        let n = lps.len();
        Conductor {
            bus,
            lps,
            peer_time: vec![(0, 0, 0); peers.len()],
            peers,
            inbox: (0..n).map(|_| vec![]).collect(),
            queued_next: first_due,
            inbox_next: vec![None; n],
            now_ms: 0,
            harness_seq: 0,
            skews: Arc::new(vec![]),
            trace: vec![],
            steps: StepBook::default(),
            last_done: HashMap::new(),
            stats: WindowStats::default(),
        }
    }

    /// The bus the logical processes read.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Virtual ms at the current barrier.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// `now` at the current barrier as seen by `addr`'s host.
    pub fn now(&self, addr: &Addr) -> Now {
        self.bus.now(addr, self.now_ms, &self.skews)
    }

    /// `now` at virtual `t_ms` as seen by `addr`'s host, with the skews in force now.
    pub fn now_at(&self, addr: &Addr, t_ms: u64) -> Now {
        self.bus.now(addr, t_ms, &self.skews)
    }

    /// Moves the barrier to `t_ms` without running anything (nothing is due before it).
    pub fn advance_to(&mut self, t_ms: u64) {
        debug_assert!(self.next_due().is_none_or(|d| d >= t_ms));
        self.now_ms = self.now_ms.max(t_ms);
    }

    /// Whether `addr` is hosted in this run.
    pub fn knows(&self, addr: &Addr) -> bool {
        self.bus.route(addr).is_some()
    }

    /// Appends a harness observation to the trace.
    pub fn observe(&mut self, obs: Observation) {
        self.trace.push(obs);
    }

    /// Skews the wall clock of every host in `group` by `secs` (added to earlier skews),
    /// from the next window on.
    pub fn skew(&mut self, group: Group, secs: i64) {
        let mut skews = (*self.skews).clone();
        skews.push((group, secs));
        self.skews = Arc::new(skews);
    }

    /// Hands `input` to `to` now, outside the link policy, as an effect of `cause` (the
    /// harness's own deliveries); inputs to phones are never counted for a step.
    pub fn hand(&mut self, to: &Addr, input: Input, cause: Cause) {
        self.post(to, self.now_ms, Mail { input, cause });
    }

    /// Hands `input` to `to` at virtual `due_ms` (not before the barrier), outside the link
    /// policy (the power-on of each phone).
    pub fn hand_at(&mut self, to: &Addr, due_ms: u64, input: Input) {
        self.post(to, due_ms.max(self.now_ms), Mail::plain(input));
    }

    /// Hands `msg` to `to` after `after_ms` of virtual time, outside the link policy (e.g.
    /// resets spread over a window).
    pub fn deliver_after(&mut self, to: &Addr, after_ms: u64, msg: Msg) {
        self.post(to, self.now_ms + after_ms, Mail::plain(Input::Msg(msg)));
    }

    fn post(&mut self, to: &Addr, due_ms: u64, mail: Mail) {
        let Some(route) = self.bus.route(to) else {
            return;
        };
        let cause = if matches!(to, Addr::Phone(_)) {
            Cause::NONE
        } else {
            mail.cause
        };
        self.steps.add(cause, 1);
        self.harness_seq += 1;
        let lp = route.lp as usize;
        self.inbox_next[lp] = min_opt(self.inbox_next[lp], Some(due_ms));
        self.inbox[lp].push(Letter {
            due_ms,
            src: HARNESS,
            seq: self.harness_seq << 1,
            slot: route.slot,
            mail: Mail { cause, ..mail },
        });
    }

    /// A new operator step's cause.
    pub fn open_step(&mut self) -> Cause {
        self.steps.open()
    }

    /// Inputs of step `cause` not yet handled.
    pub fn in_flight(&self, cause: Cause) -> u64 {
        self.steps.in_flight(cause)
    }

    /// When the last input of step `cause` handled so far was handled.
    pub fn last_done_ms(&self, cause: Cause) -> Option<u64> {
        self.last_done.get(&cause.0).copied()
    }

    /// The earliest letter anywhere.
    pub fn next_due(&self) -> Option<u64> {
        (0..self.lps.len())
            .filter_map(|i| min_opt(self.queued_next[i], self.inbox_next[i]))
            .min()
    }

    /// Runs the window [now, `end_ms`) on every logical process with work in it, all at once;
    /// afterwards the barrier is at `end_ms`. An LP that fails (its actor stopped) ends the
    /// run with an error naming it and the virtual time.
    pub async fn run_window(&mut self, end_ms: u64) -> Result<(), String> {
        let started = std::time::Instant::now();
        let mut waiting = vec![];
        let mut remote: Vec<Vec<(u32, Vec<Letter>)>> = self.peers.iter().map(|_| vec![]).collect();
        for i in 0..self.lps.len() {
            let due = min_opt(self.queued_next[i], self.inbox_next[i]);
            if due.is_none_or(|d| d >= end_ms) {
                continue;
            }
            let letters = std::mem::take(&mut self.inbox[i]);
            self.stats.exchanged += letters.len() as u64;
            self.stats.lp_windows += 1;
            self.inbox_next[i] = None;
            let lp = match &self.lps[i] {
                Home::Local(lp) => lp,
                Home::Peer(p) => {
                    remote[*p].push((i as u32, letters));
                    continue;
                }
            };
            let (tx, rx) = oneshot();
            let msg = LpMsg::Window {
                end_ms,
                letters,
                skews: Arc::clone(&self.skews),
                reply: tx.into(),
            };
            lp.cast(msg)
                .map_err(|e| self.lp_failed(i, &e.to_string()))?;
            waiting.push((i, rx));
        }
        let mut asked = vec![];
        for (p, letters) in remote.into_iter().enumerate() {
            if !letters.is_empty() {
                let w = PeerWindow {
                    end_ms,
                    skews: Arc::clone(&self.skews),
                    letters,
                };
                asked.push((p, self.peers[p].window(w)));
            }
        }
        self.stats.windows += 1;
        let mut dones = Vec::with_capacity(waiting.len());
        for (i, rx) in waiting {
            let done = rx.await.map_err(|e| self.lp_failed(i, &e.to_string()))?;
            dones.push((i, done));
        }
        let mut busy = vec![];
        for (p, rx) in asked {
            let answer = rx
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r)
                .map_err(|e: String| self.peer_failed(p, &e))?;
            busy.push((p, answer.busy_ns));
            dones.extend(answer.done.into_iter().map(|(i, d)| (i as usize, d)));
        }
        let took = started.elapsed().as_nanos() as u64;
        for (p, busy_ns) in busy {
            let t = &mut self.peer_time[p];
            t.0 += 1;
            t.1 += busy_ns;
            t.2 += took.saturating_sub(busy_ns);
        }
        // Absorbed in LP order, wherever each ran.
        dones.sort_by_key(|(i, _)| *i);
        for (i, done) in dones {
            if i >= self.lps.len() {
                return Err(format!(
                    "a peer answered for logical process {i}, which does not exist"
                ));
            }
            self.absorb(i, done);
        }
        self.now_ms = end_ms;
        Ok(())
    }

    fn peer_failed(&self, p: usize, why: &str) -> String {
        format!(
            "worker {} failed at virtual {} ms: {why}",
            self.peers[p].name(),
            self.now_ms
        )
    }

    /// Each peer's figures so far.
    pub fn peer_figures(&self) -> Vec<PeerFigures> {
        self.peers
            .iter()
            .zip(&self.peer_time)
            .map(|(p, (windows, busy, wait))| PeerFigures {
                windows: *windows,
                busy_ns: *busy,
                barrier_wait_ns: *wait,
                ..p.figures()
            })
            .collect()
    }

    fn lp_failed(&self, i: usize, why: &str) -> String {
        format!(
            "logical process {i} failed at virtual {} ms: {why}",
            self.now_ms
        )
    }

    /// Takes in what logical process `i` did in a window.
    fn absorb(&mut self, i: usize, done: WindowDone) {
        self.queued_next[i] = done.next_due;
        self.stats.events += done.events;
        for (lp, letter) in done.out {
            let lp = lp as usize;
            self.inbox_next[lp] = min_opt(self.inbox_next[lp], Some(letter.due_ms));
            self.inbox[lp].push(letter);
        }
        for (
            cause,
            StepDelta {
                added,
                done,
                last_done_ms,
            },
        ) in done.steps
        {
            self.steps.add(Cause(cause), added);
            for _ in 0..done {
                self.steps.done(Cause(cause));
            }
            if done > 0 {
                let t = self.last_done.entry(cause).or_insert(0);
                *t = (*t).max(last_done_ms);
            }
        }
    }

    /// Collects every logical process's trace, counters and costs, in LP order, and puts the
    /// trace in canonical order.
    pub async fn finish(mut self) -> Result<Harvested, String> {
        let mut counters = Counters::default();
        let mut costs = CostMeter::default();
        let mut traces = vec![std::mem::take(&mut self.trace)];
        for i in 0..self.lps.len() {
            let Home::Local(lp) = &self.lps[i] else {
                continue;
            };
            let (tx, rx) = oneshot();
            lp.cast(LpMsg::Finish(tx.into()))
                .map_err(|e| self.lp_failed(i, &e.to_string()))?;
            let h: Harvest = rx.await.map_err(|e| self.lp_failed(i, &e.to_string()))?;
            traces.push(h.trace);
            counters.add(&h.counters);
            costs.merge(h.costs);
        }
        let asked: Vec<_> = self.peers.iter().map(|p| p.finish()).collect();
        for (p, rx) in asked.into_iter().enumerate() {
            let h = rx
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r)
                .map_err(|e: String| self.peer_failed(p, &e))?;
            traces.push(h.trace);
            counters.add(&h.counters);
            costs.merge(h.costs);
        }
        // The longest trace grows in place to the final size (a large reallocation is
        // remapped, not copied), so the trace is never held twice.
        traces.sort_by_key(|t| std::cmp::Reverse(t.len()));
        let total = traces.iter().map(Vec::len).sum::<usize>();
        let mut rest = traces.into_iter();
        let mut trace = rest.next().unwrap_or_default();
        trace.reserve_exact(total - trace.len());
        for t in rest {
            trace.extend(t);
        }
        canonical_order(&mut trace);
        Ok(Harvested {
            trace,
            counters,
            costs,
            tvs_times: self.bus.take_tvs_times(),
            stats: self.stats,
            peers: self.peer_figures(),
        })
    }
}

/// Puts `trace` in canonical order — by time, then participant, each participant's own order
/// kept — without a second copy of it: a stable sort of observations needs scratch as large as
/// the trace (most of a large run's memory); this sorts 4-byte positions instead and moves
/// the observations along the permutation's cycles.
pub fn canonical_order(trace: &mut [Observation]) {
    let n = trace.len();
    assert!(
        n < u32::MAX as usize,
        "a trace of over 4 billion observations"
    );
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by(|&a, &b| {
        let (x, y) = (&trace[a as usize], &trace[b as usize]);
        (x.t_ms, &x.who, a).cmp(&(y.t_ms, &y.who, b))
    });
    // Position i receives the observation now at order[i].
    const DONE: u32 = u32::MAX;
    for start in 0..n {
        let mut cur = start;
        while order[cur] != DONE {
            let next = order[cur] as usize;
            order[cur] = DONE;
            if next == start {
                break;
            }
            trace.swap(cur, next);
            cur = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::canonical_order;
    use cucmsim_core::machine::{Kind, Now, Observation};
    use cucmsim_core::WallTime;

    #[test]
    fn canonical_order_is_the_stable_sort_by_time_then_participant() {
        let wall = WallTime::from_ymd(2025, 6, 1).unwrap();
        let mut trace = vec![];
        for i in 0..500u64 {
            let t = (i * 7919) % 13;
            let who = format!("p{}", (i * 31) % 5);
            let now = Now { mono_ms: t, wall };
            trace.push(Observation::note(now, &who, Kind::State, format!("#{i}")));
        }
        let mut stable = trace.clone();
        stable.sort_by(|a, b| (a.t_ms, &a.who).cmp(&(b.t_ms, &b.who)));
        canonical_order(&mut trace);
        assert_eq!(trace, stable);
    }
}
