//! The engine: builds a world of actors from a [`WorldSpec`], replays its timed events on
//! virtual time, and returns the observation trace.
//!
//! ```text
//!  WorldSpec ──world::build──► PKI per cluster, MICs per phone (all from the seed)
//!            ──run::run──────► current-thread tokio runtime, paused clock
//!                               shells (cucmsim-actors) + bus + supervisor
//!                               director: power-on spread, steps and faults at their times
//!                               ──► trace (Vec<Observation>), counters, real CPU costs, wall time
//! ```

mod director;
pub mod prebuilt;
pub mod run;
pub mod schedule;
pub mod spec;
pub mod world;

pub use prebuilt::Prebuilt;
pub use run::{run, run_shared, run_with, Progress, RunOutput, Shared};
pub use schedule::StepRun;
pub use spec::{ClusterDef, Event, FleetDef, NodeDef, Service, WorldSpec};
