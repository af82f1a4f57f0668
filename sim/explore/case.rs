//! Running one case: the plan rendered into the scenario, the text compiled by the normal
//! language (so a case is exactly what its reproducer replays), the world run on virtual
//! time with the artefacts built once, the trace checked.
//!
//! ```text
//!  Base + plan ──render──► text ──lang::parse_str──► Compiled ──engine::run_shared(prebuilt,
//!  canary)──► trace ──canonical──► expectations + invariants ──classify──► Verdict
//! ```

use super::base::Base;
use super::classify::{classify, Failure};
use super::plan::Item;
use crate::checks::expect::evaluate;
use crate::checks::invariants;
use crate::engine::{run_shared, Prebuilt, Shared, WorldSpec};
use crate::lang::parse_str;
use crate::reports::report::{canonical, trace_hash};

/// What one case showed.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub failures: Vec<Failure>,
    pub trace_hash: String,
}

impl Verdict {
    /// The failure with this key, if the case shows it.
    pub fn shows(&self, key: &str) -> Option<&Failure> {
        self.failures.iter().find(|f| f.key() == key)
    }
}

/// Runs `plan` over `base`. An `Err` is explore's own fault (a plan that does not compile)
/// or the engine's; it is not a finding.
pub fn run_case(
    base: &Base,
    plan: &[Item],
    prebuilt: &Prebuilt,
    canary: bool,
) -> Result<Verdict, String> {
    run_text(&base.file, &base.render(plan), prebuilt, canary)
}

/// Runs a complete scenario text (a rendered case, or a reproducer being replayed).
pub fn run_text(
    file: &str,
    text: &str,
    prebuilt: &Prebuilt,
    canary: bool,
) -> Result<Verdict, String> {
    let compiled = parse_str(file, text)
        .map_err(|e| format!("explore made a scenario the language refuses: {e}"))?;
    let shared = Shared {
        prebuilt: Some(prebuilt),
        canary,
        distribute: None,
    };
    // Explore runs its cases side by side, one thread each.
    let spec = WorldSpec {
        threads: 1,
        ..compiled.spec.clone()
    };
    let out = run_shared(&spec, &shared, &mut |_| {})?;
    let trace = canonical(out.trace);
    let outcomes = evaluate(&compiled.expectations, &trace);
    let violations = invariants::check(&trace);
    Ok(Verdict {
        failures: classify(&compiled, &trace, &outcomes, &violations),
        trace_hash: trace_hash(&trace),
    })
}
