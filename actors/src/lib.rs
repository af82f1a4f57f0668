//! # cucmsim-actors: the thin shells
//!
//! Every participant of the simulated world — phone, TFTP, TVS, CallManager, publisher, DHCP,
//! SFTP — runs as a ractor actor around its pure machine from `cucmsim-core`. A shell turns a
//! mailbox message into an input, calls the machine with `now`, and carries out the effects:
//!
//! ```text
//!  mailbox Input ──► Shell<M> ──► M::on_input(input, bus.now(host)) ──► effects
//!                                   Send    ──► Bus::send (link policy: latency, loss, duplicate, partition) ──► postman ──► mailbox
//!                                   Timer   ──► Bus::timer (the postman queue, virtual time)
//!                                   Observe ──► Bus trace
//!  (the real CPU time of each on_input goes to the bus's CostMeter, never into virtual time)
//! ```
//! No trust decision lives here (design.md principle 4). The bus is the seam where the QUIC
//! transport will plug in.

pub mod bus;
pub mod cost;
pub mod machines;
pub mod shell;
pub mod supervisor;

pub use bus::{Bus, Group, LinkEffect, LinkRule};
pub use shell::{Input, Machine, Shell};
