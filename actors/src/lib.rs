//! # cucmsim-actors: the thin shells
//!
//! Every participant of the simulated world — phone, TFTP, TVS, CAPF, CA, CallManager,
//! publisher, DHCP, SFTP — runs as a ractor actor around its pure machine from `cucmsim-core`.
//! A shell hands a mailbox [`Input`] to the core's one interface, [`Machine::on_input`], with
//! `now`, and carries out the effects:
//!
//! ```text
//!  mailbox Input ──► Shell<M> ──► M::on_input(input, bus.now(host)) ──► effects
//!                                   Send    ──► Bus::send (link policy: latency, loss, duplicate, partition) ──► postman ──► mailbox
//!                                   Timer   ──► Bus::timer (the postman queue, virtual time)
//!                                   Observe ──► Bus trace
//!  (the real CPU time of each on_input goes to the bus's CostMeter, never into virtual time)
//! ```
//! No trust decision lives here (design.md principle 4), and nothing here matches on a
//! message's variants: labels come from `Msg::kind`, connections from `Msg::session`. The bus
//! is the seam where the QUIC transport will plug in.
//!
//! ## Layout
//!
//! ```text
//! bus.rs         the in-memory bus: routes by Addr, link policy, host clocks, postman queue, trace
//! cost.rs        CostMeter: real CPU time per (participant kind, input kind), HdrHistograms
//! shell.rs       Shell<M>: the one generic ractor actor around any core Machine
//! steps.rs       Mail{input, cause}: which operator step's effects are still in flight
//! supervisor.rs  the root supervisor (a failed shell becomes an `actor_failed` observation), spawn_shell
//! ```

pub mod bus;
pub mod cost;
pub mod shell;
pub mod steps;
pub mod supervisor;

pub use bus::{Bus, Group, LinkEffect, LinkRule};
pub use cucmsim_core::machine::{Input, Machine};
pub use shell::Shell;
pub use steps::{Cause, Mail};
