//! The CAPF steps: `capf_operation` (a Bulk Administration "Update Phones" of CAPF settings,
//! with Apply Config), `capf_set_keepalive`, `capf_offline_sign` and `capf_cli`. Each checks
//! its keys and names and points at the offending value.
//!
//! ```text
//!  [[step]] action = "capf_operation" cluster, fleet?, operation, auth_mode, …
//!             ─► Event::Operator{Operator::CapfUpdate} + Event::ResetPhones per fleet (Apply Config)
//!           action = "capf_set_keepalive" cluster, minutes ─► Event::Operator{Operator::CapfKeepalive}
//!           action = "capf_offline_sign" cluster, ca      ─► Event::Operator{Operator::CapfOfflineSign}
//!           action = "capf_cli" cluster, command          ─► Event::Operator{Operator::CapfCli}
//! ```

use crate::engine::spec::CaKindDef;
use crate::engine::{Event, FleetDef};
use crate::lang::compile::context::R;
use crate::lang::compile::timeline::{device_name, Timeline};
use crate::lang::compile::values::security_mode;
use crate::lang::raw::{self, S};
use cucmsim_core::capf::device::check_auth_string;
use cucmsim_core::capf::{CapfAuth, CertOperation, CertPrecedence, Curve, KeyOrder};
use cucmsim_core::machine::{CapfUpdate, Operator};
use std::sync::Arc;

/// `capf_operation`: a Bulk Administration "Update Phones" of CAPF settings on the fleets'
/// devices, with Apply Config (the phones reset) unless `apply_config = false`.
pub(super) fn operation(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let aspan = s.action.span();
    t.only(
        "capf_operation",
        &s.present(),
        &[
            "cluster",
            "fleet",
            "operation",
            "auth_mode",
            "auth_string",
            "key_order",
            "rsa_key_size",
            "ec_key_size",
            "completes_by",
            "security_profile",
            "apply_config",
            "over",
            "lsc_expires_before",
        ],
    )?;
    let c = t.cluster(&s.cluster, aspan.clone())?.name.clone();
    let operation = cert_operation(t, s)?;
    let (auth, unique) = auth(t, s)?;
    let (key_order, rsa_bits, ec_curve) = keys(t, s)?;
    let completes_by = s.completes_by.as_ref().map(|d| t.cx.ms(d)).transpose()?;
    let security_mode = s
        .security_profile
        .as_ref()
        .map(|p| security_mode(t.cx, p))
        .transpose()?;
    // Without `fleet`: the fleets whose phones start on this cluster (its database).
    let home = t.clusters.iter().position(|x| x.name == c);
    let fleets: Vec<&FleetDef> = match &s.fleet {
        Some(f) => vec![t.fleet(f)?],
        None => t
            .fleets
            .iter()
            .filter(|f| Some(f.cluster) == home)
            .collect(),
    };
    let devices = fleets
        .iter()
        .flat_map(|f| {
            (0..f.count).map(move |i| (device_name(f, i), f.model.clone(), f.capf.capf_v3))
        })
        .collect();
    let update = CapfUpdate {
        devices,
        operation,
        auth,
        unique_auth_strings: unique,
        key_order,
        rsa_bits,
        ec_curve,
        completes_by: completes_by.map(|ms| t.cx.epoch.plus_s((ms / 1000) as i64)),
        security_mode,
        lsc_expires_before: s
            .lsc_expires_before
            .as_ref()
            .map(|d| t.cx.ms(d))
            .transpose()?
            .map(|ms| t.cx.epoch.plus_s((ms / 1000) as i64)),
    };
    t.events.push((
        at,
        Event::Operator {
            cluster: c,
            op: Operator::CapfUpdate(Arc::new(update)),
        },
    ));
    apply_config(t, s, at, &fleets)
}

/// `capf_operation needs `what``, at the action.
fn need(t: &Timeline, s: &raw::Step, v: &Option<S<String>>, what: &str) -> R<S<String>> {
    v.clone().ok_or_else(|| {
        t.cx.err(s.action.span(), format!("capf_operation needs `{what}`"))
    })
}

/// `operation`: install (upgrade), delete, troubleshoot or none.
fn cert_operation(t: &Timeline, s: &raw::Step) -> R<CertOperation> {
    let op = need(t, s, &s.operation, "operation")?;
    Ok(match op.get_ref().as_str() {
        "install" | "upgrade" | "install/upgrade" => CertOperation::InstallUpgrade,
        "delete" => CertOperation::Delete,
        "troubleshoot" => CertOperation::Troubleshoot,
        "none" => CertOperation::None,
        other => {
            return Err(t.cx.err(
                op.span(),
                format!("operation {other:?}: expected install, delete, troubleshoot or none"),
            ))
        }
    })
}

/// `auth_mode` and `auth_string`; `true` when every device gets its own string ("unique").
fn auth(t: &Timeline, s: &raw::Step) -> R<(CapfAuth, bool)> {
    let mode = need(t, s, &s.auth_mode, "auth_mode")?;
    let mut unique = false;
    let auth = match mode.get_ref().as_str() {
        "null_string" => CapfAuth::NullString,
        "existing_lsc" => CapfAuth::ExistingCert(CertPrecedence::Lsc),
        "existing_mic" => CapfAuth::ExistingCert(CertPrecedence::Mic),
        "auth_string" => {
            let a = need(t, s, &s.auth_string, "auth_string")?;
            if a.get_ref() == "unique" {
                unique = true;
                CapfAuth::AuthString(String::new())
            } else {
                check_auth_string(a.get_ref()).map_err(|e| t.cx.err(a.span(), e.to_string()))?;
                CapfAuth::AuthString(a.get_ref().clone())
            }
        }
        other => return Err(t.cx.err(mode.span(), format!("auth_mode {other:?}: expected auth_string, null_string, existing_lsc or existing_mic"))),
    };
    if let (Some(a), false) = (&s.auth_string, matches!(auth, CapfAuth::AuthString(_))) {
        return Err(t.cx.err(
            a.span(),
            "auth_string goes with auth_mode = \"auth_string\"",
        ));
    }
    Ok((auth, unique))
}

