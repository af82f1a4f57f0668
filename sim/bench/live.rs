//! `--mode live`: the honest measurement of this machine. W worker threads take requests from
//! one FCFS queue and perform the real operation for each (TLS handshake, lookup or LSC
//! signature); the scheduler on the calling thread releases requests on the real clock.
//!
//! ```text
//!  scheduler: intended time t_k ──sleep until t_k──► queue full? ──yes──► refused
//!                                                        │no
//!                                                        ▼
//!  W workers: pop ─► Operation::run (both ends of the session) ─► done{started, finished, cost}
//!  scheduler: latency = finished − t_k  (open: the intended arrival, never the actual one)
//!             closed: next send of that client = finished + think; CO-corrected copy too
//! ```
//! There are no real phones, so a worker also runs the phone's half of each session to get
//! real flights: a worker is busy for server + phone time, while only the server's calls are
//! what a real TVS or CAPF would spend. The report shows both, so the live figures can be read
//! against the model's (which uses the server side only).

use super::cost::{cost_histogram, CostHistograms};
use super::load::SplitMix;
use super::model::{Load, RunOutcome, Server};
use super::rig::{OpCost, Operation};
use hdrhistogram::Histogram;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// A live run's outcome: the queueing figures and what the workers really spent.
#[derive(Clone, Debug)]
pub struct LiveOutcome {
    pub run: RunOutcome,
    /// Per-operation costs measured by the workers during the run (µs).
    pub costs: CostHistograms,
    /// Worker time per request, start to finish (server + phone side), µs.
    pub worker_us: Histogram<u64>,
    /// Σ worker time ÷ (workers × span).
    pub worker_busy: f64,
    /// The first few operation errors.
    pub errors: Vec<String>,
    /// Wall time of the run, s.
    pub wall_s: f64,
    /// CPU time this process got during the run (Linux `/proc/self/stat`, 100 ticks/s), s:
    /// well under workers × wall means other tenants took the cores.
    pub process_cpu_s: Option<f64>,
    /// `/proc/loadavg` (1-minute) just before the run.
    pub load_before: Option<f64>,
}

impl LiveOutcome {
    /// Nothing measured yet; the load average read now.
    fn new(load: &Load) -> LiveOutcome {
        LiveOutcome {
            run: RunOutcome::empty(matches!(load, Load::Closed(_))),
            costs: CostHistograms::default(),
            worker_us: cost_histogram(),
            worker_busy: 0.0,
            errors: vec![],
            wall_s: 0.0,
            process_cpu_s: None,
            load_before: load_average(),
        }
    }
}

/// User + system CPU time of this process so far, s (Linux; `USER_HZ` = 100).
pub fn process_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The 1-minute load average of the machine (Linux).
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[derive(Clone, Copy, Debug)]
struct Job {
    id: u64,
    intended_us: u64,
    client: u32,
}

struct Done {
    job: Job,
    started_us: u64,
    finished_us: u64,
    result: Result<OpCost, String>,
}

struct Queue {
    state: Mutex<(VecDeque<Job>, bool)>,
    ready: Condvar,
}

/// Where the next request comes from.
enum Source<'a> {
    Open(std::iter::Peekable<super::load::Arrivals>),
    Closed {
        load: &'a super::load::ClosedLoad,
        next: BinaryHeap<Reverse<(u64, u32)>>,
        scheduled: u64,
        rng: SplitMix,
    },
}

