//! Findings: what a run (or a preflight) concluded about the migration, in the words an
//! engineer puts in front of a change board — which failure-catalogue entry, the evidence from
//! the artefacts or the trace, and the fix. Preflight fills them; the report forms
//! (`summary.md`, `report.html`, `report.json`) show them at the top.

use serde::Serialize;

/// One conclusion with its evidence and fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Failure-catalogue entry (`"F4"`) or another stable id (`"preflight/itl-signer"`).
    pub id: String,
    /// How serious: `"fail"` (the migration breaks), `"warn"` (a risk), `"info"`.
    pub severity: String,
    /// One line: what is wrong.
    pub title: String,
    /// The facts that show it (file names, serials, subjects, trace excerpts).
    pub evidence: Vec<String>,
    /// What to do about it, in the field's words.
    pub fix: String,
}
