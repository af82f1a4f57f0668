//! `cucmsim run`: run a compiled scenario, evaluate its expectations, measure it (virtual-time
//! latency histograms, the timeline, the real CPU cost per input), build the report, and say
//! how to reproduce a failure. [`crate::output`] writes the report forms.

use super::metrics::{latencies, summarize, timeline, Summary, Timeline};
use super::plots::Window;
use super::report::{by_state, canonical, failures, trace_hash};
use crate::checks::expect::{evaluate, Outcome};
use crate::checks::phones::phones_at;
use crate::engine::spec::{Event, WorldSpec};
use crate::engine::{Progress, StepRun};
use crate::lang::{fmt_ms, Compiled};
use cucmsim_core::machine::{Observation, ServiceAction};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How a run was executed (conservative windows on worker threads).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Execution {
    pub threads: usize,
    /// Logical processes: one per service, plus the phone shards.
    pub logical_processes: usize,
    pub phone_shards: usize,
    pub windows: u64,
    /// Inputs handled by the machines, all together.
    pub machine_events: u64,
    /// Logical processes with work, summed over windows (÷ windows: the parallelism there
    /// was to use).
    pub lp_windows: u64,
    /// Letters handed between logical processes at the barriers.
    pub letters_exchanged: u64,
    /// A distributed run's workers (`run --workers`); none in one process.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeFigures>,
}

/// One worker of a distributed run.
#[derive(Clone, Debug, Serialize)]
pub struct NodeFigures {
    /// Its address.
    pub node: String,
    pub phones: u64,
    /// Windows it took part in.
    pub windows: u64,
    /// Frame bytes and letters sent to it and received from it.
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub letters_out: u64,
    pub letters_in: u64,
    /// Its own time running windows, and its time at barriers (each window's length at the
    /// coordinator less that), seconds.
    pub busy_s: f64,
    pub barrier_wait_s: f64,
}

impl Execution {
    fn of(out: &crate::engine::RunOutput) -> Execution {
        Execution {
            threads: out.threads,
            logical_processes: out.lps,
            phone_shards: out.shards,
            windows: out.windows.windows,
            machine_events: out.windows.events,
            lp_windows: out.windows.lp_windows,
            letters_exchanged: out.windows.exchanged,
            nodes: out
                .peers
                .iter()
                .map(|p| NodeFigures {
                    node: p.name.clone(),
                    phones: p.phones,
                    windows: p.windows,
                    bytes_out: p.bytes_out,
                    bytes_in: p.bytes_in,
                    letters_out: p.letters_out,
                    letters_in: p.letters_in,
                    busy_s: p.busy_ns as f64 / 1e9,
                    barrier_wait_s: p.barrier_wait_ns as f64 / 1e9,
                })
                .collect(),
        }
    }
}

