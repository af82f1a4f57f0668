//! The engine: builds a world of actors from a [`WorldSpec`], replays its timed events on
//! virtual time, and returns the observation trace.
//!
//! ```text
//!  WorldSpec ──world::build──► PKI per cluster, MICs per phone (all from the seed, on every
//!                               thread)
//!            ──run::run──────► tokio runtime with `threads` workers
//!                               logical processes (cucmsim-actors): one per service, phones on
//!                               shards; conservative windows of one lookahead (1 ms LAN latency)
//!                               director (schedule.rs) at the barriers: power-on spread, steps
//!                               and faults at their times
//!                               ──► trace (Vec<Observation>), counters, real CPU costs, wall time
//! ```
//! Same seed, same trace at any thread count: letters are handled in (due, source, source
//! sequence) order in each logical process, random draws are keyed by entity, and the
//! director acts only at barriers, which depend on the world alone.

mod director;
pub mod distributed;
pub mod prebuilt;
pub mod run;
pub mod schedule;
pub mod spec;
pub mod world;

pub use prebuilt::Prebuilt;
pub use run::{run, run_shared, run_with, Progress, RunOutput, Shared};
pub use schedule::StepRun;
pub use spec::{ClusterDef, Event, FleetDef, NodeDef, Service, WorldSpec};
