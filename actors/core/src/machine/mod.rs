//! The participants as pure state machines: each takes one input and `now`, changes its state
//! and returns effects (send, set a timer, observe). No I/O, no clock (design.md principle 1).
//!
//! ```text
//!   input + Now ──► machine.handle() ──► Vec<Effect>
//!                                          ├─ Send { to: Addr, msg: Msg }   → the bus
//!                                          ├─ Timer { after_ms, token }     → the runtime
//!                                          └─ Observe(Observation)          → the trace
//! ```
//! The actor shells in `cucmsim-actors` turn mailbox messages into inputs and carry out the
//! effects; they hold no trust decision.
//!
//! One module per participant: `publisher/` (a cluster's database and operator steps, one
//! file per concern), `callmanager`, `tftp`, `tvs`, `capf`, `ca` (an external CA), `dhcp`,
//! `sftp`, `phone` and `jabber`; `msg` holds what they exchange.

pub mod ca;
pub mod callmanager;
pub mod capf;
pub mod dhcp;
pub mod jabber;
pub mod msg;
pub mod phone;
pub mod publisher;
pub mod sftp;
pub mod tftp;
pub mod tvs;

pub use callmanager::CallManager;
pub use dhcp::Dhcp;
pub use publisher::{Enterprise, Publisher};
pub use sftp::Sftp;

pub use msg::{
    Addr, CapfUpdate, DeviceConfig, Effect, Msg, Now, Observation, Operator, ServiceAction,
    TftpBuild, TvsStores,
};

#[cfg(test)]
mod tests;
