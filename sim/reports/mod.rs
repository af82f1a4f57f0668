//! Running a compiled scenario and reporting on it: the runner drives the engine and the
//! checks, the report module gives the trace its meaning (states, failures, hash), metrics
//! measure it, plots draw it and output writes the report forms.
//!
//! ```text
//!  Compiled ──runner::execute_full──► engine::run ──► trace ──report::canonical──► trace_hash
//!                                                          ──checks::expect────► outcomes
//!                                                          ──metrics───────────► latencies, timeline
//!           ──► RunResult { Report, trace, histograms } ──output::write_all──► report.json,
//!               summary.md (summary), report.html (html, plots), *.hgrm
//!  outcome: phones per cluster and state, failures grouped with example timelines
//!  wording: operator steps, services and faults in the field's words; h:mm:ss
//! ```

pub mod findings;
pub mod html;
pub mod metrics;
pub mod outcome;
pub mod outdir;
pub mod output;
pub mod plots;
pub mod report;
pub mod runner;
#[cfg(test)]
mod sample;
pub mod summary;
pub mod wording;
