//! Latency bookkeeping of wire mode: one HdrHistogram per operation (µs, 1 µs to 1 h, 3
//! significant digits), ok/failed counts, and failures by reason. `serve` and `farm` share it;
//! two recorders merge with HdrHistogram `add` (never averaged percentiles).
//!
//! ```text
//!  record("tvs.session", Ok(µs)) ─► histogram + ok      record("boot", Err("timeout")) ─► failed + errors["timeout"]
//!  to_wire() ─► V2-serialized histograms (hex) for `farm --join` ─► from_wire() ─► merge()
//!  to_json() ─► {"operations": {name: {count, ok, failed, p50_ms, p90_ms, p99_ms, p999_ms, max_ms}},
//!                "errors": {reason: count}}
//! ```

use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One operation as it travels between farms.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OpWire {
    pub name: String,
    pub ok: u64,
    pub failed: u64,
    /// The latency histogram, HdrHistogram V2 serialization, hex.
    pub histogram_v2: String,
}

/// A recorder as it travels between farms (`farm --join` to `--coordinate`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RecorderWire {
    pub ops: Vec<OpWire>,
    pub errors: BTreeMap<String, u64>,
}

/// One operation's figures.
#[derive(Clone, Debug)]
pub struct OpStats {
    pub latency_us: Histogram<u64>,
    pub ok: u64,
    pub failed: u64,
}

impl OpStats {
    fn new() -> OpStats {
        OpStats {
            latency_us: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            ok: 0,
            failed: 0,
        }
    }
}

/// Every operation's figures and the failures by reason.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    pub ops: BTreeMap<String, OpStats>,
    pub errors: BTreeMap<String, u64>,
}

impl Recorder {
    /// One operation that took `us` (ok), or failed for `reason` (its time still recorded
    /// when known, so a timeout shows in the tail).
    pub fn record(&mut self, op: &str, us: u64, result: Result<(), &str>) {
        let s = self.ops.entry(op.to_string()).or_insert_with(OpStats::new);
        s.latency_us.saturating_record(us.max(1));
        match result {
            Ok(()) => s.ok += 1,
            Err(reason) => {
                s.failed += 1;
                *self.errors.entry(format!("{op}: {reason}")).or_default() += 1;
            }
        }
    }

    /// Adds another recorder's counts (histograms added, not averaged).
    pub fn merge(&mut self, other: &Recorder) -> Result<(), String> {
        for (name, s) in &other.ops {
            let mine = self.ops.entry(name.clone()).or_insert_with(OpStats::new);
            mine.latency_us
                .add(&s.latency_us)
                .map_err(|e| format!("{name}: histograms do not add: {e:?}"))?;
            mine.ok += s.ok;
            mine.failed += s.failed;
        }
        for (reason, n) in &other.errors {
            *self.errors.entry(reason.clone()).or_default() += n;
        }
        Ok(())
    }

    /// The recorder for another process: each histogram in HdrHistogram's V2 encoding (hex).
    pub fn to_wire(&self) -> Result<RecorderWire, String> {
        let mut ops = vec![];
        for (name, s) in &self.ops {
            let mut bytes = vec![];
            V2Serializer::new()
                .serialize(&s.latency_us, &mut bytes)
                .map_err(|e| format!("{name}: {e:?}"))?;
            ops.push(OpWire {
                name: name.clone(),
                ok: s.ok,
                failed: s.failed,
                histogram_v2: hex::encode(bytes),
            });
        }
        Ok(RecorderWire {
            ops,
            errors: self.errors.clone(),
        })
    }

    /// A recorder back from [`Recorder::to_wire`].
    pub fn from_wire(w: &RecorderWire) -> Result<Recorder, String> {
        let mut r = Recorder {
            errors: w.errors.clone(),
            ..Recorder::default()
        };
        for op in &w.ops {
            let bytes = hex::decode(&op.histogram_v2).map_err(|e| format!("{}: {e}", op.name))?;
            let h: Histogram<u64> = Deserializer::new()
                .deserialize(&mut bytes.as_slice())
                .map_err(|e| format!("{}: histogram: {e:?}", op.name))?;
            let mut s = OpStats::new();
            s.latency_us
                .add(&h)
                .map_err(|e| format!("{}: histogram: {e:?}", op.name))?;
            (s.ok, s.failed) = (op.ok, op.failed);
            r.ops.insert(op.name.clone(), s);
        }
        Ok(r)
    }

    /// Operations that succeeded / failed, summed over every operation named `op`.
    pub fn counts(&self, op: &str) -> (u64, u64) {
        self.ops.get(op).map_or((0, 0), |s| (s.ok, s.failed))
    }

    /// The `operations` and `errors` objects.
    pub fn to_json(&self) -> Value {
        let mut ops = Map::new();
        for (name, s) in &self.ops {
            let h = &s.latency_us;
            let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
            ops.insert(
                name.clone(),
                json!({
                    "count": s.ok + s.failed,
                    "ok": s.ok,
                    "failed": s.failed,
                    "p50_ms": ms(0.5),
                    "p90_ms": ms(0.9),
                    "p99_ms": ms(0.99),
                    "p999_ms": ms(0.999),
                    "max_ms": h.max() as f64 / 1000.0,
                }),
            );
        }
        json!({ "operations": ops, "errors": self.errors })
    }

    /// A short table for a terminal.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<16} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}\n",
            "operation", "count", "ok", "failed", "p50 ms", "p99 ms", "p99.9 ms", "max ms"
        );
        for (name, s) in &self.ops {
            let h = &s.latency_us;
            let ms = |v: u64| v as f64 / 1000.0;
            out.push_str(&format!(
                "{:<16} {:>8} {:>8} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2}\n",
                name,
                s.ok + s.failed,
                s.ok,
                s.failed,
                ms(h.value_at_quantile(0.5)),
                ms(h.value_at_quantile(0.99)),
                ms(h.value_at_quantile(0.999)),
                ms(h.max()),
            ));
        }
        for (reason, n) in &self.errors {
            out.push_str(&format!("  error {n:>6} × {reason}\n"));
        }
        out
    }
}

/// A recorder shared by tasks.
pub type Shared = Arc<Mutex<Recorder>>;

/// Records into a shared recorder (a poisoned lock is recovered: counts are plain data).
pub fn record(shared: &Shared, op: &str, us: u64, result: Result<(), &str>) {
    let mut g = shared.lock().unwrap_or_else(|p| p.into_inner());
    g.record(op, us, result);
}

/// A `Result<(), String>` as [`record`] takes it.
pub fn res(r: &Result<(), String>) -> Result<(), &str> {
    r.as_ref().map(|_| ()).map_err(|e| e.as_str())
}

/// A copy of a shared recorder.
pub fn snapshot(shared: &Shared) -> Recorder {
    shared.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_histograms_and_errors() {
        let mut a = Recorder::default();
        a.record("tvs", 1_000, Ok(()));
        a.record("tvs", 3_000, Err("timeout"));
        let mut b = Recorder::default();
        b.record("tvs", 2_000, Ok(()));
        let b = Recorder::from_wire(&b.to_wire().unwrap()).unwrap();
        a.merge(&b).unwrap();
        assert_eq!(a.counts("tvs"), (2, 1));
        let j = a.to_json();
        assert_eq!(j["operations"]["tvs"]["count"], 3);
        assert_eq!(j["errors"]["tvs: timeout"], 1);
        assert!(j["operations"]["tvs"]["max_ms"].as_f64().unwrap() >= 2.99);
    }
}