/// The machine-readable report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    /// The scenario file this run came from, as given (`scenarios/default.toml` for the
    /// bundled default).
    pub scenario_file: String,
    /// `--phones`, when the run scaled the scenario's fleets to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phones_override: Option<u32>,
    pub seed: u64,
    pub trace_hash: String,
    pub phones: Phones,
    pub failures: BTreeMap<String, u64>,
    pub expectations: Expectations,
    pub virtual_time_s: f64,
    pub wall_time_s: f64,
    /// Of `wall_time_s`, building the world (keys, certificates, MICs, actors).
    pub build_time_s: f64,
    /// Observations in the trace.
    pub events: u64,
    /// How the run was executed: worker threads, logical processes, windows (never part of
    /// the trace hash: the trace is the same at any thread count).
    pub execution: Execution,
    pub messages: Messages,
    pub tvs_mode: String,
    /// The RSA implementation that signed and verified: `aws-lc`, `ring` or `rsa`
    /// (`--rsa-backend`, `CUCMSIM_RSA`). Every backend gives the same bytes and trace hash.
    pub rsa_backend: String,
    /// RSA signatures of trust lists and signed configuration files during the run: handed
    /// out again by the signature cache (hits) or computed (misses).
    pub signature_cache: cucmsim_core::pki::sigcache::CacheStats,
    pub reproduce: String,
    /// Virtual-time latency percentiles by metric (see [`crate::metrics`]).
    pub latency: BTreeMap<String, Summary>,
    /// Real CPU time spent handling each kind of input on this machine (host clock; differs
    /// run to run, never part of the trace hash).
    pub cpu_cost: BTreeMap<String, CpuCost>,
    /// Faults of the scenario as windows of virtual time.
    pub faults: Vec<Window>,
    /// Operator steps (instants: `from_ms == until_ms`).
    pub steps: Vec<Window>,
    /// Each operator step: when it was due, when the operator started it (after the previous
    /// step's effects had landed) and when its own effects had landed on the servers.
    pub operator_steps: Vec<StepTiming>,
    /// CAPF enrollment, when the scenario has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment: Option<super::metrics::Enrollment>,
    /// Conclusions with evidence and fix (filled by preflight; empty for a plain run).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<super::findings::Finding>,
    /// The cucmsim that produced this report: package version and git commit.
    pub cucmsim_version: String,
    /// What the scenario is for: its opening comment block.
    pub intent: String,
    /// The command that ran it (the reproduce command when it was not run from the command
    /// line).
    pub command: String,
    /// When the run finished, UTC.
    pub date: String,
    /// Phones at the end by cluster (registered with, or registered with last) and state.
    pub phones_by_cluster: BTreeMap<String, BTreeMap<String, u64>>,
    /// Phones not registered at the end, by reason, with example phones and their timelines.
    pub failure_groups: Vec<super::outcome::FailureGroup>,
}

/// One operator step's timing (virtual ms).
#[derive(Clone, Debug, Serialize)]
pub struct StepTiming {
    pub step: String,
    pub at_ms: u64,
    pub started_ms: u64,
    /// `None`: its effects had not landed when the operator gave up waiting.
    pub landed_ms: Option<u64>,
}

/// The real cost of one kind of input, in µs.
#[derive(Clone, Debug, Serialize)]
pub struct CpuCost {
    pub count: u64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    /// All such inputs together, ms.
    pub total_ms: f64,
}

/// Everything a run produced: the report, the trace, and what the report forms are drawn from.
pub struct RunResult {
    pub report: Report,
    pub trace: Vec<Observation>,
    /// Virtual-time latencies, µs.
    pub latency: BTreeMap<&'static str, Histogram<u64>>,
    /// Real CPU cost per input kind, ns.
    pub cpu: BTreeMap<String, Histogram<u64>>,
    pub timeline: Timeline,
}

