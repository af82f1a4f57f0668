//! The farm's load generator: an open model (arrivals on a fixed schedule, latency from the
//! intended start) or a closed one (C clients, each operation then think), every operation a
//! task bounded by the plan's timeout.
//!
//! ```text
//!  warm: the phones' MICs made before the clock starts (not measured)
//!  open:   k = 0, 1, …: sleep until t0 + k/R ─► in flight < max? spawn op(k, intended) : "farm overloaded"
//!  closed: client c: op(k = next++, intended = now) ─► think ─► again, until count or duration
//!  op ─► Fleet::phone(first + k mod phones) ─► boot │ tvs-query │ enroll ─► record(name, end − intended, result)
//!  meanwhile: the process's open file descriptors sampled (Linux), the peak reported
//! ```

use super::tvsq::Ask;
use super::{boot, enroll, tvsq, Ctx, Workload};
use crate::wire::hist::{self, Recorder};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Open or closed.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub enum Load {
    Open { rate: f64 },
    Closed { clients: u32, think: Duration },
}

/// What to run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    pub workload: Workload,
    pub load: Load,
    /// Operations in all (`None`: until the duration).
    pub count: Option<u64>,
    pub duration: Option<Duration>,
    pub timeout: Duration,
    pub max_inflight: usize,
}

impl Plan {
    fn more(&self, k: u64, t0: Instant, at: Instant) -> bool {
        self.count.is_none_or(|c| k < c) && self.duration.is_none_or(|d| at < t0 + d)
    }
}

/// One operation of phone `k mod N`, recorded from its intended start.
async fn one(ctx: Arc<Ctx>, workload: Workload, k: u64, intended: Instant, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let i = ctx.first + (k % u64::from(ctx.phones.max(1))) as u32;
    let result = match ctx.fleet.phone(i) {
        Err(e) => Err(format!("phone: {e}")),
        Ok(phone) => match workload {
            Workload::Boot => boot::boot(phone, ctx.clone(), deadline).await,
            Workload::TvsQuery => tvsq::query(phone, ctx.clone(), deadline, k, Ask::Query).await,
            Workload::TvsVerify => tvsq::query(phone, ctx.clone(), deadline, k, Ask::Verify).await,
            Workload::Enroll => enroll::enroll(phone, ctx.clone(), deadline).await,
        },
    };
    let us = intended.elapsed().as_micros() as u64;
    let r = hist::res(&result);
    if let Err(e) = r {
        tracing::debug!(op = k, "{}: {e}", workload.name());
    }
    hist::record(&ctx.rec, workload.name(), us, r);
}

/// Makes the phones' MICs before the clock starts.
fn warm(ctx: &Ctx, plan: &Plan) {
    let n = plan.count.unwrap_or(u64::MAX).min(u64::from(ctx.phones));
    for i in 0..n {
        let i = ctx.first + i as u32;
        if let (Ok(phone), Workload::Enroll) = (ctx.fleet.phone(i), plan.workload) {
            enroll::warm(&phone, ctx);
        }
    }
}

/// What a run gave.
pub struct Outcome {
    pub rec: Recorder,
    /// From the first intended start to the last end.
    pub wall_s: f64,
    /// The most file descriptors the process had open at once (sampled; Linux only).
    pub peak_fds: Option<u64>,
}

/// Makes what the phones need before the clock starts (not measured).
pub async fn prepare(ctx: Arc<Ctx>, plan: Plan) {
    let _ = tokio::task::spawn_blocking(move || warm(&ctx, &plan)).await;
}

/// Open file descriptors of this process now (Linux), `None` elsewhere.
fn open_fds() -> Option<u64> {
    std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count() as u64)
}

/// Runs the plan now (the phones prepared); closes the transport at the end.
pub async fn execute(ctx: Arc<Ctx>, plan: Plan) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut peak = open_fds();
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(20)).await;
                peak = peak.max(open_fds());
            }
            peak
        })
    };
    let t0 = Instant::now() + Duration::from_millis(10);
    match plan.load {
        Load::Open { rate } => open(&ctx, &plan, rate, t0).await,
        Load::Closed { clients, think } => closed(&ctx, &plan, clients, think, t0).await,
    }
    let wall_s = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let peak_fds = sampler.await.ok().flatten();
    ctx.transport.close().await;
    Outcome {
        rec: hist::snapshot(&ctx.rec),
        wall_s,
        peak_fds,
    }
}

/// Prepares, then runs the plan.
pub async fn drive(ctx: Arc<Ctx>, plan: Plan) -> Outcome {
    prepare(ctx.clone(), plan.clone()).await;
    execute(ctx, plan).await
}

async fn open(ctx: &Arc<Ctx>, plan: &Plan, rate: f64, t0: Instant) {
    let slots = Arc::new(Semaphore::new(plan.max_inflight));
    let mut k = 0u64;
    loop {
        let intended = t0 + Duration::from_secs_f64(k as f64 / rate);
        if !plan.more(k, t0, intended) {
            break;
        }
        tokio::time::sleep_until(intended).await;
        match slots.clone().try_acquire_owned() {
            Ok(permit) => {
                let (c, w, t) = (ctx.clone(), plan.workload, plan.timeout);
                tokio::spawn(async move {
                    one(c, w, k, intended, t).await;
                    drop(permit);
                });
            }
            Err(_) => hist::record(&ctx.rec, plan.workload.name(), 1, Err("farm overloaded")),
        }
        k += 1;
    }
    let _ = slots.acquire_many(plan.max_inflight as u32).await;
}

async fn closed(ctx: &Arc<Ctx>, plan: &Plan, clients: u32, think: Duration, t0: Instant) {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = vec![];
    for _ in 0..clients {
        let (ctx, plan, next) = (ctx.clone(), plan.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(t0).await;
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let now = Instant::now();
                if !plan.more(k, t0, now) {
                    return;
                }
                one(ctx.clone(), plan.workload, k, now, plan.timeout).await;
                if !think.is_zero() {
                    tokio::time::sleep(think).await;
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}
