//! `cucmsim explore`: arguments, the output directory (new or empty, never overwritten), the
//! progress line, the summary (or `--json`) and exit codes around [`crate::explore`];
//! `--replay` runs one file once, as a reproducer's replay command does.
//!
//! ```text
//!  ExploreArgs ──options──► explore::explore(progress line on stderr) ──► Summary
//!              ──► DIR/*.toml, DIR/index.json; summary or JSON on stdout
//!  exit 0: nothing failed, 1: failures found (or the replayed file fails), 2: bad input
//! ```

use crate::engine::Prebuilt;
use crate::explore::case::run_text;
use crate::explore::repro::Summary;
use crate::explore::{explore, Budget, Options, Status};
use crate::lang::durations::parse_duration;
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Arguments of `cucmsim explore`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
cucmsim explore scenarios/explore/small_migration.toml --cases 200 --out /tmp/found\n  \
cucmsim explore scenarios/migration/itl_bulk.toml --phones 20 --budget 10min --threads 2\n  \
cucmsim explore scenarios/explore/small_migration.toml --canary --cases 50 --out /tmp/canary\n  \
cucmsim run /tmp/found/<failure>-<hash>.toml  replays a reproducer (exit 1, same hash)\n\n\
Exit codes: 0 nothing failed, 1 failures found (reproducers under --out), 2 bad input.")]
pub struct ExploreArgs {
    /// The scenario to explore (its expectations say what working means).
    pub scenario: PathBuf,
    /// Stop after this much wall time, e.g. `10min`, `90 s` (default 10 min).
    #[arg(long, conflicts_with = "cases")]
    pub budget: Option<String>,
    /// Stop after this many cases (case 0 is the scenario with no plan).
    #[arg(long)]
    pub cases: Option<u64>,
    /// Search seed: decides the plans tried (the world keeps the scenario's own seed).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Total phones: the scenario's fleets and expectation counts scale to this.
    #[arg(long)]
    pub phones: Option<u32>,
    /// Cases run in parallel (results do not depend on it).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// A new or empty directory for the reproducers and index.json
    /// (default results/explore/<scenario>/seed-<S>, or the next free -2, -3, …).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Plant the documented canary defect (a TVS back from a stop vouches from stores it
    /// has not loaded) that the search must find: a check that the search still works.
    #[arg(long)]
    pub canary: bool,
    /// Run SCENARIO once (a reproducer) and report its failures and trace hash; exit 1 if
    /// it fails. With --canary, with the canary planted.
    #[arg(long)]
    pub replay: bool,
    /// Cases each failure's shrinking may run.
    #[arg(long, default_value_t = 300)]
    pub shrink_runs: u32,
    /// No progress line (it is also off when stderr is not a terminal).
    #[arg(long, short)]
    pub quiet: bool,
}

/// `cucmsim explore`; returns the exit code.
pub fn run(args: &ExploreArgs) -> u8 {
    if args.replay {
        return replay(args);
    }
    let o = match options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("cucmsim explore: {e}");
            return 2;
        }
    };
    let live = !args.quiet && std::io::stderr().is_terminal();
    let result = explore(&o, &mut |s| {
        if live {
            progress_line(s)
        }
    });
    if live {
        eprint!("\r\x1b[2K");
    }
    match result {
        Ok(s) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
            } else {
                print!("{}", summary(&s));
            }
            u8::from(!s.failures.is_empty())
        }
        Err(e) => {
            eprintln!("cucmsim explore: {e}");
            2
        }
    }
}

