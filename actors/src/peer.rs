//! Logical processes hosted by another node: the conductor's view of a worker of a
//! distributed run (`cucmsim run --workers`).
//!
//! A window on a peer is one request (the letters for every LP it hosts, the window's end, the
//! skews in force) and one answer (each LP's [`WindowDone`], and how long the peer worked);
//! the end of the run is one more request for the peer's [`Harvest`]. How the request travels
//! — encoding ([`crate::remote`]), transport, the node's liveness — is the implementation's
//! business (the binary's `cluster` module: ractor_cluster over QUIC); the conductor treats a
//! peer exactly like its own LPs, so the trace is the same as one process's.

use crate::bus::Skews;
use crate::letter::Letter;
use crate::lp::{Harvest, WindowDone};
use tokio::sync::oneshot;

/// One window for the LPs a peer hosts.
pub struct PeerWindow {
    pub end_ms: u64,
    pub skews: Skews,
    /// (global LP index, its letters), for the LPs with work in this window.
    pub letters: Vec<(u32, Vec<Letter>)>,
}

/// A peer's answer to a window.
#[derive(Default)]
pub struct PeerDone {
    /// Each LP that ran, with what it did.
    pub done: Vec<(u32, WindowDone)>,
    /// Time the peer spent running the window (its own clock).
    pub busy_ns: u64,
}

/// What a peer's traffic and waits added up to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerFigures {
    pub name: String,
    /// Phones the peer hosts.
    pub phones: u64,
    /// Windows it took part in.
    pub windows: u64,
    /// Frame bytes sent to it and received from it.
    pub bytes_out: u64,
    pub bytes_in: u64,
    /// Letters sent to it and received from it.
    pub letters_out: u64,
    pub letters_in: u64,
    /// Its own time running windows.
    pub busy_ns: u64,
    /// Time it sat at barriers: each window's length at the coordinator, less its own work.
    pub barrier_wait_ns: u64,
}

/// A node hosting some of the run's logical processes.
pub trait Peer: Send + Sync {
    /// The node's name in errors and reports (its address).
    fn name(&self) -> &str;
    /// Sends a window; the answer (or why there is none: the node died, hung, dropped off)
    /// arrives on the receiver. Never blocks.
    fn window(&self, w: PeerWindow) -> oneshot::Receiver<Result<PeerDone, String>>;
    /// Asks for the peer's harvest at the end of the run.
    fn finish(&self) -> oneshot::Receiver<Result<Harvest, String>>;
    /// Traffic so far (bytes are the implementation's to count).
    fn figures(&self) -> PeerFigures;
}
