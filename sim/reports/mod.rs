//! Running a compiled scenario and reporting on it: the runner drives the engine and the
//! checks, the report module gives the trace its meaning (states, failures, hash), metrics
//! measure it, plots draw it and output writes the report forms.
//!
//! ```text
//!  Compiled ──runner::execute_full──► engine::run ──► trace ──report::canonical──► trace_hash
//!                                                          ──checks::expect────► outcomes
//!                                                          ──metrics───────────► latencies, timeline
//!           ──► RunResult { Report, trace, histograms } ──output::write_all──► report.json,
//!               summary.md, report.html (plots), *.hgrm
//! ```

pub mod findings;
pub mod metrics;
pub mod outdir;
pub mod output;
pub mod plots;
pub mod report;
pub mod runner;
