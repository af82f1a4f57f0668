//! The IM&P steps of the scenario language (seed 002): `imp_regenerate`,
//! `imp_restart_services`, `presence_ha`, `sip_federation`, `ipsec_trust_check`,
//! `delete_trust_certificate`, `jabber_install_certificate`, `jabber_login`. Each checks its
//! keys and names and points at the offending value.
//!
//! ```text
//!  [[step]] action = "imp_regenerate"          ─► Operator::Imp(ImpOp::Regenerate)
//!           action = "imp_restart_services"    ─► Operator::Imp(ImpOp::RestartServices)
//!           action = "presence_ha" / "sip_federation" ─► ImpOp::PresenceHa / SipFederation
//!           action = "ipsec_trust_check"       ─► ImpOp::IpsecTrustCheck
//!           action = "delete_trust_certificate" ─► ImpOp::DeleteTrust
//!           action = "jabber_install_certificate" ─► ImpOp::JabberInstall
//!           action = "jabber_login"            ─► ImpOp::JabberLogin
//!           action = "multi_san_csr" / "upload_ca_certificate" / "upload_multi_san"
//!                                               ─► ImpOp::MultiSanCsr / UploadCaCertificate / UploadMultiSan
//!           action = "multi_san_restart_services" ─► ImpOp::MultiSanRestart
//! ```

use super::super::compile::R;
use super::super::raw;
use super::World;
use crate::engine::{ClusterDef, Event, NodeDef};
use cucmsim_core::machine::publisher::imp::{DeleteTarget, ImpOp};
use cucmsim_core::machine::publisher::multisan::CSCUP28852_PERIOD_MS;
use cucmsim_core::machine::Operator;
use cucmsim_core::pki::identity::CertType;
use cucmsim_core::pki::StoreName;

/// The steps of this module.
pub(super) const ACTIONS: [&str; 12] = [
    "imp_regenerate",
    "imp_restart_services",
    "presence_ha",
    "sip_federation",
    "ipsec_trust_check",
    "delete_trust_certificate",
    "jabber_install_certificate",
    "jabber_login",
    "multi_san_csr",
    "upload_ca_certificate",
    "upload_multi_san",
    "multi_san_restart_services",
];

/// The IM&P certificate types, by scenario name.
const TYPES: [(&str, CertType); 5] = [
    ("cup", CertType::Cup),
    ("cup-xmpp", CertType::CupXmpp),
    ("cup-xmpp-s2s", CertType::CupXmppS2s),
    ("ipsec", CertType::Ipsec),
    ("tomcat", CertType::Tomcat),
];

/// The trust stores `delete_trust_certificate` accepts.
const STORES: [StoreName; 5] = [
    StoreName::CupTrust,
    StoreName::CupXmppTrust,
    StoreName::CupXmppS2sTrust,
    StoreName::IpsecTrust,
    StoreName::TomcatTrust,
];

