//! Invariant `validity_by_host_clock`: nothing is accepted outside its validity by the
//! accepting host's own clock (design.md: time is an argument; a host's clock can be skewed
//! as a fault). The events that accept a certificate carry its validity window and the host's
//! wall time at that moment: the TVS certificate a phone accepted in a TLS handshake, the LSC
//! a phone installed.

use super::{Invariant, Violation};
use cucmsim_core::machine::trace::Validity;
use cucmsim_core::machine::{Event, Observation};

const ID: &str = "validity_by_host_clock";

#[derive(Default)]
pub struct ValidityByHostClock;

fn judge(o: &Observation, what: &str, v: &Validity, out: &mut Vec<Violation>) {
    if v.at < v.not_before || v.at > v.not_after {
        out.push(Violation::new(
            ID,
            o,
            format!(
                "accepted {what} valid {} .. {} at host time {}",
                v.not_before.0, v.not_after.0, v.at.0
            ),
        ));
    }
}

impl Invariant for ValidityByHostClock {
    fn see(&mut self, o: &Observation, out: &mut Vec<Violation>) {
        match &o.event {
            Event::TvsAnswer {
                tvs_cert: Some(v), ..
            } => judge(o, "the TVS certificate", v, out),
            Event::LscInstalled {
                serial_hex,
                validity,
                ..
            } => judge(o, &format!("LSC {serial_hex}"), validity, out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{check, test_support::at};
    use cucmsim_core::machine::trace::Validity;
    use cucmsim_core::machine::Event;
    use cucmsim_core::phone::trust::FileKind;
    use cucmsim_core::wall::WallTime;

    fn answer(at_s: i64) -> Event {
        Event::TvsAnswer {
            file: FileKind::Itl,
            valid: true,
            tvs_cert: Some(Validity {
                not_before: WallTime(100),
                not_after: WallTime(200),
                at: WallTime(at_s),
            }),
        }
    }

    #[test]
    fn inside_the_window_holds_outside_does_not() {
        assert!(check(&[at(1, "SEP1", answer(150))]).is_empty());
        assert_eq!(check(&[at(1, "SEP1", answer(99))]).len(), 1);
        assert_eq!(
            check(&[at(1, "SEP1", answer(201))])[0].id,
            "validity_by_host_clock"
        );
    }
}
