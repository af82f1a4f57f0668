//! `cucmsim run`: argument handling, exit codes, the progress bar and output around the
//! scenario language ([`crate::lang`]) and the runner ([`crate::reports::runner`]).
//!
//! ```text
//!  RunArgs ──lang::load_with(overrides)──► Compiled ──runner::execute_full──► RunResult
//!          ──outdir::prepare (before the run: never over an earlier run's reports)──► dir
//!          ──output::write_all──► dir ; summary (or --json) on stdout
//!  exit 0: every expectation holds, 1: one failed, 2: bad scenario or unwritable output
//! ```

use super::progress::RunProgress;
use crate::engine::spec::TlsMode;
use crate::lang::compile::Overrides;
use crate::lang::load_with;
use crate::reports::outdir::prepare;
use crate::reports::output::write_all;
use crate::reports::runner::{execute_on, summary, write_trace};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Arguments of `cucmsim run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The scenario file; without one, the bundled default (scenarios/default.toml).
    pub scenario: Option<PathBuf>,
    /// Seed: decides keys, latencies, power-on order and faults. Same seed, same trace hash
    /// [default: the scenario's `seed`].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Total phones, 1 to 1,000,000: the scenario's fleets share exactly this many in
    /// proportion to their counts; expectation counts of phones scale with them
    /// [default: the scenario's fleets as written].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(super::memory::MAX_PHONES)))]
    pub phones: Option<u32>,
    /// Where the reports go: report.json, summary.md, report.html with SVG plots,
    /// latency/*.hgrm and cpu/*.hgrm (<seed>-2, -3, … when an earlier run's reports are in the
    /// default place; a given directory that holds reports is refused without --force)
    /// [default: results/<scenario>/<seed>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the reports already in --out (only the files a run writes are removed).
    #[arg(long)]
    pub force: bool,
    /// No progress display. On a terminal progress is a bar on stderr; otherwise (CI logs,
    /// pipes) a plain line every few seconds.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the report as JSON on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Also write the observation trace, one JSON object a line, to trace.jsonl beside the report.
    #[arg(long)]
    pub trace: bool,
    /// Worker threads (the trace is the same at any count) [default: every core].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// TVS sessions: a real TLS handshake (full) or an identity check of the TVS certificate
    /// [default: the scenario's `tls`, full unless it says].
    #[arg(long, value_enum)]
    pub tls: Option<TlsArg>,
    /// Spread the run over these workers (`cucmsim worker`, HOST:PORT, comma-separated): the
    /// phones are built and run there, the services here; the trace is the one-process trace.
    #[arg(long, value_delimiter = ',', requires = "secret")]
    pub workers: Vec<String>,
    /// The cluster's shared secret file (with --workers; the same file on every node).
    #[arg(long, requires = "workers")]
    pub secret: Option<PathBuf>,
}

/// `--tls` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TlsArg {
    Full,
    Identity,
}

/// The scenario with the command line's overrides, if this machine can hold its phones (with
/// `--workers` the workers hold them and each checks its own share).
fn compile(args: &RunArgs) -> Result<crate::lang::Compiled, String> {
    let tls = args.tls.map(|t| {
        if t == TlsArg::Full {
            TlsMode::Full
        } else {
            TlsMode::Identity
        }
    });
    let overrides = Overrides {
        seed: args.seed,
        phones: args.phones,
        tls,
    };
    let mut compiled = load_with(args.scenario.as_deref(), overrides).map_err(|e| e.to_string())?;
    if args.workers.is_empty() {
        super::memory::fits(compiled.spec.phone_count(), super::memory::available())
            .map_err(|e| format!("cucmsim run: {e}"))?;
    }
    compiled.spec.threads = args.threads.unwrap_or(0) as usize;
    Ok(compiled)
}

/// `cucmsim run`; returns the exit code.
pub fn run(args: &RunArgs) -> u8 {
    let compiled = match compile(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let seed = compiled.spec.seed;
    let dir = match prepare(args.out.as_deref(), &compiled.spec.name, seed, args.force) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cucmsim run: {e}");
            return 2;
        }
    };
    let cluster = match connect(args, &compiled) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cucmsim run: {e}");
            return 2;
        }
    };
    let mut progress = RunProgress::new(args.quiet || args.json, "cucmsim run: ");
    let result = execute_on(&compiled, args.phones, cluster.as_ref(), &mut |p| {
        progress.update(p)
    });
    drop(cluster);
    progress.finish();
    let mut result = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cucmsim run: {e}");
            return 1;
        }
    };
    result.report.command = command_line();
    let report = &result.report;
    tracing::info!(
        scenario = %report.scenario,
        seed = report.seed,
        wall_s = report.wall_time_s,
        events = report.events,
        "run finished"
    );
    if let Err(e) = write_all(&dir, &result) {
        eprintln!("cucmsim run: {e}");
        return 2;
    }
    if args.trace {
        if let Err(e) = write_trace(&dir.join("trace.jsonl"), &result.trace) {
            eprintln!("cucmsim run: {e}");
            return 2;
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(report).unwrap_or_default()
        );
    } else {
        print!("{}", summary(report));
        println!(
            "reports: {} (report.json, summary.md, report.html, latency/*.hgrm)",
            dir.display()
        );
    }
    if report.expectations.failed == 0 {
        0
    } else {
        1
    }
}

/// This process's command line as a user would type it again: `cucmsim` and the arguments,
/// those with spaces or shell characters quoted.
fn command_line() -> String {
    let mut words = vec!["cucmsim".to_string()];
    for a in std::env::args().skip(1) {
        let plain = !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
        words.push(if plain {
            a
        } else {
            format!("'{}'", a.replace('\'', "'\\''"))
        });
    }
    words.join(" ")
}

/// With `--workers`: the connected workers (each said hello: same build, same secret, free).
fn connect(
    args: &RunArgs,
    compiled: &crate::lang::Compiled,
) -> Result<Option<crate::cluster::Cluster>, String> {
    use std::net::ToSocketAddrs;
    if args.workers.is_empty() {
        return Ok(None);
    }
    let secret = args.secret.as_deref().ok_or("--workers needs --secret")?;
    let secret = std::sync::Arc::new(crate::cluster::secret::Secret::load(secret)?);
    let mut workers = vec![];
    for w in &args.workers {
        let addr = w
            .to_socket_addrs()
            .map_err(|e| format!("--workers {w}: {e}"))?
            .next()
            .ok_or_else(|| format!("--workers {w}: no address"))?;
        workers.push(addr);
    }
    let (name, text) = match &args.scenario {
        None => (
            crate::lang::DEFAULT_NAME.to_string(),
            crate::lang::DEFAULT_SCENARIO.to_string(),
        ),
        Some(p) => (
            p.display().to_string(),
            crate::lang::read_scenario(p).map_err(|e| e.to_string())?,
        ),
    };
    let dist = crate::cluster::Distribute {
        workers,
        secret,
        source: crate::cluster::Source {
            name,
            text,
            seed: args.seed,
            phones: args.phones,
            tls: args.tls.map(|t| match t {
                TlsArg::Full => "full".to_string(),
                TlsArg::Identity => "identity".to_string(),
            }),
        },
    };
    dist.connect(&compiled.spec).map(Some)
}