impl<'a> World<'a> {
    /// Compiles one IM&P step at `at` ms.
    pub(super) fn imp_step(&mut self, s: &raw::Step, at: u64) -> R<()> {
        let action = s.action.get_ref().as_str();
        let aspan = s.action.span();
        let c = self.cluster(&s.cluster, aspan.clone())?;
        let op = match action {
            "imp_regenerate" => {
                self.only(action, &s.present(), &["cluster", "node", "type"])?;
                let cert_type = self.imp_type(s, &TYPES)?;
                let node = self.imp_node(
                    c,
                    s,
                    !matches!(cert_type, CertType::Ipsec | CertType::Tomcat),
                )?;
                ImpOp::Regenerate {
                    cert_type,
                    node: node.name.clone(),
                }
            }
            "imp_restart_services" => {
                self.only(action, &s.present(), &["cluster", "type"])?;
                ImpOp::RestartServices {
                    cert_type: self.imp_type(s, &TYPES)?,
                }
            }
            "presence_ha" | "sip_federation" => {
                self.only(action, &s.present(), &["cluster", "value"])?;
                let v = s.value.as_ref().ok_or_else(|| {
                    self.cx.err(
                        aspan.clone(),
                        format!("{action} needs `value` (true or false)"),
                    )
                })?;
                let enabled = v
                    .get_ref()
                    .as_bool()
                    .ok_or_else(|| self.cx.err(v.span(), "`value` must be true or false"))?;
                if action == "presence_ha" {
                    ImpOp::PresenceHa { enabled }
                } else {
                    ImpOp::SipFederation { enabled }
                }
            }
            "ipsec_trust_check" => {
                self.only(action, &s.present(), &["cluster"])?;
                ImpOp::IpsecTrustCheck
            }
            "delete_trust_certificate" => {
                self.only(
                    action,
                    &s.present(),
                    &["cluster", "node", "store", "certificate"],
                )?;
                let node = self.imp_node(c, s, false)?.name.clone();
                let store = s.store.as_ref().ok_or_else(|| {
                    self.cx
                        .err(aspan.clone(), "delete_trust_certificate needs `store`")
                })?;
                let name = store.get_ref().trim_end_matches(".pem");
                let target = if let Some((_, t)) =
                    TYPES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))
                {
                    DeleteTarget::Identity(*t)
                } else {
                    let known: Vec<&str> = STORES.iter().map(|s| s.cucm_name()).collect();
                    let st = STORES
                        .iter()
                        .find(|s| s.cucm_name().eq_ignore_ascii_case(name))
                        .ok_or_else(|| {
                            self.cx.err(
                                store.span(),
                                format!(
                                    "unknown store {:?}: expected one of {}",
                                    store.get_ref(),
                                    known.join(", ")
                                ),
                            )
                        })?;
                    DeleteTarget::Trust(*st)
                };
                ImpOp::DeleteTrust {
                    node,
                    target,
                    cn: s.certificate.as_ref().map(|c| c.get_ref().clone()),
                }
            }
            "jabber_install_certificate"
                if s.cert_type
                    .as_ref()
                    .is_some_and(|t| t.get_ref() == "ca-root") =>
            {
                self.only(action, &s.present(), &["cluster", "name", "type"])?;
                ImpOp::JabberInstallRoot {
                    client: self.jabber_name(s)?,
                }
            }
            "multi_san_csr" => {
                self.only(action, &s.present(), &["cluster", "type", "mode"])?;
                let cert_type = self.multi_san_type(s, false)?;
                let cscus47235 = self.defect_mode(s, &["CSCus47235"])?.is_some();
                ImpOp::MultiSanCsr {
                    cert_type,
                    cscus47235,
                }
            }
            "upload_ca_certificate" => {
                self.only(action, &s.present(), &["cluster", "certificate", "type"])?;
                let cert_type = self.multi_san_type(s, true)?;
                let c = s.certificate.as_ref().ok_or_else(|| {
                    self.cx.err(
                        aspan.clone(),
                        "upload_ca_certificate needs `certificate` (\"root\" or \"intermediate\")",
                    )
                })?;
                let intermediate = match c.get_ref().as_str() {
                    "root" => false,
                    "intermediate" => true,
                    other => {
                        return Err(self.cx.err(
                            c.span(),
                            format!(
                                "certificate must be \"root\" or \"intermediate\", not {other:?}"
                            ),
                        ))
                    }
                };
                ImpOp::UploadCaCertificate {
                    cert_type,
                    intermediate,
                }
            }
            "upload_multi_san" => {
                self.only(action, &s.present(), &["cluster", "mode", "type", "period"])?;
                let cert_type = self.multi_san_type(s, true)?;
                let mode = self.defect_mode(s, &["CSCur97909", "CSCup28852"])?;
                let cscup28852 = mode == Some("CSCup28852");
                if let (true, Some(m)) = (cscup28852 && cert_type != CertType::CallManager, &s.mode)
                {
                    return Err(self.cx.err(
                            m.span(),
                            "CSCup28852 is a defect of the CallManager multi-server certificate: use it with type = \"callmanager\"",
                        ));
                }
                let period_ms = match &s.period {
                        Some(p) if !cscup28852 => {
                            return Err(self.cx.err(
                                p.span(),
                                "`period` is the period of CSCup28852's reset loop: give it with mode = \"CSCup28852\"",
                            ))
                        }
                        Some(p) => {
                            let ms = self.cx.ms(p)?;
                            if ms == 0 {
                                return Err(self.cx.err(p.span(), "`period` must be positive"));
                            }
                            ms
                        }
                        None => CSCUP28852_PERIOD_MS,
                    };
                ImpOp::UploadMultiSan {
                    cert_type,
                    cscur97909: mode == Some("CSCur97909"),
                    cscup28852_ms: cscup28852.then_some(period_ms),
                }
            }
            "multi_san_restart_services" => {
                self.only(action, &s.present(), &["cluster", "node"])?;
                let n = s.node.as_ref().ok_or_else(|| {
                    self.cx
                        .err(aspan.clone(), "multi_san_restart_services needs `node`")
                })?;
                let node = self.node_of(c, n)?;
                if node.imp {
                    return Err(self.cx.err(
                            n.span(),
                            format!(
                                "{:?} is an IM&P node: the CallManager multi-server certificate is on CUCM nodes only",
                                node.name
                            ),
                        ));
                }
                ImpOp::MultiSanRestart {
                    node: node.name.clone(),
                }
            }
            "jabber_install_certificate" => {
                self.only(action, &s.present(), &["cluster", "name", "node", "type"])?;
                let client = self.jabber_name(s)?;
                let cert_type = self.imp_type(
                    s,
                    &TYPES[1..2]
                        .iter()
                        .chain(&TYPES[4..])
                        .copied()
                        .collect::<Vec<_>>(),
                )?;
                let node = self.imp_node(c, s, true)?.name.clone();
                ImpOp::JabberInstall {
                    client,
                    node,
                    cert_type,
                }
            }
            _ => {
                // jabber_login
                self.only(action, &s.present(), &["cluster", "name", "node"])?;
                let client = self.jabber_name(s)?;
                let node = self.imp_node(c, s, true)?.name.clone();
                ImpOp::JabberLogin { client, node }
            }
        };
        self.events.push((
            at,
            Event::Operator {
                cluster: c.name.clone(),
                op: Operator::Imp(op),
            },
        ));
        Ok(())
    }

    /// The multi-server `type`: "tomcat" or "callmanager" (defaulting to tomcat when
    /// `optional`).
    fn multi_san_type(&self, s: &raw::Step, optional: bool) -> R<CertType> {
        let action = s.action.get_ref();
        let Some(ty) = s.cert_type.as_ref() else {
            if optional {
                return Ok(CertType::Tomcat);
            }
            return Err(self.cx.err(
                s.action.span(),
                format!("{action} needs `type` (\"tomcat\" or \"callmanager\")"),
            ));
        };
        match ty.get_ref().as_str() {
            "tomcat" => Ok(CertType::Tomcat),
            "callmanager" => Ok(CertType::CallManager),
            other => Err(self.cx.err(
                ty.span(),
                format!(
                    "unknown multi-server type {other:?}: expected \"tomcat\" or \"callmanager\""
                ),
            )),
        }
    }

    /// The step's `mode`, one of the defects `known` (or none).
    fn defect_mode(&self, s: &raw::Step, known: &[&'static str]) -> R<Option<&'static str>> {
        let Some(m) = &s.mode else {
            return Ok(None);
        };
        known
            .iter()
            .find(|k| **k == m.get_ref().as_str())
            .map(|k| Some(*k))
            .ok_or_else(|| {
                self.cx.err(
                    m.span(),
                    format!(
                        "mode {:?}: the known defects of {} are {}",
                        m.get_ref(),
                        s.action.get_ref(),
                        known
                            .iter()
                            .map(|k| format!("{k:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    }

    fn imp_type(&self, s: &raw::Step, types: &[(&str, CertType)]) -> R<CertType> {
        let action = s.action.get_ref();
        let ty = s.cert_type.as_ref().ok_or_else(|| {
            self.cx
                .err(s.action.span(), format!("{action} needs `type`"))
        })?;
        let names: Vec<&str> = types.iter().map(|(n, _)| *n).collect();
        types
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(ty.get_ref().trim_end_matches(".pem")))
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
            })
    }

    /// The step's `node`, which must be an IM&P node when `imp_only`.
    fn imp_node(&self, c: &'a ClusterDef, s: &raw::Step, imp_only: bool) -> R<&'a NodeDef> {
        let action = s.action.get_ref();
        let n = s.node.as_ref().ok_or_else(|| {
            self.cx
                .err(s.action.span(), format!("{action} needs `node`"))
        })?;
        let node = self.node_of(c, n)?;
        if imp_only && !node.imp {
            return Err(self.cx.err(
                n.span(),
                format!("{:?} is not an IM&P node (`imp = true`)", node.name),
            ));
        }
        Ok(node)
    }

    fn jabber_name(&self, s: &raw::Step) -> R<String> {
        let action = s.action.get_ref();
        let n = s.name.as_ref().ok_or_else(|| {
            self.cx.err(
                s.action.span(),
                format!("{action} needs `name` (the Jabber client)"),
            )
        })?;
        if n.get_ref().trim().is_empty() {
            return Err(self.cx.err(n.span(), "the Jabber client needs a name"));
        }
        Ok(n.get_ref().clone())
    }
}