/// `key_order`, `rsa_key_size` and `ec_key_size` (defaults: RSA only, 2048, P-256).
fn keys(t: &Timeline, s: &raw::Step) -> R<(KeyOrder, u16, Curve)> {
    let key_order = match s
        .key_order
        .as_ref()
        .map(|k| (k.get_ref().as_str(), k.span()))
    {
        None | Some(("rsa_only", _)) => KeyOrder::RsaOnly,
        Some(("ec_only", _)) => KeyOrder::EcOnly,
        Some(("ec_preferred", _)) => KeyOrder::EcPreferredRsaBackup,
        Some((other, span)) => {
            return Err(t.cx.err(
                span,
                format!("key_order {other:?}: expected rsa_only, ec_only or ec_preferred"),
            ))
        }
    };
    let rsa_bits = match &s.rsa_key_size {
        None => 2048,
        Some(v) if [512, 1024, 2048, 3072, 4096].contains(v.get_ref()) => *v.get_ref() as u16,
        Some(v) => {
            return Err(t.cx.err(
                v.span(),
                "rsa_key_size must be 512, 1024, 2048, 3072 or 4096",
            ))
        }
    };
    let ec_curve = match s.ec_key_size.as_ref().map(|v| (*v.get_ref(), v.span())) {
        None | Some((256, _)) => Curve::P256,
        Some((384, _)) => Curve::P384,
        Some((521, _)) => Curve::P521,
        Some((_, span)) => return Err(t.cx.err(span, "ec_key_size must be 256, 384 or 521")),
    };
    Ok((key_order, rsa_bits, ec_curve))
}

/// Apply Config: the fleets' phones reset (spread `over` a time) unless `apply_config = false`.
fn apply_config(t: &mut Timeline, s: &raw::Step, at: u64, fleets: &[&FleetDef]) -> R<()> {
    let over_ms = s
        .over
        .as_ref()
        .map(|o| t.cx.ms(o))
        .transpose()?
        .unwrap_or(0);
    if s.apply_config.as_ref().is_none_or(|a| *a.get_ref()) {
        for f in fleets {
            t.events.push((
                at,
                Event::ResetPhones {
                    first: f.first,
                    count: f.count,
                    over_ms,
                },
            ));
        }
    } else if let Some(o) = &s.over {
        return Err(t.cx.err(
            o.span(),
            "`over` spreads Apply Config's resets; it needs apply_config = true",
        ));
    }
    Ok(())
}

/// `capf_set_keepalive`: `utils capf set keep_alive` (5–60 minutes).
pub(super) fn set_keepalive(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster", "minutes"])?;
    let c = t.cluster(&s.cluster, aspan.clone())?.name.clone();
    let m = s
        .minutes
        .as_ref()
        .ok_or_else(|| t.cx.err(aspan, "capf_set_keepalive needs `minutes` (5–60)"))?;
    if !(5..=60).contains(m.get_ref()) {
        return Err(t
            .cx
            .err(m.span(), "utils capf set keep_alive takes 5–60 minutes"));
    }
    let op = Operator::CapfKeepalive {
        minutes: *m.get_ref() as u32,
    };
    t.events.push((at, Event::Operator { cluster: c, op }));
    Ok(())
}

/// `capf_offline_sign`: the offline CA signs the CSRs CAPF has collected.
pub(super) fn offline_sign(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster", "ca"])?;
    let c = t.cluster(&s.cluster, aspan.clone())?.name.clone();
    let ca =
        s.ca.as_ref()
            .ok_or_else(|| t.cx.err(aspan, "capf_offline_sign needs `ca`"))?;
    if !t
        .cas
        .iter()
        .any(|x| &x.name == ca.get_ref() && matches!(x.kind, CaKindDef::Offline))
    {
        return Err(t.cx.err(
            ca.span(),
            format!("no offline [[ca]] named {:?}", ca.get_ref()),
        ));
    }
    let op = Operator::CapfOfflineSign {
        ca: ca.get_ref().clone(),
    };
    t.events.push((at, Event::Operator { cluster: c, op }));
    Ok(())
}

/// `capf_cli`: one of the CAPF CLI commands.
pub(super) fn cli(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster", "command"])?;
    let c = t.cluster(&s.cluster, aspan.clone())?.name.clone();
    let cmd = s
        .command
        .as_ref()
        .ok_or_else(|| t.cx.err(aspan, "capf_cli needs `command`"))?;
    let known = ["csr list", "stale-lsc list", "stale-lsc delete all"];
    if !known.contains(&cmd.get_ref().as_str()) {
        return Err(t.cx.err(
            cmd.span(),
            format!(
                "command {:?}: expected one of {}",
                cmd.get_ref(),
                known.join(", ")
            ),
        ));
    }
    let op = Operator::CapfCli {
        command: cmd.get_ref().clone(),
    };
    t.events.push((at, Event::Operator { cluster: c, op }));
    Ok(())
}
