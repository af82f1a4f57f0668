//! The administration steps: `restart_service`, `set_enterprise_parameter` and
//! `certificate_monitor`. Each checks its keys and names and points at the offending value.
//!
//! ```text
//!  [[step]] action = "restart_service" cluster, node?, service ─► Event::Service{Restart} per node
//!           action = "set_enterprise_parameter" cluster, name, value ─► Event::Operator{Operator::SetParameter}
//!           action = "certificate_monitor" cluster, notify_days ─► Event::Operator{Operator::CertificateMonitor}
//! ```

use crate::engine::{Event, NodeDef};
use crate::lang::compile::context::R;
use crate::lang::compile::timeline::Timeline;
use crate::lang::compile::values::service;
use crate::lang::raw;
use cucmsim_core::machine::{Operator, ServiceAction};

/// `restart_service`: `service` restarts on `node` (default: every node running it).
pub(super) fn restart_service(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster", "node", "service"])?;
    let c = t.cluster(&s.cluster, aspan.clone())?;
    let svc = s
        .service
        .as_ref()
        .ok_or_else(|| t.cx.err(aspan, "restart_service needs `service`"))?;
    let svc_k = service(t.cx, svc)?;
    let nodes: Vec<&NodeDef> = match &s.node {
        Some(n) => vec![t.node_of(c, n)?],
        None => c
            .nodes
            .iter()
            .filter(|n| n.services.contains(&svc_k))
            .collect(),
    };
    for n in nodes {
        t.events.push((
            at,
            Event::Service {
                host: n.name.clone(),
                service: svc_k,
                action: ServiceAction::Restart,
            },
        ));
    }
    Ok(())
}

/// `set_enterprise_parameter`: one enterprise parameter of `cluster` changes.
pub(super) fn set_enterprise_parameter(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster", "name", "value"])?;
    let c = t.cluster(&s.cluster, aspan.clone())?.name.clone();
    let name = s.name.as_ref().ok_or_else(|| {
        t.cx.err(aspan.clone(), "set_enterprise_parameter needs `name`")
    })?;
    let known = [
        "rollback_to_pre_8",
        "phone_interaction_on_cert_update",
        "tftp_file_signature",
        "ipv6",
        "endpoint_advanced_encryption",
    ];
    if !known.contains(&name.get_ref().as_str()) {
        return Err(t.cx.err(
            name.span(),
            format!(
                "unknown parameter {:?}: expected one of {}",
                name.get_ref(),
                known.join(", ")
            ),
        ));
    }
    let value = s
        .value
        .as_ref()
        .ok_or_else(|| t.cx.err(aspan, "set_enterprise_parameter needs `value`"))?;
    let text = match value.get_ref() {
        toml::Value::String(v) => v.clone(),
        toml::Value::Boolean(b) => b.to_string(),
        other => {
            return Err(t.cx.err(
                value.span(),
                format!(
                    "value must be a string or a boolean, not {}",
                    other.type_str()
                ),
            ))
        }
    };
    parameter_value(t, name.get_ref(), &text, value.span())?;
    t.events.push((
        at,
        Event::Operator {
            cluster: c,
            op: Operator::SetParameter {
                name: name.get_ref().clone(),
                value: text,
            },
        },
    ));
    Ok(())
}

/// `value` is one of the values of enterprise parameter `name`.
fn parameter_value(t: &Timeline, name: &str, value: &str, span: std::ops::Range<usize>) -> R<()> {
    let v = value.to_ascii_lowercase();
    let (ok, expected) = match name {
        "phone_interaction_on_cert_update" => (
            matches!(v.as_str(), "automatic" | "manual"),
            "\"automatic\" or \"manual\"",
        ),
        "tftp_file_signature" => (
            cucmsim_core::DigestAlg::parse(value).is_some(),
            "\"sha1\", \"sha256\" or \"sha512\"",
        ),
        _ => (
            matches!(
                v.as_str(),
                "true" | "false" | "1" | "0" | "yes" | "no" | "on" | "off"
            ),
            "true or false",
        ),
    };
    if ok {
        Ok(())
    } else {
        Err(t.cx.err(
            span,
            format!("{name} cannot be {value:?}: expected {expected}"),
        ))
    }
}

/// `certificate_monitor`: the Certificate Monitor warns `notify_days` before expiry.
pub(super) fn certificate_monitor(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster", "notify_days"])?;
    let c = t.cluster(&s.cluster, aspan.clone())?.name.clone();
    let d = s
        .notify_days
        .as_ref()
        .ok_or_else(|| t.cx.err(aspan, "certificate_monitor needs `notify_days`"))?;
    if !(1..=3650).contains(d.get_ref()) {
        return Err(t.cx.err(d.span(), "notify_days must be 1–3650"));
    }
    let op = Operator::CertificateMonitor {
        notify_days: *d.get_ref() as u32,
    };
    t.events.push((at, Event::Operator { cluster: c, op }));
    Ok(())
}

/// `serve_unsigned_configs`: the cluster's TFTP serves configuration files unsigned (`value`,
/// default true) [I: not a CUCM setting — what a pre-8.0 or third-party TFTP does]. Phones
/// holding the blank rollback ITL and no CTL accept them (§2.5, F31); the others refuse them.
pub(super) fn serve_unsigned_configs(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster", "value"])?;
    let c = t.cluster(&s.cluster, aspan)?.name.clone();
    let on = match s.value.as_ref().map(|v| (v.get_ref(), v.span())) {
        None => true,
        Some((toml::Value::Boolean(b), _)) => *b,
        Some((other, span)) => {
            return Err(t.cx.err(
                span,
                format!("value must be true or false, not {}", other.type_str()),
            ))
        }
    };
    t.events.push((
        at,
        Event::Operator {
            cluster: c,
            op: Operator::SetParameter {
                name: "serve_unsigned_configs".into(),
                value: on.to_string(),
            },
        },
    ));
    Ok(())
}
