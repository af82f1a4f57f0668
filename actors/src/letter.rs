//! A letter: a message (or a timer, or the harness's own delivery) waiting for its time in a
//! logical process's queue, and the total order in which letters are handled.
//!
//! The order is (due time, source entity, source's sequence number): every piece of it is
//! decided by the simulated world, none by which thread ran first or which logical process a
//! letter came from, so a run gives the same trace at 1, 2 or 16 threads (design.md, "Engine
//! and time").

use crate::steps::Mail;
use std::cmp::Ordering;

/// A letter for slot `slot` of the logical process it is queued in.
#[derive(Debug)]
pub struct Letter {
    pub due_ms: u64,
    /// The source entity's key ([`crate::bus::addr_key`]; the harness has its own).
    pub src: u64,
    /// The source's sequence number ×2, +1 for a duplicate's second copy.
    pub seq: u64,
    pub slot: u32,
    pub mail: Mail,
}

impl Letter {
    fn key(&self) -> (u64, u64, u64) {
        (self.due_ms, self.src, self.seq)
    }
}

impl PartialEq for Letter {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Letter {}
impl PartialOrd for Letter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Letter {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// The harness's source key (the director's deliveries: power-on, resets, operator steps).
pub const HARNESS: u64 = 0;