#[derive(Clone, Debug, Serialize)]
pub struct Phones {
    pub total: u64,
    pub by_state: BTreeMap<String, u64>,
    pub by_cluster: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Expectations {
    pub passed: u64,
    pub failed: u64,
    pub details: Vec<Outcome>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Messages {
    pub sent: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub duplicated: u64,
}

/// The command that reproduces this run.
pub fn reproduce_command(c: &Compiled, phones: Option<u32>) -> String {
    let mut cmd = format!("cucmsim run {} --seed {}", c.source.display(), c.spec.seed);
    if let Some(n) = phones {
        cmd += &format!(" --phones {n}");
    }
    cmd
}

/// Runs and builds the report.
pub fn execute(c: &Compiled, phones_override: Option<u32>) -> Result<Report, String> {
    execute_with_trace(c, phones_override).map(|(r, _)| r)
}

/// Runs and returns the report and the canonical observation trace.
pub fn execute_with_trace(
    c: &Compiled,
    phones_override: Option<u32>,
) -> Result<(Report, Vec<Observation>), String> {
    execute_full(c, phones_override, &mut |_| {}).map(|r| (r.report, r.trace))
}

/// Points of the timeline plots.
const TIMELINE_BUCKETS: u64 = 240;

/// Runs with a progress callback and returns everything the report forms need.
pub fn execute_full(
    c: &Compiled,
    phones_override: Option<u32>,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunResult, String> {
    execute_on(c, phones_override, None, progress)
}

/// Runs `spec` here, or with its phones on `cluster`'s workers.
fn run_on(
    spec: &crate::engine::WorldSpec,
    cluster: Option<&crate::cluster::Cluster>,
    progress: &mut dyn FnMut(Progress),
) -> Result<crate::engine::RunOutput, String> {
    let shared = crate::engine::Shared {
        distribute: cluster,
        ..Default::default()
    };
    crate::engine::run_shared(spec, &shared, progress)
}

/// [`execute_full`], with the phones on `cluster`'s workers when one is given.
pub fn execute_on(
    c: &Compiled,
    phones_override: Option<u32>,
    cluster: Option<&crate::cluster::Cluster>,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunResult, String> {
    cucmsim_core::pki::sigcache::new_run();
    let out = run_on(&c.spec, cluster, progress)?;
    let signature_cache = cucmsim_core::pki::sigcache::stats();
    let execution = Execution::of(&out);
    let trace = canonical(out.trace);
    let latency = latencies_with_tvs_service(&trace, &out.tvs_service_ms);
    let cpu = out.costs.into_histograms();
    let timeline = timeline(
        &trace,
        u64::from(c.spec.phone_count()),
        c.spec.duration_ms,
        TIMELINE_BUCKETS,
    );
    let end = phones_at(&trace, c.spec.duration_ms);
    let details = evaluate(&c.expectations, &trace);
    let passed = details.iter().filter(|d| d.passed).count() as u64;
    let report = Report {
        scenario: c.spec.name.clone(),
        scenario_file: c.source.display().to_string(),
        phones_override,
        seed: c.spec.seed,
        trace_hash: trace_hash(&trace),
        phones: Phones {
            total: u64::from(c.spec.phone_count()),
            by_state: by_state(&end),
            by_cluster: registered_by_cluster(&end),
        },
        failures: failures(&end),
        expectations: Expectations {
            passed,
            failed: details.len() as u64 - passed,
            details,
        },
        virtual_time_s: out.virtual_ms as f64 / 1000.0,
        wall_time_s: out.wall_s,
        build_time_s: out.build_s,
        events: trace.len() as u64,
        execution,
        messages: Messages {
            sent: out.counters.sent,
            delivered: out.counters.delivered,
            dropped: out.counters.dropped,
            duplicated: out.counters.duplicated,
        },
        tvs_mode: format!("{:?}", c.spec.tls).to_lowercase(),
        rsa_backend: cucmsim_core::pki::rsa_backend().name().to_string(),
        signature_cache,
        reproduce: reproduce_command(c, phones_override),
        latency: latency
            .iter()
            .map(|(k, h)| (k.to_string(), summarize(h, 1000.0)))
            .collect(),
        cpu_cost: cpu.iter().map(|(k, h)| (k.clone(), cpu_cost(h))).collect(),
        faults: fault_windows(&c.spec),
        steps: step_marks(&c.spec),
        operator_steps: step_timings(&c.spec, &out.steps),
        enrollment: super::metrics::enrollment(&trace),
        findings: Vec::new(),
        cucmsim_version: crate::version().to_string(),
        intent: c.intent.clone(),
        command: reproduce_command(c, phones_override),
        date: now_utc(),
        phones_by_cluster: super::outcome::by_cluster_and_state(&trace, &end, c.spec.duration_ms),
        failure_groups: super::outcome::failure_groups(&trace, &end),
    };
    Ok(RunResult {
        report,
        trace,
        latency,
        cpu,
        timeline,
    })
}

/// The trace's latencies, and the time TVS sessions spent inside their TVS.
fn latencies_with_tvs_service(
    trace: &[Observation],
    tvs_service_ms: &[u64],
) -> BTreeMap<&'static str, hdrhistogram::Histogram<u64>> {
    let mut latency = latencies(trace);
    if !tvs_service_ms.is_empty() {
        let h = latency
            .entry("tvs.service_ms")
            .or_insert_with(super::metrics::new_histogram);
        for ms in tvs_service_ms {
            h.saturating_record(ms * 1000);
        }
    }
    latency
}

/// Phones registered at the end, by cluster.
fn registered_by_cluster(
    end: &BTreeMap<String, crate::checks::phones::PhoneView>,
) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for cluster in end.values().filter_map(|v| v.cluster.as_ref()) {
        *out.entry(cluster.clone()).or_insert(0) += 1;
    }
    out
}

/// Now, UTC, to the second: `2026-12-04 18:45:12 UTC`.
pub fn now_utc() -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::now_utc()
        .format(&f)
        .unwrap_or_default()
}

fn cpu_cost(h: &Histogram<u64>) -> CpuCost {
    let us = |ns: u64| ns as f64 / 1000.0;
    CpuCost {
        count: h.len(),
        p50_us: us(h.value_at_quantile(0.5)),
        p99_us: us(h.value_at_quantile(0.99)),
        max_us: us(h.max()),
        total_ms: h.mean() * h.len() as f64 / 1e6,
    }
}

/// The scenario's operator steps as instants, one label per instant.
pub fn step_marks(spec: &WorldSpec) -> Vec<Window> {
    let mut out: Vec<Window> = vec![];
    for (at, ev) in &spec.events {
        let Some(label) = super::wording::step_label(ev) else {
            continue;
        };
        match out.last_mut() {
            Some(w) if w.from_ms == *at => {
                if !w.label.contains(&label) {
                    w.label += &format!(", {label}");
                }
            }
            _ => out.push(Window {
                from_ms: *at,
                until_ms: *at,
                label,
            }),
        }
    }
    out
}

/// When each operator step was due, started and landed.
pub fn step_timings(spec: &WorldSpec, runs: &[StepRun]) -> Vec<StepTiming> {
    runs.iter()
        .map(|r| StepTiming {
            step: spec
                .events
                .get(r.event)
                .and_then(|(_, ev)| super::wording::step_label(ev))
                .unwrap_or_else(|| "step".into()),
            at_ms: r.at_ms,
            started_ms: r.started_ms,
            landed_ms: r.landed_ms,
        })
        .collect()
}

/// The scenario's faults as windows: link rules, and service stops paired with their starts.
pub fn fault_windows(spec: &WorldSpec) -> Vec<Window> {
    let mut out: Vec<Window> = spec
        .link_rules
        .iter()
        .map(|r| Window {
            from_ms: r.from_ms,
            until_ms: r.until_ms,
            label: format!("{:?}", r.effect)
                .split(['(', ' '])
                .next()
                .unwrap_or("link")
                .to_lowercase(),
        })
        .collect();
    for (i, (at, ev)) in spec.events.iter().enumerate() {
        match ev {
            Event::Service {
                host,
                service,
                action: ServiceAction::Stop,
            } => {
                let until = spec.events[i + 1..]
                    .iter()
                    .find(|(_, e)| {
                        matches!(e, Event::Service { host: h, service: s, action: ServiceAction::Start }
                            if h == host && s == service)
                    })
                    .map_or(spec.duration_ms, |(t, _)| *t);
                out.push(Window {
                    from_ms: *at,
                    until_ms: until,
                    label: super::wording::fault_label(&spec.events[i].1).unwrap_or_default(),
                });
            }
            Event::Skew { .. } => out.push(Window {
                from_ms: *at,
                until_ms: *at,
                label: super::wording::fault_label(&spec.events[i].1).unwrap_or_default(),
            }),
            _ => {}
        }
    }
    out.sort_by_key(|w| (w.from_ms, w.until_ms));
    // One label per window: "tvs down on a, tvs down on b".
    let mut merged: Vec<Window> = vec![];
    for w in out {
        match merged.last_mut() {
            Some(m) if m.from_ms == w.from_ms && m.until_ms == w.until_ms => {
                m.label += &format!(", {}", w.label)
            }
            _ => merged.push(w),
        }
    }
    merged
}

/// Writes the trace as JSON lines (one observation a line) to `path`.
pub fn write_trace(path: &Path, trace: &[Observation]) -> Result<(), String> {
    let mut text = String::new();
    for o in trace {
        text += &serde_json::to_string(o).map_err(|e| e.to_string())?;
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The human summary.
pub fn summary(r: &Report) -> String {
    let mut s = format!(
        "scenario {} (seed {}), {} phones, TVS sessions: {}\n",
        r.scenario, r.seed, r.phones.total, r.tvs_mode
    );
    let _ = writeln!(s, "phones by state at the end:");
    for (state, n) in &r.phones.by_state {
        let _ = writeln!(s, "  {n:>7}  {state}");
    }
    for (cluster, n) in &r.phones.by_cluster {
        let _ = writeln!(s, "  {n:>7}  registered on {cluster}");
    }
    if !r.failures.is_empty() {
        let _ = writeln!(s, "failures by reason:");
        for (reason, n) in &r.failures {
            let _ = writeln!(s, "  {n:>7}  {reason}");
        }
    }
    let _ = writeln!(
        s,
        "expectations: {} passed, {} failed",
        r.expectations.passed, r.expectations.failed
    );
    for d in &r.expectations.details {
        let mark = if d.passed { "ok  " } else { "FAIL" };
        let _ = writeln!(s, "  {mark} {} (actual: {})", d.expectation, d.actual);
    }
    let _ = writeln!(
        s,
        "virtual time {}, wall time {:.2} s ({:.2} s building the world), {} observations, {} messages ({} dropped)",
        fmt_ms((r.virtual_time_s * 1000.0) as u64),
        r.wall_time_s,
        r.build_time_s,
        r.events,
        r.messages.sent,
        r.messages.dropped
    );
    if let Some(e) = &r.enrollment {
        let _ = writeln!(
            s,
            "CAPF: {} LSCs installed on {} devices, {} operations failed; first at {:.1} s, the last at {:.1} s ({:.1} s after the first session started)",
            e.lscs_installed,
            e.devices,
            e.failed,
            e.first_installed_ms as f64 / 1000.0,
            e.last_installed_ms as f64 / 1000.0,
            e.last_installed_ms.saturating_sub(e.first_started_ms) as f64 / 1000.0,
        );
    }
    if !r.latency.is_empty() {
        let _ = writeln!(
            s,
            "latency (virtual time)        count      p50      p99      max"
        );
        for (name, l) in &r.latency {
            let _ = writeln!(
                s,
                "  {name:<26} {:>7} {:>8} {:>8} {:>8}",
                l.count,
                fmt_latency(l.p50_ms),
                fmt_latency(l.p99_ms),
                fmt_latency(l.max_ms)
            );
        }
    }
    let _ = writeln!(s, "trace hash {}", r.trace_hash);
    if r.expectations.failed > 0 {
        let _ = writeln!(s, "reproduce: {}", r.reproduce);
    }
    s
}

/// A latency in ms for a table cell: `12 ms`, `1.5 s`, `3.2 min`.
pub fn fmt_latency(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 120_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{:.1} min", ms / 60_000.0)
    }
}

/// Writes `report.json` into `dir`.
pub fn write_report(dir: &Path, r: &Report) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join("report.json");
    let json = serde_json::to_string_pretty(r).map_err(|e| e.to_string())?;
    std::fs::write(&path, json + "\n")
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}
