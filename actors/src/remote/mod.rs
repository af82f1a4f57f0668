//! The distributed window protocol's frames: what the coordinator and a worker node say to
//! each other, as bytes.
//!
//! A distributed run drives the same conservative windows as the threads of one process
//! (see [`crate::conductor`]); the phone shards' logical processes live in worker processes.
//! Services (TFTP, TVS, CAPF, the publisher, CallManager, DHCP, SFTP, the CAs) always stay on
//! the coordinator, so only messages to or from phones — and the harness's deliveries to
//! phones — ever cross nodes:
//!
//! ```text
//!  coordinator ──WindowReq{end, skews, letters per LP}──► worker     (one per window)
//!  coordinator ◄──WindowResp{each LP's WindowDone, busy ns}── worker
//!  coordinator ◄──FinishResp{trace, counters, costs}── worker        (at the end of the run)
//! ```
//! A frame is two header bytes (its kind and [`VERSION`]) and a postcard body of private
//! mirror types (`wire_msg`, `wire_trace`, `codec`): the core's types carry no serde of
//! their own. A message that never leaves its node (it carries private keys or a service's
//! state) is refused with [`CodecError::CannotTravel`]; names the program holds as
//! `&'static str` (phone statuses, observation kinds, the cost meter's keys) map back to the
//! program's own strings. Decoding untrusted bytes never panics, and allocates at most a bounded
//! multiple of the frame's size (a decoded letter is larger in memory than its few bytes on
//! the wire; nothing is preallocated from a length the frame claims), and a frame is at most
//! [`MAX_FRAME`] bytes.
//!
//! Shared payloads (a file, a certificate: every `Arc<[u8]>` of a frame's messages) travel
//! once per frame, by content, and arrive as one shared `Arc` again.
//!
//! Size (`cargo test -p cucmsim-actors remote -- --nocapture` prints both): a window of 1,000
//! `TftpGet` letters (`ITLSEP<MAC>.tlv`) encodes to 45,691 bytes, 45.7 bytes a letter, 10 of
//! them the source key (a 64-bit hash); 1,000 `TftpReply` letters of one 6,000-byte ITL to
//! 41,757 bytes (6,041,757 with the payload in every letter).

mod codec;
mod names;
mod wire_msg;
mod wire_trace;

#[cfg(test)]
mod corpus;
#[cfg(test)]
mod tests;

use crate::bus::{Counters, Group};
use crate::cost::CostMeter;
use crate::letter::Letter;
use crate::lp::WindowDone;
use cucmsim_core::machine::Observation;
use std::fmt;

pub use codec::{
    decode_finish, decode_window_req, decode_window_resp, encode_finish, encode_window_req,
    encode_window_resp,
};

/// The largest frame this protocol writes or reads: 256 MiB.
pub const MAX_FRAME: usize = 256 << 20;

/// The codec's version, the second byte of every frame: a node of another version is refused
/// at its first frame.
pub const VERSION: u8 = 1;

/// Coordinator → worker, one per window.
#[derive(Debug, Default)]
pub struct WindowReq {
    /// The window's end (exclusive), virtual ms.
    pub end_ms: u64,
    /// Clock skews in force as of the window's start.
    pub skews: Vec<(Group, i64)>,
    /// (global LP index, its letters).
    pub letters: Vec<(u32, Vec<Letter>)>,
}

/// Worker → coordinator: each LP's `WindowDone` (only the LPs that ran), and the worker's
/// figures.
#[derive(Debug, Default)]
pub struct WindowResp {
    pub done: Vec<(u32, WindowDone)>,
    /// Real time the worker spent running the window, ns.
    pub busy_ns: u64,
}

/// Worker → coordinator at the end of the run.
#[derive(Default)]
pub struct FinishResp {
    pub trace: Vec<Observation>,
    pub counters: Counters,
    pub costs: CostMeter,
}

/// Why a frame could not be written or read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodecError {
    /// A message kind that never leaves its node (it carries private keys or service
    /// state): the `Msg::kind` name.
    CannotTravel(&'static str),
    /// Bytes that are not a frame of this protocol (truncated, bad tag, trailing bytes,
    /// unknown name, too large), or a value no frame can carry.
    Malformed(String),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::CannotTravel(kind) => {
                write!(f, "a {kind} message never leaves its node")
            }
            CodecError::Malformed(why) => write!(f, "malformed frame: {why}"),
        }
    }
}

impl std::error::Error for CodecError {}

pub(crate) fn malformed(why: impl Into<String>) -> CodecError {
    CodecError::Malformed(why.into())
}
