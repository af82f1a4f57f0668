//! Invariant `lsc_issued_once`: a CAPF never issues the same LSC serial twice, and a phone
//! installs only an LSC that was issued — by a CAPF (`lsc_issued`), or by an external CA
//! through CAPF (`ca_enroll` issued, or an offline CA's `csr_uploaded`). CA-issued LSCs carry
//! no serial in the trace, so those are checked by count at the end.

use super::{Invariant, Violation};
use cucmsim_core::machine::{Event, Kind, Observation};
use std::collections::{HashMap, HashSet};

const ID: &str = "lsc_issued_once";

#[derive(Default)]
pub struct LscIssuedOnce {
    /// (issuing CAPF, serial) → times issued.
    issued: HashMap<(String, String), u32>,
    serials: HashSet<String>,
    by_ca: u64,
    /// Installs of a serial no CAPF issued, to judge against `by_ca` at the end.
    unknown: Vec<Violation>,
}

impl Invariant for LscIssuedOnce {
    fn see(&mut self, o: &Observation, out: &mut Vec<Violation>) {
        match &o.event {
            Event::LscIssued { serial_hex, .. } => {
                let n = self
                    .issued
                    .entry((o.who.clone(), serial_hex.clone()))
                    .or_insert(0);
                *n += 1;
                if *n == 2 {
                    out.push(Violation::new(
                        ID,
                        o,
                        format!("LSC serial {serial_hex} issued twice"),
                    ));
                }
                self.serials.insert(serial_hex.clone());
            }
            Event::CaEnroll { result: Ok(()), .. } => self.by_ca += 1,
            Event::Note {
                kind: Kind::CsrUploaded,
                ..
            } => self.by_ca += 1,
            Event::LscInstalled { serial_hex, .. } if !self.serials.contains(serial_hex) => {
                self.unknown.push(Violation::new(
                    ID,
                    o,
                    format!("installed LSC serial {serial_hex} that no CAPF or CA issued"),
                ));
            }
            _ => {}
        }
    }

    fn finish(&mut self, out: &mut Vec<Violation>) {
        if self.unknown.len() as u64 > self.by_ca {
            out.append(&mut self.unknown);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{check, test_support::at};
    use cucmsim_core::machine::trace::Validity;
    use cucmsim_core::machine::Event;
    use cucmsim_core::wall::WallTime;

    fn issued(serial: &str) -> Event {
        Event::LscIssued {
            device: "SEP1".into(),
            serial_hex: serial.into(),
        }
    }
    fn installed(serial: &str) -> Event {
        Event::LscInstalled {
            serial_hex: serial.into(),
            issuer_cn: "CAPF-1".into(),
            family: "IPv4".into(),
            validity: Validity {
                not_before: WallTime(0),
                not_after: WallTime(i64::MAX),
                at: WallTime(1),
            },
        }
    }

    #[test]
    fn a_serial_issued_twice_is_a_violation() {
        let v = check(&[
            at(1, "capf@pub", issued("0a")),
            at(2, "capf@pub", issued("0a")),
        ]);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].id, "lsc_issued_once");
    }

    #[test]
    fn an_install_needs_an_issue() {
        let ok = [
            at(1, "capf@pub", issued("0a")),
            at(2, "SEP1", installed("0a")),
        ];
        assert!(check(&ok).is_empty());
        assert_eq!(check(&[at(2, "SEP1", installed("0b"))]).len(), 1);
        let by_ca = Event::CaEnroll {
            device: "SEP1".into(),
            result: Ok(()),
        };
        assert!(check(&[at(1, "ca@x", by_ca), at(2, "SEP1", installed("0b"))]).is_empty());
    }
}
