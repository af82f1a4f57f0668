//! Invariant `registration_after_config`: a phone registers only after it accepted a
//! configuration file since its last boot (reference §2.3: the config names the CallManagers).

use super::{Invariant, Violation};
use cucmsim_core::machine::phone::status;
use cucmsim_core::machine::{Event, Observation};
use std::collections::HashMap;

#[derive(Default)]
pub struct RegistrationAfterConfig {
    /// Per phone: whether a config was accepted since the last boot.
    config_ok: HashMap<String, bool>,
}

impl Invariant for RegistrationAfterConfig {
    fn see(&mut self, o: &Observation, out: &mut Vec<Violation>) {
        match &o.event {
            Event::State { status } if *status == status::BOOTING => {
                self.config_ok.insert(o.who.clone(), false);
            }
            Event::ConfigAccepted { .. } => {
                self.config_ok.insert(o.who.clone(), true);
            }
            Event::Registered { cluster }
                if !self.config_ok.get(&o.who).copied().unwrap_or(false) =>
            {
                out.push(Violation::new(
                    "registration_after_config",
                    o,
                    format!("registered with {cluster} without an accepted config"),
                ));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{check, test_support::at};
    use cucmsim_core::machine::phone::status;
    use cucmsim_core::machine::Event;
    use cucmsim_core::phone::trust::TrustPath;

    fn booting() -> Event {
        Event::State {
            status: status::BOOTING,
        }
    }
    fn registered() -> Event {
        Event::Registered {
            cluster: "B".into(),
        }
    }

    #[test]
    fn registering_after_the_config_holds_and_without_it_does_not() {
        let ok = [
            at(1, "SEP1", booting()),
            at(
                2,
                "SEP1",
                Event::ConfigAccepted {
                    path: TrustPath::Itl,
                },
            ),
            at(3, "SEP1", registered()),
        ];
        assert!(check(&ok).is_empty());
        let bad = [
            at(1, "SEP1", booting()),
            at(
                2,
                "SEP1",
                Event::ConfigAccepted {
                    path: TrustPath::Itl,
                },
            ),
            at(3, "SEP1", booting()),
            at(4, "SEP1", registered()),
        ];
        let v = check(&bad);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].id, "registration_after_config");
        assert_eq!(v[0].at, 4);
    }
}
