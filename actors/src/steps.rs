//! Operator steps in flight: which of a step's effects have not landed yet, so that the
//! director can start the next step only once the previous one's have (an operator does one
//! thing after another, as they wait for the page).
//!
//! ```text
//!  director ──Mail{input, cause: step k}──► publisher / service shell      open[k] += 1
//!  shell handles it ──Send to a server (inherits k)──► bus ──► shell     open[k] += 1 per copy
//!                   ──Send to a phone / Timer──► cause NONE (the operator does not wait for
//!                                                 phones or background timers)
//!  shell done with the input                                            open[k] -= 1
//!  open[k] == 0 ──► doorbell ──► director: step k has landed
//! ```
//! A message the network drops (partition, loss, no such host) is never counted, so a step
//! whose effects cannot land completes at once; the director also caps the wait.

use cucmsim_core::machine::Input;
use std::collections::HashMap;

/// What caused an input: an operator step (its number, from 1), or nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cause(pub u32);

impl Cause {
    /// No operator step.
    pub const NONE: Cause = Cause(0);

    pub fn is_none(self) -> bool {
        self == Cause::NONE
    }
}

/// A shell's mailbox item: the machine's input and the step it is an effect of.
#[derive(Debug)]
pub struct Mail {
    pub input: Input,
    pub cause: Cause,
}

impl Mail {
    /// An input no operator step caused.
    pub fn plain(input: Input) -> Mail {
        Mail {
            input,
            cause: Cause::NONE,
        }
    }
}

/// Inputs in flight or queued, per step.
#[derive(Default)]
pub(crate) struct StepBook {
    open: HashMap<u32, u64>,
    next: u32,
}

impl StepBook {
    /// A new step's cause.
    pub(crate) fn open(&mut self) -> Cause {
        self.next += 1;
        Cause(self.next)
    }

    /// `n` more inputs of `cause` in flight.
    pub(crate) fn add(&mut self, cause: Cause, n: u64) {
        if !cause.is_none() {
            *self.open.entry(cause.0).or_insert(0) += n;
        }
    }

    /// One input of `cause` handled; true when it was the step's last.
    pub(crate) fn done(&mut self, cause: Cause) -> bool {
        if cause.is_none() {
            return false;
        }
        match self.open.get_mut(&cause.0) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                self.open.remove(&cause.0);
                true
            }
            None => false,
        }
    }

    /// Inputs of `cause` not yet handled.
    pub(crate) fn in_flight(&self, cause: Cause) -> u64 {
        self.open.get(&cause.0).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_lands_when_its_last_input_is_handled() {
        let mut b = StepBook::default();
        let k = b.open();
        assert_eq!(b.in_flight(k), 0);
        b.add(k, 2);
        b.add(Cause::NONE, 5);
        assert!(!b.done(k));
        assert_eq!(b.in_flight(k), 1);
        assert!(b.done(k));
        assert_eq!(b.in_flight(k), 0);
        assert!(!b.done(Cause::NONE));
        assert_ne!(b.open(), k);
    }
}
