//! The participants as pure state machines: each takes one input and `now`, changes its state
//! and returns effects (send, set a timer, observe). No I/O, no clock (design.md principle 1).
//!
//! ```text
//!   Input + Now ──► Machine::on_input() ──► Vec<Effect>
//!                                             ├─ Send { to: Addr, msg: Msg }   → the bus
//!                                             ├─ Timer { after_ms, token }     → the runtime
//!                                             └─ Observe(Observation)          → the trace
//! ```
//! The actor shells in `cucmsim-actors` turn mailbox messages into inputs and carry out the
//! effects; they hold no trust decision.
//!
//! One module per participant: `publisher/` (a cluster's database and operator steps, one
//! file per concern), `callmanager`, `tftp`, `tvs`, `capf/`, `ca` (an external CA), `dhcp`,
//! `sftp`, `phone/` and `jabber`; `msg` and `operator` hold what they exchange, `interface`
//! the one trait they all implement, `trace` what they observe.
//!
//! Every participant that speaks TLS (the phone towards TVS, CAPF and the TFTP's HTTPS port;
//! the TVS, CAPF and TFTP servers) holds its connections as one [`channel::Channel`]: real
//! TLS or identity mode, with the bytes waiting for the handshake and those received.

pub mod ca;
pub mod callmanager;
pub mod capf;
pub mod channel;
pub mod config;
pub mod dhcp;
pub mod interface;
pub mod jabber;
pub mod msg;
pub mod operator;
pub mod phone;
pub mod publisher;
pub mod sftp;
pub mod tftp;
pub mod trace;
pub mod tvs;

pub use callmanager::CallManager;
pub use dhcp::Dhcp;
pub use interface::{Input, Machine};
pub use msg::{
    Addr, CapfUpdate, DeviceConfig, Effect, Msg, Now, Operator, ServiceAction, TftpBuild, TvsStores,
};
pub use publisher::{Enterprise, Publisher};
pub use sftp::Sftp;
pub use trace::{Event, Kind, Observation, Refusal};

#[cfg(test)]
mod tests;
