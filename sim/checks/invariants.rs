//! Invariants: small checks that read observations only (design.md principle 8).
//!
//! 1. A phone never installs a trust list whose signer it could not verify: every install says
//!    how it was trusted, and an install "via Tvs { cached: false }" follows a valid TVS answer
//!    to that phone.
//! 2. No shell failed (the supervisor reports `actor_failed`).
//! 3. A phone registers only after it accepted a configuration file.
//! 4. CAPF never issues the same LSC serial twice (per issuing CAPF), and a phone installs
//!    only an LSC that was issued (by CAPF, or by a CA through CAPF).
//!
//! ("TVS never vouches outside its stores" is enforced by construction — TVS answers from its
//! store snapshot — and tested in the core; the trace does not carry the stores.)

use cucmsim_core::machine::Observation;
use std::collections::BTreeMap;

/// Violations, as one line each (empty when all hold).
pub fn check(trace: &[Observation]) -> Vec<String> {
    let mut out = vec![];
    let mut tvs_valid: BTreeMap<&str, u64> = BTreeMap::new();
    let mut config_ok: BTreeMap<&str, bool> = BTreeMap::new();
    let mut serials: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    let mut via_ca = 0u64;
    let mut ca_issued = 0u64;
    let mut installed_unknown = vec![];
    for o in trace {
        let who = o.who.as_str();
        match o.what.as_str() {
            "tvs_answer" if who.starts_with("SEP") && o.detail.ends_with("valid=true") => {
                *tvs_valid.entry(who).or_insert(0) += 1;
            }
            "trust_list_installed" => {
                let legit = ["FirstUse", "RollbackItl", "Ctl", "Itl", "Tvs"]
                    .iter()
                    .any(|p| o.detail.contains(&format!("via {p}")));
                if !legit {
                    out.push(format!(
                        "{} {who}: installed a trust list by no known path ({})",
                        o.t_ms, o.detail
                    ));
                }
                if o.detail.contains("cached: false")
                    && tvs_valid.get(who).copied().unwrap_or(0) == 0
                {
                    out.push(format!(
                        "{} {who}: installed via TVS without a valid TVS answer",
                        o.t_ms
                    ));
                }
            }
            "lsc_issued" => {
                let serial = o.detail.rsplit(' ').next().unwrap_or_default();
                let n = serials.entry((who, serial)).or_insert(0);
                *n += 1;
                if *n == 2 {
                    out.push(format!(
                        "{} {who}: LSC serial {serial} issued twice",
                        o.t_ms
                    ));
                }
            }
            "ca_enroll" if o.detail.ends_with(": issued") => ca_issued += 1,
            "csr_uploaded" => ca_issued += 1,
            "lsc_installed" if who.starts_with("SEP") => {
                let serial = o
                    .detail
                    .strip_prefix("serial ")
                    .and_then(|d| d.split(' ').next())
                    .unwrap_or_default();
                if !serials.keys().any(|(_, s)| *s == serial) {
                    via_ca += 1;
                    installed_unknown
                        .push(format!("{} {who}: installed LSC serial {serial}", o.t_ms));
                }
            }
            "actor_failed" => out.push(format!("{} {who}: actor failed: {}", o.t_ms, o.detail)),
            "state" if o.detail == "Booting" => {
                config_ok.insert(who, false);
            }
            "config_accepted" => {
                config_ok.insert(who, true);
            }
            "registered" if !config_ok.get(who).copied().unwrap_or(false) => {
                out.push(format!(
                    "{} {who}: registered without an accepted config",
                    o.t_ms
                ));
            }
            _ => {}
        }
    }
    // LSCs from a CA are not in CAPF's `lsc_issued` lines; there must be at least as many
    // certificates issued by CAs.
    if via_ca > ca_issued {
        out.extend(
            installed_unknown
                .into_iter()
                .map(|l| format!("{l} that no CAPF or CA issued")),
        );
    }
    out
}
