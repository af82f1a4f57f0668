//! Invariant `verified_trust_list`: a phone never installs a trust list whose signer it could
//! not verify (reference §2.3). Each install names its trust path, and:
//! - `FirstUse` only while the phone holds no CTL and no ITL (new, or after its trust lists
//!   were erased);
//! - `Tvs { cached: false }` only right after a valid TVS answer to that phone about the
//!   same file's signer.
//!
//! - `RollbackItl` (a trust list or a config accepted because the held ITL is the blank
//!   rollback ITL) only while the phone holds no CTL: rollback blanks the ITL, never the CTL,
//!   and a phone with a CTL verifies new files against it (§2.3, §2.5, F3).
//!
//! `Ctl` and `Itl` name a list the phone already held; the trace does not carry the lists'
//! contents, so those paths are checked in the core's unit tests. A cached TVS path
//! may come from an HTTPS verification, which is not a `tvs_answer`, so it is not checked here.

use super::{Invariant, Violation};
use cucmsim_core::machine::trace::file_name;
use cucmsim_core::machine::{Event, Kind, Observation};
use cucmsim_core::phone::trust::{FileKind, TrustPath};
use std::collections::HashMap;

const ID: &str = "verified_trust_list";

#[derive(Default)]
struct PhoneSeen {
    holds_a_list: bool,
    holds_a_ctl: bool,
    /// The phone's last TVS answer not yet used by an install: file and verdict.
    answer: Option<(FileKind, bool)>,
}

#[derive(Default)]
pub struct VerifiedTrustList {
    phones: HashMap<String, PhoneSeen>,
}

impl Invariant for VerifiedTrustList {
    fn see(&mut self, o: &Observation, out: &mut Vec<Violation>) {
        match &o.event {
            Event::TvsAnswer { file, valid, .. } => {
                self.phones.entry(o.who.clone()).or_default().answer = Some((*file, *valid));
            }
            Event::Note {
                kind: Kind::TrustListsErased,
                ..
            } => {
                let seen = self.phones.entry(o.who.clone()).or_default();
                seen.holds_a_list = false;
                seen.holds_a_ctl = false;
            }
            Event::ConfigAccepted {
                path: TrustPath::RollbackItl,
            } if self.phones.get(&o.who).is_some_and(|s| s.holds_a_ctl) => {
                out.push(Violation::new(
                    ID,
                    o,
                    "config accepted via the rollback ITL while holding a CTL",
                ))
            }
            Event::TrustListInstalled { file, path } => {
                let seen = self.phones.entry(o.who.clone()).or_default();
                let name = file_name(*file);
                match path {
                    TrustPath::FirstUse if seen.holds_a_list => out.push(Violation::new(
                        ID,
                        o,
                        format!("{name} installed on first use while holding a trust list"),
                    )),
                    TrustPath::Tvs { cached: false } => match seen.answer.take() {
                        Some((f, true)) if f == *file => {}
                        other => out.push(Violation::new(
                            ID,
                            o,
                            format!("{name} installed via TVS without a valid TVS answer about it (last answer: {other:?})"),
                        )),
                    },
                    TrustPath::RollbackItl if seen.holds_a_ctl => out.push(Violation::new(
                        ID,
                        o,
                        format!("{name} installed via the rollback ITL while holding a CTL"),
                    )),
                    _ => {}
                }
                seen.holds_a_list = true;
                seen.holds_a_ctl |= *file == FileKind::Ctl;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{check, test_support::at};
    use cucmsim_core::machine::{Event, Kind};
    use cucmsim_core::phone::trust::{FileKind, TrustPath};

    fn installed(file: FileKind, path: TrustPath) -> Event {
        Event::TrustListInstalled { file, path }
    }
    fn answer(file: FileKind, valid: bool) -> Event {
        Event::TvsAnswer {
            file,
            valid,
            tvs_cert: None,
        }
    }

    #[test]
    fn a_fresh_tvs_install_needs_a_valid_answer_about_that_file() {
        let fresh = TrustPath::Tvs { cached: false };
        let ok = [
            at(1, "SEP1", installed(FileKind::Itl, TrustPath::FirstUse)),
            at(2, "SEP1", answer(FileKind::Itl, true)),
            at(3, "SEP1", installed(FileKind::Itl, fresh.clone())),
        ];
        assert!(check(&ok).is_empty());
        let denied = [
            at(2, "SEP1", answer(FileKind::Itl, false)),
            at(3, "SEP1", installed(FileKind::Itl, fresh.clone())),
        ];
        assert_eq!(check(&denied)[0].id, "verified_trust_list");
        let other_file = [
            at(2, "SEP1", answer(FileKind::Ctl, true)),
            at(3, "SEP1", installed(FileKind::Itl, fresh.clone())),
        ];
        assert_eq!(check(&other_file).len(), 1);
        let other_phone = [
            at(2, "SEP2", answer(FileKind::Itl, true)),
            at(3, "SEP1", installed(FileKind::Itl, fresh)),
        ];
        assert_eq!(check(&other_phone).len(), 1);
    }

    #[test]
    fn the_rollback_itl_opens_nothing_on_a_phone_with_a_ctl() {
        let rollback = TrustPath::RollbackItl;
        let ok = [
            at(1, "SEP1", installed(FileKind::Itl, TrustPath::FirstUse)),
            at(2, "SEP1", installed(FileKind::Itl, rollback.clone())),
            at(
                3,
                "SEP1",
                Event::ConfigAccepted {
                    path: rollback.clone(),
                },
            ),
        ];
        assert!(check(&ok).is_empty());
        let with_ctl = [
            at(1, "SEP1", installed(FileKind::Ctl, TrustPath::FirstUse)),
            at(2, "SEP1", installed(FileKind::Itl, TrustPath::Ctl)),
            at(3, "SEP1", installed(FileKind::Itl, rollback.clone())),
            at(
                4,
                "SEP1",
                Event::ConfigAccepted {
                    path: rollback.clone(),
                },
            ),
        ];
        let v = check(&with_ctl);
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v.iter().all(|v| v.id == "verified_trust_list"));
        let erased = Event::note(Kind::TrustListsErased, "CTL and ITL deleted");
        let after_erase = [
            at(1, "SEP1", installed(FileKind::Ctl, TrustPath::FirstUse)),
            at(2, "SEP1", erased),
            at(3, "SEP1", installed(FileKind::Itl, TrustPath::FirstUse)),
            at(4, "SEP1", installed(FileKind::Itl, rollback)),
        ];
        assert!(check(&after_erase).is_empty());
    }

    #[test]
    fn first_use_only_without_a_trust_list() {
        let erased = Event::note(Kind::TrustListsErased, "CTL and ITL deleted");
        let ok = [
            at(1, "SEP1", installed(FileKind::Itl, TrustPath::FirstUse)),
            at(2, "SEP1", erased),
            at(3, "SEP1", installed(FileKind::Itl, TrustPath::FirstUse)),
        ];
        assert!(check(&ok).is_empty());
        let bad = [
            at(1, "SEP1", installed(FileKind::Itl, TrustPath::FirstUse)),
            at(3, "SEP1", installed(FileKind::Itl, TrustPath::FirstUse)),
        ];
        assert_eq!(check(&bad).len(), 1);
    }
}
