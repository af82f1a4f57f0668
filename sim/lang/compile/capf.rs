//! CAPF in a scenario: `[cluster.capf]` (the service model, the LSC issuer, the Online CA
//! service parameters), the `[[ca]]` tables of CAs outside the clusters, and a fleet's CAPF
//! keys (`auth_string`, `capf_v3`, `keygen`, `ip_mode`, `ip_addresses`).
//!
//! ```text
//!  [[ca]] name, kind = "online" | "offline", … ──cas──► Vec<CaDef>
//!  [cluster.capf] issuer, ca, workers, …       ──capf_def──► CapfDef (issuer resolved to a [[ca]])
//!  [[fleet]] auth_string, ip_mode, …           ──fleet_capf──► FleetCapf (address families tried, in order)
//! ```

use super::context::{Ctx, R};
use super::values::{families_of, service_us};
use crate::engine::spec::{CaDef, CaKindDef, CapfDef, FleetCapf, IssuerDef};
use crate::engine::ClusterDef;
use crate::lang::raw::{self, Dur, S};
use cucmsim_core::capf::ca::OnlineCaSettings;
use cucmsim_core::capf::ipv6::{
    attempt_order, AddressFamily, Addresses, IpMode, Ipv6Policy, ParseError,
};
use cucmsim_core::pki::KeyUsage;

/// `[cluster.capf]`: each key overrides one default of [`CapfDef`].
pub(super) fn capf_def(cx: &Ctx, t: &raw::Capf, cas: &[CaDef]) -> R<CapfDef> {
    let mut d = CapfDef {
        issuer: issuer(cx, t, cas)?,
        ..CapfDef::default()
    };
    let m = &mut d.model;
    let int = |v: &S<i64>, lo: i64, hi: i64, what: &str| -> R<u32> {
        if (lo..=hi).contains(v.get_ref()) {
            Ok(*v.get_ref() as u32)
        } else {
            Err(cx.err(v.span(), format!("{what} must be between {lo} and {hi}")))
        }
    };
    if let Some(v) = &t.max_sessions {
        m.max_sessions = int(v, 0, 1_000_000, "max_sessions (0: unlimited)")?;
    }
    if let Some(v) = &t.queue_limit {
        m.queue_limit = int(v, 0, 10_000_000, "queue_limit")?;
    }
    if let Some(v) = &t.workers {
        m.workers = int(v, 1, 10_000, "workers")?;
    }
    let us = |d: &S<Dur>| service_us(cx, d);
    if let Some(v) = &t.handshake {
        m.handshake_us = us(v)?;
    }
    if let Some(v) = &t.issue {
        m.issue_us = us(v)?;
    }
    if let Some(v) = &t.keygen_timeout {
        m.keygen_timeout_ms = cx.ms(v)?;
        if m.keygen_timeout_ms == 0 {
            return Err(cx.err(v.span(), "keygen_timeout must be longer than 0"));
        }
    }
    if let Some(v) = &t.keepalive {
        m.keepalive_ms = cx.ms(v)?;
        if !(5 * 60_000..=60 * 60_000).contains(&m.keepalive_ms) {
            return Err(cx.err(
                v.span(),
                "keepalive must be 5–60 min (utils capf set keep_alive)",
            ));
        }
    }
    if let Some(v) = &t.validity_days {
        d.validity_days = int(
            v,
            1,
            1825,
            "validity_days (Duration Of Certificate Validity)",
        )?;
    }
    d.issue_once = t.issue_once.unwrap_or(false);
    if let Some(c) = &t.certificate {
        d.legacy_certificate = match c.get_ref().as_str() {
            "ca" => false,
            "legacy" => true,
            other => {
                return Err(cx.err(
                    c.span(),
                    format!("certificate must be \"ca\" (CA:TRUE, keyCertSign) or \"legacy\" (neither), not {other:?}"),
                ))
            }
        };
    }
    if let Some(a) = &t.addresses {
        d.addresses = families_of(cx, a)?;
    }
    Ok(d)
}

/// `issuer`, `ca` and the Online CA service parameters of `[cluster.capf]`.
fn issuer(cx: &Ctx, t: &raw::Capf, cas: &[CaDef]) -> R<IssuerDef> {
    let kind = t.issuer.as_ref().map(|i| (i.get_ref().as_str(), i.span()));
    let online_keys = [
        t.ca_hostname.is_some(),
        t.ca_port.is_some(),
        t.ca_template.is_some(),
        t.ca_username.is_some(),
        t.ca_password.is_some(),
    ];
    let find = |want_online: bool| -> R<String> {
        let Some(name) = &t.ca else {
            let span = t.issuer.as_ref().map_or(0..0, |i| i.span());
            return Err(cx.err(span, "this issuer needs `ca` (the name of a [[ca]])"));
        };
        let found = cas.iter().find(|c| &c.name == name.get_ref());
        match found {
            Some(c) if matches!(c.kind, CaKindDef::Online(_)) == want_online => Ok(c.name.clone()),
            Some(_) => Err(cx.err(
                name.span(),
                format!(
                    "CA {:?} is not an {} CA",
                    name.get_ref(),
                    if want_online { "online" } else { "offline" }
                ),
            )),
            None => Err(cx.err(name.span(), format!("no [[ca]] named {:?}", name.get_ref()))),
        }
    };
    let out = match kind {
        None | Some(("capf", _)) => {
            if let Some(c) = &t.ca {
                return Err(cx.err(
                    c.span(),
                    "`ca` goes with issuer = \"online_ca\" or \"offline_ca\"",
                ));
            }
            IssuerDef::Capf
        }
        Some(("online_ca", _)) => IssuerDef::Online {
            ca: find(true)?,
            hostname: t.ca_hostname.clone(),
            port: match &t.ca_port {
                None => None,
                Some(p) if (1..=65535).contains(p.get_ref()) => Some(*p.get_ref() as u16),
                Some(p) => return Err(cx.err(p.span(), "ca_port must be 1–65535")),
            },
            template: t.ca_template.clone(),
            username: t.ca_username.clone(),
            password: t.ca_password.clone(),
        },
        Some(("offline_ca", _)) => IssuerDef::Offline { ca: find(false)? },
        Some((other, span)) => {
            return Err(cx.err(
                span,
                format!("issuer {other:?}: expected \"capf\", \"online_ca\" or \"offline_ca\""),
            ))
        }
    };
    if !matches!(out, IssuerDef::Online { .. }) && online_keys.iter().any(|k| *k) {
        let span = t.issuer.as_ref().map_or(0..0, |i| i.span());
        return Err(cx.err(span, "ca_hostname, ca_port, ca_template, ca_username and ca_password go with issuer = \"online_ca\""));
    }
    Ok(out)
}

