//! The IM&P steps of the scenario language (seed 002): `imp_regenerate`,
//! `imp_restart_services`, `presence_ha`, `sip_federation`, `ipsec_trust_check`,
//! `delete_trust_certificate`, `jabber_install_certificate`, `jabber_login`. Each checks its
//! keys and names and points at the offending value. (The multi-server certificate steps are
//! in [`super::multisan`].)
//!
//! ```text
//!  [[step]] action = "imp_regenerate"          ─► Operator::Imp(ImpOp::Regenerate)
//!           action = "imp_restart_services"    ─► Operator::Imp(ImpOp::RestartServices)
//!           action = "presence_ha" / "sip_federation" ─► ImpOp::PresenceHa / SipFederation
//!           action = "ipsec_trust_check"       ─► ImpOp::IpsecTrustCheck
//!           action = "delete_trust_certificate" ─► ImpOp::DeleteTrust
//!           action = "jabber_install_certificate" ─► ImpOp::JabberInstall / JabberInstallRoot
//!           action = "jabber_login"            ─► ImpOp::JabberLogin
//! ```

use crate::engine::{ClusterDef, Event, NodeDef};
use crate::lang::compile::context::R;
use crate::lang::compile::timeline::Timeline;
use crate::lang::raw;
use cucmsim_core::machine::publisher::imp::{DeleteTarget, ImpOp};
use cucmsim_core::machine::Operator;
use cucmsim_core::pki::identity::CertType;
use cucmsim_core::pki::StoreName;

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

/// Compiles one IM&P step at `at` ms.
pub(super) fn step(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let c = t.cluster(&s.cluster, s.action.span())?;
    let op = match action {
        "imp_regenerate" => regenerate(t, c, s)?,
        "imp_restart_services" => {
            t.only(action, &s.present(), &["cluster", "type"])?;
            ImpOp::RestartServices {
                cert_type: imp_type(t, s, &TYPES)?,
            }
        }
        "presence_ha" | "sip_federation" => toggle(t, s)?,
        "ipsec_trust_check" => {
            t.only(action, &s.present(), &["cluster"])?;
            ImpOp::IpsecTrustCheck
        }
        "delete_trust_certificate" => delete_trust(t, c, s)?,
        "jabber_install_certificate"
            if s.cert_type
                .as_ref()
                .is_some_and(|t| t.get_ref() == "ca-root") =>
        {
            t.only(action, &s.present(), &["cluster", "name", "type"])?;
            ImpOp::JabberInstallRoot {
                client: jabber_name(t, s)?,
            }
        }
        "jabber_install_certificate" => jabber_install(t, c, s)?,
        _ => {
            // jabber_login
            t.only(action, &s.present(), &["cluster", "name", "node"])?;
            let client = jabber_name(t, s)?;
            let node = imp_node(t, c, s, true)?.name.clone();
            ImpOp::JabberLogin { client, node }
        }
    };
    t.events.push((
        at,
        Event::Operator {
            cluster: c.name.clone(),
            op: Operator::Imp(op),
        },
    ));
    Ok(())
}

/// `imp_regenerate`: an IM&P certificate regenerated on `node`.
fn regenerate<'a>(t: &Timeline<'a>, c: &'a ClusterDef, s: &raw::Step) -> R<ImpOp> {
    let action = s.action.get_ref().as_str();
    t.only(action, &s.present(), &["cluster", "node", "type"])?;
    let cert_type = imp_type(t, s, &TYPES)?;
    let node = imp_node(
        t,
        c,
        s,
        !matches!(cert_type, CertType::Ipsec | CertType::Tomcat),
    )?;
    Ok(ImpOp::Regenerate {
        cert_type,
        node: node.name.clone(),
    })
}

