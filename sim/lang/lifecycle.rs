//! The certificate-lifecycle steps of the scenario language — `regenerate_certificate`,
//! `itl_reset`, `ctl_update`, `drs_backup`, `drs_restore`, `delete_itl` — and the fleet keys that describe
//! a phone model's limits (`itl_max_certs`, `itl_max_bytes`, `max_rsa_bits`,
//! `file_digests`). Each checks its keys and names and points at the offending value.
//!
//! ```text
//!  [[step]] action = "regenerate_certificate" ─► Event::Operator{Operator::Regenerate}
//!           action = "itl_reset"              ─► Event::Operator{Operator::ItlReset}
//!           action = "ctl_update"             ─► Event::Operator{Operator::CtlUpdate}
//!           action = "drs_backup" / "drs_restore" ─► Event::Operator{DrsBackup / DrsRestore}
//!           action = "delete_itl"             ─► Event::EraseTrust per fleet
//!  [[fleet]] itl_max_certs, … ─► PhoneCaps
//! ```

use super::super::compile::{Ctx, R};
use super::super::raw;
use super::World;
use crate::engine::Event;
use cucmsim_core::machine::Operator;
use cucmsim_core::phone::caps::PhoneCaps;
use cucmsim_core::pki::identity::CertType;
use cucmsim_core::pki::KeyProfile;
use cucmsim_core::DigestAlg;

/// The certificate types `regenerate_certificate` accepts, by scenario name.
const TYPES: [(&str, CertType); 6] = [
    ("callmanager", CertType::CallManager),
    ("tvs", CertType::Tvs),
    ("itlrecovery", CertType::ItlRecovery),
    ("tomcat", CertType::Tomcat),
    ("capf", CertType::Capf),
    ("ipsec", CertType::Ipsec),
];

impl World<'_> {
    /// Compiles one lifecycle step at `at` ms.
    pub(super) fn lifecycle_step(&mut self, s: &raw::Step, at: u64) -> R<()> {
        let action = s.action.get_ref().as_str();
        let aspan = s.action.span();
        let op = match action {
            "regenerate_certificate" => {
                self.only(action, &s.present(), &["cluster", "type", "node", "key"])?;
                self.regenerate(s)?
            }
            "itl_reset" => {
                self.only(action, &s.present(), &["cluster", "mode"])?;
                let mode = s.mode.as_ref().ok_or_else(|| {
                    self.cx.err(
                        aspan.clone(),
                        "itl_reset needs `mode` (\"localkey\" or \"remotekey\")",
                    )
                })?;
                let remote = match mode.get_ref().as_str() {
                    "localkey" => false,
                    "remotekey" => true,
                    other => {
                        return Err(self.cx.err(
                            mode.span(),
                            format!("mode must be \"localkey\" or \"remotekey\", not {other:?}"),
                        ))
                    }
                };
                Operator::ItlReset { remote }
            }
            "drs_backup" | "drs_restore" | "ctl_update" => {
                self.only(action, &s.present(), &["cluster"])?;
                match action {
                    "drs_backup" => Operator::DrsBackup,
                    "drs_restore" => Operator::DrsRestore,
                    _ => {
                        let c = self.cluster(&s.cluster, aspan.clone())?;
                        if !c.mixed_mode {
                            let span = s.cluster.as_ref().map_or(aspan.clone(), |c| c.span());
                            return Err(self.cx.err(
                                span,
                                format!(
                                    "ctl_update needs a mixed-mode cluster; {:?} is non-secure",
                                    c.name
                                ),
                            ));
                        }
                        Operator::CtlUpdate
                    }
                }
            }
            _ => {
                // delete_itl
                self.only(action, &s.present(), &["fleet"])?;
                for (first, count) in self.selected_fleets(&s.fleet)? {
                    self.events.push((at, Event::EraseTrust { first, count }));
                }
                return Ok(());
            }
        };
        let cluster = self.cluster(&s.cluster, aspan)?.name.clone();
        self.events.push((at, Event::Operator { cluster, op }));
        Ok(())
    }

    fn regenerate(&self, s: &raw::Step) -> R<Operator> {
        let aspan = s.action.span();
        let c = self.cluster(&s.cluster, aspan.clone())?;
        let ty = s.cert_type.as_ref().ok_or_else(|| {
            self.cx
                .err(aspan.clone(), "regenerate_certificate needs `type`")
        })?;
        let names: Vec<&str> = TYPES.iter().map(|(n, _)| *n).collect();
        let cert_type = TYPES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(ty.get_ref()))
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                self.cx.err(
                    ty.span(),
                    format!(
                        "unknown certificate type {:?}: expected one of {}",
                        ty.get_ref(),
                        names.join(", ")
                    ),
                )
            })?;
        let node = match &s.node {
            None => None,
            Some(n) => {
                let node = self.node_of(c, n)?;
                let publisher = &c.nodes[0].name;
                let only_pub = matches!(cert_type, CertType::ItlRecovery | CertType::Capf);
                if only_pub && &node.name != publisher {
                    return Err(self.cx.err(
                        n.span(),
                        format!("{cert_type} exists only on the publisher ({publisher:?})"),
                    ));
                }
                let cucm_only = matches!(cert_type, CertType::CallManager | CertType::Tvs);
                if cucm_only && node.imp {
                    return Err(self.cx.err(
                        n.span(),
                        format!(
                            "{:?} is an IM&P node: it has no {cert_type} certificate",
                            node.name
                        ),
                    ));
                }
                Some(node.name.clone())
            }
        };
        let key = match &s.key {
            None => None,
            Some(k) => {
                let p: KeyProfile = k
                    .get_ref()
                    .parse()
                    .map_err(|e: String| self.cx.err(k.span(), e))?;
                if !cert_type.allows(p) {
                    return Err(self.cx.err(
                        k.span(),
                        format!("{cert_type} certificates cannot use a {p} key"),
                    ));
                }
                Some(p)
            }
        };
        Ok(Operator::Regenerate {
            cert_type,
            node,
            key,
        })
    }
}