impl<'a> Source<'a> {
    /// Arrivals of an open load, or each closed client's first send.
    fn new(load: &'a Load, seed: u64) -> Source<'a> {
        match load {
            Load::Open(open) => Source::Open(open.arrivals(seed).peekable()),
            Load::Closed(closed) => {
                let mut next = BinaryHeap::new();
                let n = closed.requests.map_or(u64::from(closed.clients), |n| {
                    n.min(u64::from(closed.clients))
                });
                for i in 0..n as u32 {
                    next.push(Reverse((closed.first_send_us(i), i)));
                }
                Source::Closed {
                    load: closed,
                    next,
                    scheduled: n,
                    rng: SplitMix::new(seed, 3),
                }
            }
        }
    }

    fn peek(&mut self) -> Option<u64> {
        match self {
            Source::Open(a) => a.peek().copied(),
            Source::Closed { next, .. } => next.peek().map(|Reverse((t, _))| *t),
        }
    }

    fn pop(&mut self) -> Option<(u64, u32)> {
        match self {
            Source::Open(a) => a.next().map(|t| (t, u32::MAX)),
            Source::Closed { next, .. } => next.pop().map(|Reverse(x)| x),
        }
    }

    /// A closed client's next send, after thinking from `at_us`.
    fn again(&mut self, client: u32, at_us: u64, refused: bool) {
        if let Source::Closed {
            load,
            next,
            scheduled,
            rng,
        } = self
        {
            let t = at_us + load.think(rng, refused);
            let late = load.duration_s.is_some_and(|d| t as f64 >= d * 1e6);
            if !late && load.requests.is_none_or(|n| *scheduled < n) {
                *scheduled += 1;
                next.push(Reverse((t, client)));
            }
        }
    }
}

fn worker(op: &dyn Operation, q: &Queue, origin: Instant, first_id: u64, tx: mpsc::Sender<Done>) {
    let now_us = || origin.elapsed().as_micros() as u64;
    loop {
        let job = {
            let mut g = q.state.lock().expect("queue lock");
            loop {
                if let Some(j) = g.0.pop_front() {
                    break Some(j);
                }
                if g.1 {
                    break None;
                }
                g = q.ready.wait(g).expect("queue lock");
            }
        };
        let Some(job) = job else { return };
        let started_us = now_us();
        let result = op.run(first_id + job.id);
        let finished_us = now_us();
        let done = Done {
            job,
            started_us,
            finished_us,
            result,
        };
        if tx.send(done).is_err() {
            return;
        }
    }
}

/// Runs `load` against `workers` real worker threads performing `op`.
pub fn run_live(
    op: &dyn Operation,
    server: Server,
    load: &Load,
    seed: u64,
    first_id: u64,
) -> LiveOutcome {
    let q = Queue {
        state: Mutex::new((VecDeque::new(), false)),
        ready: Condvar::new(),
    };
    let (tx, rx) = mpsc::channel::<Done>();
    let origin = Instant::now() + Duration::from_millis(20);
    let mut source = Source::new(load, seed);
    let mut out = LiveOutcome::new(load);
    let (cpu_before, wall) = (process_cpu_s(), Instant::now());
    let mut busy_us = 0u64;
    let mut last_send_us = 0u64;
    std::thread::scope(|scope| {
        for _ in 0..server.workers {
            let tx = tx.clone();
            let q = &q;
            scope.spawn(move || worker(op, q, origin, first_id, tx));
        }
        drop(tx);
        let mut outstanding = 0u64;
        let mut next_id = 0u64;
        loop {
            let now = Instant::now().saturating_duration_since(origin).as_micros() as u64;
            let wait = match source.peek() {
                Some(t) if t <= now => {
                    let (t, client) = source.pop().expect("peeked");
                    last_send_us = t;
                    let job = Job {
                        id: next_id,
                        intended_us: t,
                        client,
                    };
                    next_id += 1;
                    out.run.sent += 1;
                    if enqueue(&q, server.queue_limit, job, &mut out.run) {
                        outstanding += 1;
                    } else {
                        out.run.refused += 1;
                        source.again(client, now, true);
                    }
                    continue;
                }
                Some(t) => Some(Duration::from_micros(t - now)),
                None if outstanding == 0 => break,
                None => None,
            };
            let Ok(done) = receive(&rx, wait) else {
                break; // every worker is gone
            };
            let Some(done) = done else { continue };
            outstanding -= 1;
            busy_us += done.finished_us.saturating_sub(done.started_us);
            record(&mut out, &done, load);
            source.again(done.job.client, done.finished_us, false);
        }
        if outstanding > 0 {
            out.run.failed += outstanding;
            out.errors
                .push(format!("{outstanding} requests lost: every worker stopped"));
        }
        q.state.lock().expect("queue lock").1 = true;
        q.ready.notify_all();
    });
    out.wall_s = wall.elapsed().as_secs_f64();
    out.process_cpu_s = process_cpu_s()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    windows(&mut out, load, server, busy_us, last_send_us);
    out
}

/// The load's window and the workers' busy fraction over it (or over the last completion).
fn windows(out: &mut LiveOutcome, load: &Load, server: Server, busy_us: u64, last_send_us: u64) {
    out.run.window_s = match load {
        Load::Open(open) => open.window_s(),
        Load::Closed(c) => c.duration_s.unwrap_or(last_send_us as f64 / 1e6),
    };
    let span_s = out.run.window_s.max(out.run.last_completion_s);
    if span_s > 0.0 {
        out.worker_busy = busy_us as f64 / 1e6 / (span_s * f64::from(server.workers.max(1)));
    }
}

/// Queues `job` unless `limit` jobs wait already; `true` when queued.
fn enqueue(q: &Queue, limit: u64, job: Job, run: &mut RunOutcome) -> bool {
    let mut g = q.state.lock().expect("queue lock");
    if (g.0.len() as u64) < limit {
        g.0.push_back(job);
        run.max_waiting = run.max_waiting.max(g.0.len() as u64);
        drop(g);
        q.ready.notify_one();
        true
    } else {
        false
    }
}

/// The next finished request, waiting at most `wait` (`Ok(None)`: none in time); `Err` when
/// every worker is gone.
fn receive(rx: &mpsc::Receiver<Done>, wait: Option<Duration>) -> Result<Option<Done>, ()> {
    match wait {
        Some(d) => match rx.recv_timeout(d) {
            Ok(done) => Ok(Some(done)),
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(()),
        },
        None => rx.recv().map(Some).map_err(|_| ()),
    }
}

fn record(out: &mut LiveOutcome, done: &Done, load: &Load) {
    out.worker_us
        .saturating_record(done.finished_us.saturating_sub(done.started_us).max(1));
    match &done.result {
        Ok(cost) => {
            out.costs.record(cost);
            out.run.completed += 1;
            out.run.last_completion_s =
                out.run.last_completion_s.max(done.finished_us as f64 / 1e6);
            let latency = done.finished_us.saturating_sub(done.job.intended_us).max(1);
            out.run.latency.saturating_record(latency);
            if let (Some(h), Load::Closed(c)) = (out.run.corrected.as_mut(), load) {
                let _ = h.record_correct(latency, c.expected_interval_us);
            }
        }
        Err(e) => {
            out.run.failed += 1;
            if out.errors.len() < 5 {
                out.errors.push(e.clone());
            }
        }
    }
}
