//! Checks of a run: the invariants every run must keep.

pub mod invariants;
