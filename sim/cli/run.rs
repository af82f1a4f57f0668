//! `cucmsim run`: argument handling, exit codes, the progress bar and output around the
//! scenario language ([`crate::lang`]) and the runner ([`crate::reports::runner`]).
//!
//! ```text
//!  RunArgs ──lang::load_with(overrides)──► Compiled ──runner::execute_full──► RunResult
//!          ──output::write_all──► results/<scenario>/<seed>/ ; summary (or --json) on stdout
//!  exit 0: every expectation holds, 1: one failed, 2: bad scenario or unwritable output
//! ```

use crate::engine::spec::TlsMode;
use crate::engine::Progress;
use crate::lang::compile::Overrides;
use crate::lang::{fmt_ms, load_with};
use crate::reports::output::write_all;
use crate::reports::runner::{execute_full, summary, write_trace};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Arguments of `cucmsim run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The scenario file; without one, the bundled default (scenarios/default.toml).
    pub scenario: Option<PathBuf>,
    /// Seed: decides keys, latencies, power-on order and faults. Same seed, same trace hash.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Total phones, 1 to 1,000,000: the scenario's fleets share exactly this many in
    /// proportion to their counts; expectation counts of phones scale with them.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(super::memory::MAX_PHONES)))]
    pub phones: Option<u32>,
    /// Where the reports go (default results/<scenario>/<seed>/): report.json, summary.md,
    /// report.html with SVG plots, latency/*.hgrm and cpu/*.hgrm.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bar (it is also off when stderr is not a terminal).
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the report as JSON on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Also write the observation trace, one JSON object a line, to trace.jsonl beside the report.
    #[arg(long)]
    pub trace: bool,
    /// TVS sessions: a real TLS handshake (full) or an identity check of the TVS certificate.
    #[arg(long, value_enum)]
    pub tls: Option<TlsArg>,
}

/// `--tls` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TlsArg {
    Full,
    Identity,
}

/// `cucmsim run`; returns the exit code.
pub fn run(args: &RunArgs) -> u8 {
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
    let compiled = match load_with(args.scenario.as_deref(), overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    if let Err(e) = super::memory::fits(compiled.spec.phone_count(), super::memory::available()) {
        eprintln!("cucmsim run: {e}");
        return 2;
    }
    let bar = progress_bar(args.quiet || args.json);
    let result = execute_full(&compiled, args.phones, &mut |p| show(&bar, p));
    bar.finish_and_clear();
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cucmsim run: {e}");
            return 1;
        }
    };
    let report = &result.report;
    tracing::info!(
        scenario = %report.scenario,
        seed = report.seed,
        wall_s = report.wall_time_s,
        events = report.events,
        "run finished"
    );
    let dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("results")
            .join(&report.scenario)
            .join(report.seed.to_string())
    });
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

/// A progress bar on stderr, hidden when asked or when stderr is not a terminal.
fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>9} [{bar:40}] {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn show(bar: &ProgressBar, p: Progress) {
    if bar.is_hidden() {
        return;
    }
    match p {
        Progress::Building { done, total } => {
            bar.set_prefix("building");
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message(format!("{done}/{total} phones"));
        }
        Progress::Running {
            virtual_ms,
            total_ms,
        } => {
            bar.set_prefix("running");
            bar.set_length(total_ms);
            bar.set_position(virtual_ms);
            bar.set_message(format!(
                "virtual {} of {}",
                fmt_ms(virtual_ms),
                fmt_ms(total_ms)
            ));
        }
    }
}
