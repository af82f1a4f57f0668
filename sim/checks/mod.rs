//! Checks over a run's observation trace: the scenario's expectations and the invariants that
//! must hold in every run. Everything here reads observations only.
//!
//! ```text
//!  trace ──phones::phones_at(t)──► each phone's state, cluster, last refusal
//!        ──expect::evaluate──────► one Outcome per expectation of the scenario
//!        ──invariants::check─────► violations (the `no_invariant_violation` expectation)
//! ```

pub mod expect;
pub mod invariants;
pub mod phones;