fn options(args: &ExploreArgs) -> Result<Options, String> {
    let budget = match (&args.budget, args.cases) {
        (_, Some(n)) => Budget::Cases(n),
        (Some(b), None) => {
            let ms = parse_duration(b).map_err(|e| format!("--budget: {e}"))?;
            if ms <= 0 {
                return Err("--budget must be longer than 0".into());
            }
            Budget::Time(Duration::from_millis(ms as u64))
        }
        (None, None) => Budget::Time(Duration::from_secs(600)),
    };
    if args.threads == 0 || args.threads > 256 {
        return Err("--threads must be between 1 and 256".into());
    }
    if args.phones == Some(0) {
        return Err("--phones must be at least 1".into());
    }
    if !args.scenario.is_file() {
        return Err(format!(
            "{}: no such scenario file",
            args.scenario.display()
        ));
    }
    // A bad scenario is refused before any directory is made.
    crate::lang::load(&args.scenario).map_err(|e| e.to_string())?;
    let out = out_dir(args)?;
    Ok(Options {
        scenario: args.scenario.clone(),
        budget,
        seed: args.seed,
        phones: args.phones,
        threads: args.threads,
        out,
        canary: args.canary,
        shrink_runs: args.shrink_runs,
        command: std::env::args()
            .map(|a| if a.contains(' ') { format!("{a:?}") } else { a })
            .collect::<Vec<_>>()
            .join(" ")
            .replacen(&std::env::args().next().unwrap_or_default(), "cucmsim", 1),
    })
}

/// Creates the output directory: `--out` must be new or empty; the default takes the next
/// free name. Nothing is ever overwritten.
fn out_dir(args: &ExploreArgs) -> Result<PathBuf, String> {
    let empty = |p: &Path| {
        p.read_dir()
            .map(|mut d| d.next().is_none())
            .unwrap_or(false)
    };
    let dir = match &args.out {
        Some(d) => {
            if d.exists() && !(d.is_dir() && empty(d)) {
                return Err(format!(
                    "--out {}: exists and is not an empty directory (explore never overwrites)",
                    d.display()
                ));
            }
            d.clone()
        }
        None => {
            let stem = args
                .scenario
                .file_stem()
                .map_or("scenario".into(), |s| s.to_string_lossy().to_string());
            let root = PathBuf::from("results/explore").join(stem);
            let name = format!("seed-{}", args.seed);
            (1..)
                .map(|n| {
                    root.join(if n == 1 {
                        name.clone()
                    } else {
                        format!("{name}-{n}")
                    })
                })
                .find(|p| !p.exists() || (p.is_dir() && empty(p)))
                .unwrap_or_else(|| root.join(name))
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// `explore FILE --replay [--canary]`: one run of the file.
fn replay(args: &ExploreArgs) -> u8 {
    let file = args.scenario.display().to_string();
    let text = match std::fs::read_to_string(&args.scenario) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{file}: cannot read: {e}");
            return 2;
        }
    };
    if let Err(e) = crate::lang::parse_str(&file, &text) {
        eprintln!("{e}");
        return 2;
    }
    match run_text(&file, &text, &Prebuilt::default(), args.canary) {
        Ok(v) => {
            for f in &v.failures {
                let who = f.who.as_deref().unwrap_or("-");
                println!("FAIL {} at {} ms in {who}: {}", f.key(), f.at_ms, f.detail);
            }
            if v.failures.is_empty() {
                println!("no failure");
            }
            println!("trace hash {}", v.trace_hash);
            u8::from(!v.failures.is_empty())
        }
        Err(e) => {
            eprintln!("cucmsim explore: {e}");
            1
        }
    }
}

fn progress_line(s: &Status) {
    let rate = s.cases as f64 / s.elapsed_s.max(1e-9);
    let mut line = format!(
        "explore: {} cases ({rate:.1}/s), {} failures, {:.0} s",
        s.cases, s.failures, s.elapsed_s
    );
    if let Some((key, runs)) = &s.shrinking {
        line += &format!(", shrinking {key} (run {runs})");
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "\r\x1b[2K{line}");
    let _ = err.flush();
}

/// The human summary.
fn summary(s: &Summary) -> String {
    let mut out = format!(
        "explored {} ({} phones, world seed {}, search seed {}{}): {} cases in {:.1} s ({:.1} cases/s searching; first case {:.2} s), {} failures\n",
        s.scenario,
        s.phones,
        s.world_seed,
        s.seed,
        if s.canary { ", canary planted" } else { "" },
        s.cases,
        s.elapsed_s,
        s.cases_per_s,
        s.first_case_s,
        s.failures.len()
    );
    for f in &s.failures {
        out += &format!(
            "  FAIL {} — {} item(s) (from {}, {} shrink runs, {:.1} s) — {}\n       {}\n",
            f.id, f.faults, f.original_faults, f.shrink_runs, f.shrink_s, f.file, f.what
        );
    }
    out += &format!("index: {}/index.json\n", s.out);
    out
}