/// `presence_ha` / `sip_federation`: the feature switched on or off.
fn toggle(t: &Timeline, s: &raw::Step) -> R<ImpOp> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster", "value"])?;
    let v = s.value.as_ref().ok_or_else(|| {
        t.cx.err(
            aspan.clone(),
            format!("{action} needs `value` (true or false)"),
        )
    })?;
    let enabled = v
        .get_ref()
        .as_bool()
        .ok_or_else(|| t.cx.err(v.span(), "`value` must be true or false"))?;
    Ok(if action == "presence_ha" {
        ImpOp::PresenceHa { enabled }
    } else {
        ImpOp::SipFederation { enabled }
    })
}

/// `delete_trust_certificate`: a certificate deleted from an IM&P trust store.
fn delete_trust<'a>(t: &Timeline<'a>, c: &'a ClusterDef, s: &raw::Step) -> R<ImpOp> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(
        action,
        &s.present(),
        &["cluster", "node", "store", "certificate"],
    )?;
    let node = imp_node(t, c, s, false)?.name.clone();
    let store = s.store.as_ref().ok_or_else(|| {
        t.cx.err(aspan.clone(), "delete_trust_certificate needs `store`")
    })?;
    let name = store.get_ref().trim_end_matches(".pem");
    let target = if let Some((_, t)) = TYPES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        DeleteTarget::Identity(*t)
    } else {
        let known: Vec<&str> = STORES.iter().map(|s| s.cucm_name()).collect();
        let st = STORES
            .iter()
            .find(|s| s.cucm_name().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                t.cx.err(
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
    Ok(ImpOp::DeleteTrust {
        node,
        target,
        cn: s.certificate.as_ref().map(|c| c.get_ref().clone()),
    })
}

/// `jabber_install_certificate`: a Jabber client accepts a node's certificate.
fn jabber_install<'a>(t: &Timeline<'a>, c: &'a ClusterDef, s: &raw::Step) -> R<ImpOp> {
    let action = s.action.get_ref().as_str();
    t.only(action, &s.present(), &["cluster", "name", "node", "type"])?;
    let client = jabber_name(t, s)?;
    let cert_type = imp_type(
        t,
        s,
        &TYPES[1..2]
            .iter()
            .chain(&TYPES[4..])
            .copied()
            .collect::<Vec<_>>(),
    )?;
    let node = imp_node(t, c, s, true)?.name.clone();
    Ok(ImpOp::JabberInstall {
        client,
        node,
        cert_type,
    })
}

fn imp_type(t: &Timeline, s: &raw::Step, types: &[(&str, CertType)]) -> R<CertType> {
    let action = s.action.get_ref();
    let ty = s
        .cert_type
        .as_ref()
        .ok_or_else(|| t.cx.err(s.action.span(), format!("{action} needs `type`")))?;
    let names: Vec<&str> = types.iter().map(|(n, _)| *n).collect();
    types
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(ty.get_ref().trim_end_matches(".pem")))
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            t.cx.err(
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
fn imp_node<'a>(
    t: &Timeline<'a>,
    c: &'a ClusterDef,
    s: &raw::Step,
    imp_only: bool,
) -> R<&'a NodeDef> {
    let action = s.action.get_ref();
    let n = s
        .node
        .as_ref()
        .ok_or_else(|| t.cx.err(s.action.span(), format!("{action} needs `node`")))?;
    let node = t.node_of(c, n)?;
    if imp_only && !node.imp {
        return Err(t.cx.err(
            n.span(),
            format!("{:?} is not an IM&P node (`imp = true`)", node.name),
        ));
    }
    Ok(node)
}

fn jabber_name(t: &Timeline, s: &raw::Step) -> R<String> {
    let action = s.action.get_ref();
    let n = s.name.as_ref().ok_or_else(|| {
        t.cx.err(
            s.action.span(),
            format!("{action} needs `name` (the Jabber client)"),
        )
    })?;
    if n.get_ref().trim().is_empty() {
        return Err(t.cx.err(n.span(), "the Jabber client needs a name"));
    }
    Ok(n.get_ref().clone())
}
