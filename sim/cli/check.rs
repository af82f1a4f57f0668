//! `cucmsim check`: compile a scenario without running it and say what it holds.
//!
//! ```text
//!  CheckArgs ──lang::load──► ok: "FILE: ok — scenario …, N clusters, …" (exit 0)
//!                          └► "FILE:LINE:COL: what is wrong" on stderr (exit 2)
//! ```

use crate::lang::load;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `cucmsim check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The scenario file.
    pub scenario: PathBuf,
}

/// `cucmsim check`; returns the exit code.
pub fn check(args: &CheckArgs) -> u8 {
    match load(&args.scenario) {
        Ok(c) => {
            let s = &c.spec;
            println!(
                "{}: ok — scenario {:?}, {} clusters, {} phones in {} fleets, {} timed events, {} link faults, {} expectations",
                args.scenario.display(),
                s.name,
                s.clusters.len(),
                s.phone_count(),
                s.fleets.len(),
                s.events.len(),
                s.link_rules.len(),
                c.expectations.len()
            );
            0
        }
        Err(e) => {
            eprintln!("{e}");
            2
        }
    }
}
