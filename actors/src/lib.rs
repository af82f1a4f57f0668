//! # cucmsim-actors: logical processes, the bus, the conductor
//!
//! Every participant of the simulated world — phone, TFTP, TVS, CAPF, CA, CallManager,
//! publisher, DHCP, SFTP — is a pure machine from `cucmsim-core`, hosted by a ractor actor: a
//! *logical process* (LP). Services have one each; phones are multiplexed on a few shard LPs
//! (each phone keeps its own machine, mailbox order and failure isolation). The run advances
//! in conservative windows (design.md, "Engine and time"): within a window every LP runs on
//! its own thread, independently; at the barrier the conductor exchanges the letters they sent
//! each other. The total order of letters makes the trace independent of the thread count.
//!
//! ```text
//!  Conductor ──Window{end}──► Lp<M> (one per service, a few phone shards), all at once
//!                               M::on_input(input, bus.now(addr, due)) ──► effects
//!                                 Send    ──► Bus::plan (latency ≥ lookahead, loss, duplicate,
//!                                             partition, firewall) ──► letter for an LP
//!                                 Timer   ──► own queue
//!                                 Observe ──► own trace
//!  Conductor ◄──WindowDone{letters out, next due, step deltas}── (barrier: exchange, next start)
//!  (the real CPU time of each on_input goes to the LP's CostMeter, never into virtual time)
//! ```
//! No trust decision lives here (design.md principle 4), and nothing here matches on a
//! message's variants (labels come from `Msg::kind`, connections from `Msg::session`) except
//! `remote`, whose codec mirrors the phone-facing ones for the distributed window protocol.
//!
//! ## Layout
//!
//! ```text
//! bus.rs         the frozen bus: routes, link policy, host clocks, TVS session times
//! conductor.rs   Conductor: windows, barriers, the harness's deliveries, the harvest
//! cost.rs        CostMeter: real CPU time per (participant kind, input kind), HdrHistograms
//! letter.rs      Letter and its total order (due, source, source sequence)
//! lp.rs          Lp<M>: the logical process actor (a phone shard or one service)
//! peer.rs        Peer: logical processes hosted by another node (distributed runs)
//! remote/        the distributed window protocol's frames (WindowReq, WindowResp, FinishResp)
//! steps.rs       Mail{input, cause}: which operator step's effects are still in flight
//! supervisor.rs  the root supervisor, spawn_lp
//! ```

pub mod bus;
pub mod conductor;
pub mod cost;
pub mod letter;
pub mod lp;
pub mod peer;
pub mod remote;
pub mod steps;
pub mod supervisor;

pub use bus::{Bus, Group, LinkEffect, LinkRule};
pub use conductor::{Conductor, Harvested, WindowStats};
pub use cucmsim_core::machine::{Input, Machine};
pub use steps::{Cause, Mail};