/// A fleet's model capabilities: `itl_max_certs` (default 39) and `itl_max_bytes` (default
/// 65,536) [C S10], `max_rsa_bits` (default: any) and `file_digests` (default: all) [I],
/// `security_by_default` (default true).
pub(in crate::lang) fn phone_caps(cx: &Ctx, f: &raw::Fleet) -> R<PhoneCaps> {
    let mut caps = PhoneCaps::default();
    if let Some(n) = &f.itl_max_certs {
        if !(1..=10_000).contains(n.get_ref()) {
            return Err(cx.err(n.span(), "itl_max_certs must be between 1 and 10,000"));
        }
        caps.limits.itl_max_certs = *n.get_ref() as usize;
    }
    if let Some(n) = &f.itl_max_bytes {
        if !(1024..=16 * 1024 * 1024).contains(n.get_ref()) {
            return Err(cx.err(
                n.span(),
                "itl_max_bytes must be between 1024 and 16,777,216",
            ));
        }
        caps.limits.itl_max_bytes = *n.get_ref() as usize;
    }
    if let Some(n) = &f.max_rsa_bits {
        if ![512, 1024, 2048, 3072, 4096].contains(n.get_ref()) {
            return Err(cx.err(
                n.span(),
                "max_rsa_bits must be one of 512, 1024, 2048, 3072, 4096",
            ));
        }
        caps.limits.max_rsa_bits = Some(*n.get_ref() as u32);
    }
    if let Some(sbd) = f.security_by_default {
        caps.limits.security_by_default = sbd;
    }
    if let Some(list) = &f.file_digests {
        let mut digests = vec![];
        for d in list.get_ref() {
            let alg = DigestAlg::parse(d).ok_or_else(|| {
                cx.err(
                    list.span(),
                    format!("unknown digest {d:?}: expected sha1, sha256 or sha512"),
                )
            })?;
            digests.push(alg);
        }
        if digests.is_empty() {
            return Err(cx.err(list.span(), "file_digests must name at least one digest"));
        }
        caps.digests = digests;
    }
    Ok(caps)
}
