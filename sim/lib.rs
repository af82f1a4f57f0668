//! # cucmsim: the simulator's command side
//!
//! The CLI (`cucmsim inspect`, `cucmsim pki demo`) and what it needs beyond the pure core:
//! reading files, formatting CUCM-style and JSON output, and the demo cluster.

pub mod bench;
pub mod demo;
pub mod engine;
pub mod expect;
pub mod inspect;
pub mod checks;
pub mod lang;
pub mod metrics;
pub mod output;
pub mod perf;
pub mod plots;
pub mod report;
pub mod run_cmd;
pub mod runner;
