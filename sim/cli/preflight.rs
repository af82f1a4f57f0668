//! `cucmsim preflight`: will this migration work, from the two clusters' own files
//! (the README's "Preflight" section has the directory layout; [`crate::preflight`] does the work).
//!
//! ```text
//!  args ──► preflight::preflight ──► text (or --json) on stdout, report files under --out,
//!                                    --write-scenario FILE ──► exit 0 pass · 1 fail · 2 bad input
//! ```

use crate::preflight::{preflight, report, scenario, Options};
use clap::Args;
use cucmsim_core::WallTime;
use std::path::{Path, PathBuf};

/// Arguments of `cucmsim preflight`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  cucmsim pki demo --cluster SRC --cucm-version 10.5 --out /tmp/src\n  \
cucmsim pki demo --cluster DST --cucm-version 12.5 --out /tmp/dst\n  \
cucmsim preflight --source /tmp/src --destination /tmp/dst                     # fail: F4\n  \
cucmsim preflight --source /tmp/src --destination /tmp/dst --with-bulk-import  # pass\n\n\
Exit codes: 0 pass, 1 fail (the findings say why), 2 bad input (the message names the file)."
)]
pub struct PreflightArgs {
    /// The source cluster's directory (the phones are registered there now).
    #[arg(long)]
    pub source: PathBuf,
    /// The destination cluster's directory.
    #[arg(long)]
    pub destination: PathBuf,
    /// Phones to migrate (spread over the TFTP nodes of both clusters).
    #[arg(long, default_value_t = 50)]
    pub phones: u32,
    /// Run Bulk Certificate Management (export, consolidate, import, restart TVS) on the two
    /// clusters' sftp/*.pkcs12 before the phones move.
    #[arg(long)]
    pub with_bulk_import: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write preflight.json, report.json, summary.md and report.html into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the equivalent scenario (to tweak and `cucmsim run`) to this file.
    #[arg(long)]
    pub write_scenario: Option<PathBuf>,
    /// Password of the PKCS#12 bundles (default: each cluster.toml's `bundle_password`, else
    /// "cucmsim").
    #[arg(long)]
    pub password: Option<String>,
    /// Migration date (YYYY-MM-DD) at which certificate validity is judged; default today.
    #[arg(long)]
    pub date: Option<String>,
    /// Seed of what the files do not hold: the phones' MACs and MICs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn today() -> WallTime {
    WallTime(time::OffsetDateTime::now_utc().unix_timestamp())
}

fn refuse_existing(path: &Path, what: &str) -> Result<(), String> {
    if path.exists() {
        return Err(format!(
            "{}: already exists; {what} is never overwritten (choose another path or remove it)",
            path.display()
        ));
    }
    Ok(())
}

fn options(args: &PreflightArgs) -> Result<Options, String> {
    if args.phones == 0 {
        return Err("--phones must be at least 1".into());
    }
    let at = match &args.date {
        Some(d) => super::demo::parse_date(d)
            .ok_or_else(|| format!("bad --date {d:?}: expected YYYY-MM-DD"))?,
        None => today(),
    };
    if let Some(out) = &args.out {
        refuse_existing(&out.join("preflight.json"), "a preflight report")?;
    }
    if let Some(f) = &args.write_scenario {
        refuse_existing(f, "a scenario file")?;
    }
    Ok(Options {
        source: args.source.clone(),
        destination: args.destination.clone(),
        phones: args.phones,
        with_bulk_import: args.with_bulk_import,
        password: args.password.clone(),
        at,
        seed: args.seed,
    })
}

fn command(args: &PreflightArgs, opts: &Options) -> String {
    format!(
        "cucmsim preflight --source {} --destination {} --phones {} --date {}{}",
        args.source.display(),
        args.destination.display(),
        args.phones,
        opts.at.to_string().get(..10).unwrap_or(""),
        if args.with_bulk_import {
            " --with-bulk-import"
        } else {
            ""
        }
    )
}

fn execute(args: &PreflightArgs) -> Result<u8, String> {
    let opts = options(args)?;
    let (outcome, src, dst) = preflight(&opts)?;
    let cmd = command(args, &opts);
    let mut written = vec![];
    if let Some(dir) = &args.out {
        written = report::write(dir, &outcome, &cmd)?;
    }
    if let Some(f) = &args.write_scenario {
        let text = scenario::scenario(
            &src,
            &dst,
            args.phones,
            args.with_bulk_import,
            args.seed,
            &cmd,
        );
        std::fs::write(f, text).map_err(|e| format!("cannot write {}: {e}", f.display()))?;
        written.push(f.clone());
    }
    if args.json {
        let mut v = serde_json::to_value(&outcome).map_err(|e| e.to_string())?;
        v["written"] = serde_json::json!(written);
        println!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", report::text(&outcome, &written));
    }
    Ok(if outcome.verdict == "pass" { 0 } else { 1 })
}

/// Runs a preflight; returns the exit code.
pub fn run(args: &PreflightArgs) -> u8 {
    execute(args).unwrap_or_else(|e| {
        eprintln!("cucmsim preflight: {e}");
        2
    })
}
