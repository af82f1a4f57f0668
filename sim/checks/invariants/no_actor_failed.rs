//! Invariant `no_actor_failed`: no supervised shell stopped with an error (the supervisor
//! observes `actor_failed`). A machine's `Err` is broken infrastructure, never a verdict.

use super::{Invariant, Violation};
use cucmsim_core::machine::{Event, Observation};

#[derive(Default)]
pub struct NoActorFailed;

impl Invariant for NoActorFailed {
    fn see(&mut self, o: &Observation, out: &mut Vec<Violation>) {
        if let Event::ActorFailed { error } = &o.event {
            out.push(Violation::new(
                "no_actor_failed",
                o,
                format!("actor failed: {error}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{check, test_support::at};
    use cucmsim_core::machine::Event;

    #[test]
    fn a_failed_shell_is_a_violation() {
        let e = Event::ActorFailed {
            error: "boom".into(),
        };
        let v = check(&[at(5, "tvs@pub", e)]);
        assert_eq!(v.len(), 1);
        assert_eq!(
            (v[0].id, v[0].at, v[0].who.as_str()),
            ("no_actor_failed", 5, "tvs@pub")
        );
    }
}
