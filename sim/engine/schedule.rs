//! The director's clock: scenario events at their instants, with operator steps one after
//! another. A fault (a service down, a clock skew, a power failure) happens when it is due;
//! an operator step starts at its time or, if the operator is still waiting for the previous
//! step's effects to land on the servers, as soon as they have (as an operator waits for the
//! page) — so `bulk_import` then `restart_service tvs` at the same instant restarts a TVS that
//! already has the import. Each step's landing is a `harness` `step_done` observation.
//!
//! ```text
//!  events (sorted) ─┬─ fault ─────────────► dispatch at t
//!                   └─ step ─► operator free? ─► dispatch(cause k) ─► Bus::in_flight(k) == 0 or cap
//!                                                                    └► step_done, operator free
//! ```
//! The wait is capped (`[scenario] operator_wait`, default 5 min [I]): a step whose effects
//! cannot land (a stopped service that never answers) does not hold the operator forever.

use super::director::{dispatch, CaCerts};
use super::spec::WorldSpec;
use super::Progress;
use cucmsim_actors::{Bus, Cause};
use cucmsim_core::machine::{Kind, Observation};
use cucmsim_core::pki::cluster::ClusterPki;
use std::collections::BTreeMap;
use std::time::Duration;

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
    pub bus: &'a Bus,
    pub pkis: &'a BTreeMap<String, ClusterPki>,
    pub cas: &'a CaCerts,
    pub start: tokio::time::Instant,
}

/// The step the operator is waiting on.
struct Waiting {
    cause: Cause,
    run: usize,
    deadline_ms: u64,
}

impl Stage<'_> {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Plays every event to the end of the run; returns the operator steps' timings.
    pub(super) async fn play(&self, progress: &mut dyn FnMut(Progress)) -> Vec<StepRun> {
        let spec = self.spec;
        let end = spec.duration_ms;
        let tick_ms = (end / 500).max(1);
        let (mut faults, mut steps): (Vec<usize>, Vec<usize>) =
            (0..spec.events.len()).partition(|&i| !spec.is_operator_step(i));
        faults.reverse();
        steps.reverse();
        let mut runs: Vec<StepRun> = vec![];
        let mut waiting: Option<Waiting> = None;
        loop {
            let now = self.now_ms();
            progress(Progress::Running {
                virtual_ms: now.min(end),
                total_ms: end,
            });
            if let Some(w) = &waiting {
                let landed = self.bus.in_flight(w.cause) == 0;
                if landed || now >= w.deadline_ms {
                    self.landed(&mut runs[w.run], landed, now);
                    waiting = None;
                }
            }
            if now >= end {
                break;
            }
            // Due now: a step first (as the scenario lists steps before faults), then faults.
            if waiting.is_none() {
                if let Some(&i) = steps.last().filter(|&&i| spec.events[i].0 <= now) {
                    steps.pop();
                    let cause = self.bus.open_step();
                    dispatch(
                        spec,
                        self.bus,
                        self.pkis,
                        self.cas,
                        &spec.events[i].1,
                        cause,
                    );
                    runs.push(StepRun {
                        event: i,
                        at_ms: spec.events[i].0,
                        started_ms: now,
                        landed_ms: None,
                    });
                    waiting = Some(Waiting {
                        cause,
                        run: runs.len() - 1,
                        deadline_ms: now + spec.operator_wait_ms,
                    });
                    continue;
                }
            }
            if let Some(&i) = faults.last().filter(|&&i| spec.events[i].0 <= now) {
                faults.pop();
                dispatch(
                    spec,
                    self.bus,
                    self.pkis,
                    self.cas,
                    &spec.events[i].1,
                    Cause::NONE,
                );
                continue;
            }
            let wake = self.wake_at(now, tick_ms, &faults, &steps, waiting.as_ref());
            let sleep = tokio::time::sleep_until(self.start + Duration::from_millis(wake));
            match &waiting {
                Some(_) => {
                    tokio::select! {
                        _ = sleep => {}
                        _ = self.bus.a_step_landed() => {}
                    }
                }
                None => sleep.await,
            }
        }
        runs
    }

    /// When to look again: the next progress tick, fault, step start (or the wait's cap), or
    /// the end — whichever comes first.
    fn wake_at(
        &self,
        now: u64,
        tick_ms: u64,
        faults: &[usize],
        steps: &[usize],
        waiting: Option<&Waiting>,
    ) -> u64 {
        let events = &self.spec.events;
        let mut wake = ((now / tick_ms + 1) * tick_ms).min(self.spec.duration_ms);
        if let Some(&i) = faults.last() {
            wake = wake.min(events[i].0);
        }
        match (waiting, steps.last()) {
            (Some(w), _) => wake.min(w.deadline_ms),
            (None, Some(&i)) => wake.min(events[i].0),
            (None, None) => wake,
        }
    }

    /// Records that step `run` landed (or that the wait for it gave up) at `now`.
    fn landed(&self, run: &mut StepRun, landed: bool, now: u64) {
        let took = now - run.started_ms;
        let text = if landed {
            run.landed_ms = Some(now);
            format!("step at {} ms landed after {took} ms", run.at_ms)
        } else {
            format!(
                "step at {} ms: effects still in flight after {took} ms; the operator goes on",
                run.at_ms
            )
        };
        let at = self.bus.now(&cucmsim_core::machine::Addr::Dhcp);
        self.bus
            .observe(Observation::note(at, "harness", Kind::StepDone, text));
    }
}