/// `[[ca]]` tables.
pub(super) fn cas(cx: &Ctx, raw: &[S<raw::Ca>]) -> R<Vec<CaDef>> {
    let mut out: Vec<CaDef> = vec![];
    for c in raw {
        let c = c.get_ref();
        let name = c.name.get_ref().clone();
        if name.is_empty() || out.iter().any(|o| o.name == name) {
            return Err(cx.err(
                c.name.span(),
                format!("CA name {name:?} is empty or already used"),
            ));
        }
        let kind = match c.kind.get_ref().as_str() {
            "offline" => {
                let stray = c.port.is_some()
                    || c.username.is_some()
                    || c.password.is_some()
                    || c.template.is_some()
                    || c.english.is_some()
                    || c.key_usage.is_some()
                    || c.validity_days.is_some();
                if stray {
                    return Err(cx.err(c.kind.span(), "an offline CA takes only `name` and `kind`"));
                }
                CaKindDef::Offline
            }
            "online" => CaKindDef::Online(online_ca(cx, c, &name)?),
            other => {
                return Err(cx.err(
                    c.kind.span(),
                    format!("CA kind {other:?}: expected \"online\" or \"offline\""),
                ))
            }
        };
        out.push(CaDef { name, kind });
    }
    Ok(out)
}

/// An online `[[ca]]`'s settings (its hostname is its name).
fn online_ca(cx: &Ctx, c: &raw::Ca, name: &str) -> R<OnlineCaSettings> {
    let mut s = OnlineCaSettings {
        hostname: name.to_string(),
        ..OnlineCaSettings::default()
    };
    if let Some(p) = &c.port {
        if !(1..=65535).contains(p.get_ref()) {
            return Err(cx.err(p.span(), "port must be 1–65535"));
        }
        s.port = *p.get_ref() as u16;
    }
    if let Some(u) = &c.username {
        s.username = u.clone();
    }
    if let Some(p) = &c.password {
        s.password = p.clone();
    }
    s.english = c.english.unwrap_or(true);
    let template = &mut s.templates[0];
    if let Some(t) = &c.template {
        template.name = t.clone();
    }
    if let Some(v) = &c.validity_days {
        if !(1..=1825).contains(v.get_ref()) {
            return Err(cx.err(v.span(), "validity_days must be 1–1825"));
        }
        template.validity_days = *v.get_ref() as u32;
    }
    if let Some(ku) = &c.key_usage {
        template.key_usage = ku
            .get_ref()
            .iter()
            .map(|k| match k.as_str() {
                "digital_signature" => Ok(KeyUsage::DigitalSignature),
                "key_encipherment" => Ok(KeyUsage::KeyEncipherment),
                "data_encipherment" => Ok(KeyUsage::DataEncipherment),
                "key_agreement" => Ok(KeyUsage::KeyAgreement),
                other => Err(cx.err(ku.span(), format!("key usage {other:?}: expected digital_signature, key_encipherment, data_encipherment or key_agreement"))),
            })
            .collect::<R<Vec<_>>>()?;
    }
    Ok(s)
}

/// A fleet's CAPF keys: `auth_string`, `capf_v3`, `keygen`, `ip_mode`, `ip_addresses`.
pub(super) fn fleet_capf(cx: &Ctx, f: &raw::Fleet, cluster: &ClusterDef) -> R<FleetCapf> {
    let mut c = FleetCapf {
        capf_v3: f.capf_v3.unwrap_or(false),
        ..FleetCapf::default()
    };
    if let Some(a) = &f.auth_string {
        if a.get_ref() == "unique" {
            c.unique_auth_string = true;
        } else {
            c.auth_string = Some(a.get_ref().clone());
        }
    }
    if let Some(k) = &f.keygen {
        c.keygen_ms = Some(cx.ms(k)?);
    }
    let mode: IpMode = match &f.ip_mode {
        None => IpMode::Ipv4Only,
        Some(m) => m
            .get_ref()
            .parse()
            .map_err(|e: ParseError| cx.err(m.span(), e.to_string()))?,
    };
    let phone = match &f.ip_addresses {
        Some(a) => families_of(cx, a)?,
        None => match mode {
            IpMode::Ipv4Only => (true, false),
            IpMode::Ipv6Only => (false, true),
            IpMode::DualStack => (true, true),
        },
    };
    let (pv4, pv6) = phone;
    let (cv4, cv6) = cluster.capf.addresses;
    let order = attempt_order(
        &Ipv6Policy::default(),
        mode,
        Addresses { v4: pv4, v6: pv6 },
        Addresses { v4: cv4, v6: cv6 },
    );
    c.families = Some(
        order
            .map(|fs| fs.into_iter().map(|f| f == AddressFamily::V6).collect())
            .map_err(|e| e.to_string()),
    );
    Ok(c)
}
