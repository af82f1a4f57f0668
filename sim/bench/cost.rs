//! Calibration: the real per-operation cost on this machine, measured in the same run, kept as
//! an empirical distribution (hdrhistogram, µs of the host's monotonic clock).
//!
//! ```text
//!  Operation::run × 2 (warm-up: lazily parsed keys, first allocations) ─► discarded
//!  Operation::run × N ─► server µs (= handshake part + request part), phone µs (apart)
//!  CAPF only: PrivateKey::sign over an LSC's TBS × N ─► raw signature µs
//! ```
//! These histograms are CPU costs; queueing latencies live in other histograms (model.rs,
//! live.rs). Calibration runs on one thread with nothing else of ours running, so the host
//! clock around a call is the call's CPU time plus whatever the machine's other tenants take.

use super::capf::CapfOp;
use super::rig::{OpCost, Operation};
use cucmsim_core::pki::keys::EcdsaEncoding;
use cucmsim_core::pki::Backend;
use cucmsim_core::DigestAlg;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::time::Instant;

/// Operations used to warm up before timing.
const WARM_UP: u64 = 2;

/// A cost histogram in µs (1 µs to 60 s, 3 significant digits).
pub fn cost_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

fn record_ns(h: &mut Histogram<u64>, ns: u64) {
    h.saturating_record(((ns + 500) / 1000).max(1));
}

/// The calibrated costs of one operation kind, µs.
#[derive(Clone, Debug)]
pub struct Calibration {
    pub iterations: u32,
    /// The server's side of the whole operation: the service time of the model.
    pub server: Histogram<u64>,
    pub handshake: Histogram<u64>,
    pub request: Histogram<u64>,
    /// The phone's side, run to make real flights; never part of the server's cost.
    pub phone: Histogram<u64>,
    /// CAPF: one signature by the CA key over an LSC's TBS, and the TBS length in bytes.
    pub raw_sign: Option<(Histogram<u64>, usize)>,
}

/// Per-operation costs of one [`OpCost`] stream.
#[derive(Clone, Debug)]
pub struct CostHistograms {
    pub server: Histogram<u64>,
    pub handshake: Histogram<u64>,
    pub request: Histogram<u64>,
    pub phone: Histogram<u64>,
}

impl Default for CostHistograms {
    fn default() -> Self {
        CostHistograms {
            server: cost_histogram(),
            handshake: cost_histogram(),
            request: cost_histogram(),
            phone: cost_histogram(),
        }
    }
}

impl CostHistograms {
    pub fn record(&mut self, c: &OpCost) {
        record_ns(&mut self.server, c.server_ns);
        record_ns(&mut self.handshake, c.handshake_ns);
        record_ns(&mut self.request, c.request_ns);
        record_ns(&mut self.phone, c.phone_ns);
    }

    pub fn add(&mut self, other: &CostHistograms) {
        let _ = self.server.add(&other.server);
        let _ = self.handshake.add(&other.handshake);
        let _ = self.request.add(&other.request);
        let _ = self.phone.add(&other.phone);
    }
}

/// Runs `op` `n` times (after a warm-up) and keeps the costs.
pub fn calibrate(op: &dyn Operation, n: u32) -> Result<Calibration, String> {
    for i in 0..WARM_UP {
        op.run(u64::MAX - i)?;
    }
    let mut h = CostHistograms::default();
    for i in 0..u64::from(n) {
        h.record(&op.run(i)?);
    }
    Ok(Calibration {
        iterations: n,
        server: h.server,
        handshake: h.handshake,
        request: h.request,
        phone: h.phone,
        raw_sign: None,
    })
}

/// Times `n` raw signatures by the CAPF key over the TBS of a real LSC, exactly as
/// `Certificate::issue` signs (ring, SHA-256, DER for ECDSA).
pub fn calibrate_raw_sign(capf: &CapfOp, n: u32) -> Result<(Histogram<u64>, usize), String> {
    let ca = capf.ca();
    let lsc = capf.sample_lsc()?;
    let tbs = lsc.tbs().to_vec();
    let sign = || {
        ca.key
            .sign(Backend::Ring, DigestAlg::Sha256, &tbs, EcdsaEncoding::Der)
            .map_err(|e| e.to_string())
    };
    for _ in 0..WARM_UP {
        sign()?;
    }
    let mut h = cost_histogram();
    for _ in 0..n {
        let t = Instant::now();
        sign()?;
        record_ns(&mut h, t.elapsed().as_nanos() as u64);
    }
    Ok((h, tbs.len()))
}

/// Percentiles of a cost histogram, µs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostSummary {
    pub count: u64,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    /// 1 / mean: operations per second on one core.
    pub per_s_one_core: f64,
}

impl CostSummary {
    pub fn of(h: &Histogram<u64>) -> CostSummary {
        let q = |p: f64| h.lowest_equivalent(h.value_at_quantile(p)) as f64;
        let mean = if h.is_empty() { 0.0 } else { h.mean() };
        CostSummary {
            count: h.len(),
            mean_us: mean,
            p50_us: q(0.5),
            p90_us: q(0.9),
            p99_us: q(0.99),
            p999_us: q(0.999),
            max_us: if h.is_empty() {
                0.0
            } else {
                h.lowest_equivalent(h.max()) as f64
            },
            per_s_one_core: if mean > 0.0 { 1e6 / mean } else { 0.0 },
        }
    }
}
