//! The director's clock: scenario events at their instants, with operator steps one after
//! another. A fault (a service down, a clock skew, a power failure) happens when it is due;
//! an operator step starts at its time or, if the operator is still waiting for the previous
//! step's effects to land on the servers, as soon as they have (as an operator waits for the
//! page) — so `bulk_import` then `restart_service tvs` at the same instant restarts a TVS that
//! already has the import. Each step's landing is a `harness` `step_done` observation.
//!
//! ```text
//!  events (sorted) ─┬─ fault ─────────────► dispatch at t
//!                   └─ step ─► operator free? ─► dispatch(cause k) ─► in_flight(k) == 0 or cap
//!                                                                    └► step_done, operator free
//! ```
//! The wait is capped (`[scenario] operator_wait`, default 5 min [I]): a step whose effects
//! cannot land (a stopped service that never answers) does not hold the operator forever.
//!
//! The director acts at the barriers of the conservative windows (`cucmsim_actors::Conductor`),
//! never inside one: a window ends at the director's next instant, so faults and step starts
//! happen exactly at their times; a step's landing is known at the barrier after it (its
//! `step_done` carries the exact instant its last input was handled) and the next step starts
//! there, at most one lookahead (1 ms) after the landing.

use super::director::{dispatch, CaCerts};
use super::spec::WorldSpec;
use super::Progress;
use cucmsim_actors::{Cause, Conductor};
use cucmsim_core::machine::{Addr, Kind, Observation};
use cucmsim_core::pki::cluster::ClusterPki;
use std::collections::BTreeMap;

/// When an operator step started and when its effects landed (virtual ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRun {
    /// Index in `WorldSpec::events`.
    pub event: usize,
    /// When the scenario put it.
    pub at_ms: u64,
    /// When the operator started it (later than `at_ms` while a previous step was landing).
    pub started_ms: u64,
    /// When its effects had landed; `None` when the wait gave up (or the run ended first).
    pub landed_ms: Option<u64>,
}

/// What the director needs to carry out events.
pub(super) struct Stage<'a> {
    pub spec: &'a WorldSpec,
    pub pkis: &'a BTreeMap<String, ClusterPki>,
    pub cas: &'a CaCerts,
}

/// The step the operator is waiting on.
struct Waiting {
    cause: Cause,
    run: usize,
    deadline_ms: u64,
}

/// The director's book: events not yet carried out (latest first), steps run, the wait.
struct Book {
    faults: Vec<usize>,
    steps: Vec<usize>,
    runs: Vec<StepRun>,
    waiting: Option<Waiting>,
}

impl Stage<'_> {
    /// Plays every event to the end of the run, window after window; returns the operator
    /// steps' timings. Between windows the director carries out what is due at the barrier;
    /// a window lasts one lookahead, or less when the director must act sooner; idle
    /// stretches (nothing queued anywhere) are skipped.
    pub(super) async fn play(
        &self,
        c: &mut Conductor,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<Vec<StepRun>, String> {
        let spec = self.spec;
        let end = spec.duration_ms;
        let lookahead = c.bus().lookahead_ms().max(1);
        let tick_ms = (end / 500).max(1);
        let mut next_tick = 0;
        let (mut faults, mut steps): (Vec<usize>, Vec<usize>) =
            (0..spec.events.len()).partition(|&i| !spec.is_operator_step(i));
        faults.reverse();
        steps.reverse();
        let mut book = Book {
            faults,
            steps,
            runs: vec![],
            waiting: None,
        };
        loop {
            let now = c.now_ms();
            if now >= next_tick {
                progress(Progress::Running {
                    virtual_ms: now.min(end),
                    total_ms: end,
                });
                next_tick = (now / tick_ms + 1) * tick_ms;
            }
            self.act(c, &mut book, now);
            if now >= end {
                break;
            }
            let wake = self.wake_at(&book);
            let start = c.next_due().map_or(wake, |d| d.min(wake)).max(now);
            if start > now {
                c.advance_to(start);
                continue;
            }
            c.run_window((now + lookahead).min(wake)).await?;
        }
        Ok(book.runs)
    }

    /// Carries out everything due at the barrier `now`: the wait's end (its step landed, or
    /// the cap), then a step (as the scenario lists steps before faults), then faults.
    fn act(&self, c: &mut Conductor, book: &mut Book, now: u64) {
        let spec = self.spec;
        loop {
            if let Some(w) = &book.waiting {
                let landed = c.in_flight(w.cause) == 0;
                if landed || now >= w.deadline_ms {
                    let run = &mut book.runs[w.run];
                    let at = match landed {
                        true => c.last_done_ms(w.cause).unwrap_or(0).max(run.started_ms),
                        false => now,
                    };
                    self.landed(c, run, landed, at);
                    book.waiting = None;
                }
            }
            if now >= spec.duration_ms {
                return;
            }
            if book.waiting.is_none() {
                if let Some(&i) = book.steps.last().filter(|&&i| spec.events[i].0 <= now) {
                    book.steps.pop();
                    let cause = c.open_step();
                    dispatch(spec, c, self.pkis, self.cas, &spec.events[i].1, cause);
                    book.runs.push(StepRun {
                        event: i,
                        at_ms: spec.events[i].0,
                        started_ms: now,
                        landed_ms: None,
                    });
                    book.waiting = Some(Waiting {
                        cause,
                        run: book.runs.len() - 1,
                        deadline_ms: now + spec.operator_wait_ms,
                    });
                    continue;
                }
            }
            if let Some(&i) = book.faults.last().filter(|&&i| spec.events[i].0 <= now) {
                book.faults.pop();
                let event = &spec.events[i].1;
                dispatch(spec, c, self.pkis, self.cas, event, Cause::NONE);
                continue;
            }
            return;
        }
    }

    /// When the director must act next: the next fault, step start (or the wait's cap), or
    /// the end — whichever comes first.
    fn wake_at(&self, book: &Book) -> u64 {
        let events = &self.spec.events;
        let mut wake = self.spec.duration_ms;
        if let Some(&i) = book.faults.last() {
            wake = wake.min(events[i].0);
        }
        match (&book.waiting, book.steps.last()) {
            (Some(w), _) => wake.min(w.deadline_ms),
            (None, Some(&i)) => wake.min(events[i].0),
            (None, None) => wake,
        }
    }

    /// Records that step `run` landed (or that the wait for it gave up) at `at_ms`.
    fn landed(&self, c: &mut Conductor, run: &mut StepRun, landed: bool, at_ms: u64) {
        let took = at_ms - run.started_ms;
        let text = if landed {
            run.landed_ms = Some(at_ms);
            format!("step at {} ms landed after {took} ms", run.at_ms)
        } else {
            format!(
                "step at {} ms: effects still in flight after {took} ms; the operator goes on",
                run.at_ms
            )
        };
        let at = c.now_at(&Addr::Dhcp, at_ms);
        c.observe(Observation::note(at, "harness", Kind::StepDone, text));
    }
}
