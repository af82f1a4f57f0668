//! Invariant `tvs_vouches_from_stores`: a TVS vouches only for a certificate that the trust
//! stores it loaded at its last (re)start hold (reference §2.2: TVS answers from the stores
//! as read at start). Each TVS lookup carries the verdict of its directory (`found`) and,
//! from a plain scan of the loaded stores, whether they hold the certificate it vouched for.

use super::{Invariant, Violation};
use cucmsim_core::machine::{Event, Observation};

#[derive(Default)]
pub struct TvsVouchesFromStores;

impl Invariant for TvsVouchesFromStores {
    fn see(&mut self, o: &Observation, out: &mut Vec<Violation>) {
        if let Event::TvsLookup {
            phone,
            found: true,
            held: false,
        } = &o.event
        {
            out.push(Violation::new(
                "tvs_vouches_from_stores",
                o,
                format!("vouched to phone#{phone} for a certificate its loaded stores do not hold"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{check, test_support::at};
    use cucmsim_core::machine::Event;

    #[test]
    fn vouching_for_what_the_stores_do_not_hold_is_a_violation() {
        let e = |found, held| Event::TvsLookup {
            phone: 3,
            found,
            held,
        };
        assert!(check(&[
            at(1, "tvs@pub", e(true, true)),
            at(2, "tvs@pub", e(false, false))
        ])
        .is_empty());
        assert_eq!(check(&[at(1, "tvs@pub", e(true, false))]).len(), 1);
    }
}
