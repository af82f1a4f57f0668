//! Checking a parsed scenario and compiling it into what the engine runs: names resolved to
//! hosts and phone ranges, steps and faults into timed events and link rules, expectations
//! into checks over the trace. Every error points at the offending value.

use super::events::World;
use super::raw::{self, Dur, S};
use super::ScenarioError;
use crate::engine::spec::{CaDef, CaKindDef, CapfDef, FleetCapf, IssuerDef, Keepalive, TlsMode};
use crate::engine::{ClusterDef, FleetDef, NodeDef, Service, WorldSpec};
use crate::runner::Compiled;
use cucmsim_core::capf::ca::OnlineCaSettings;
use cucmsim_core::capf::ipv6::{
    attempt_order, AddressFamily, Addresses, IpMode, Ipv6Policy, ParseError,
};
use cucmsim_core::machine::tvs::TvsModel;
use cucmsim_core::machine::Enterprise;
use cucmsim_core::pki::KeyProfile;
use cucmsim_core::pki::KeyUsage;
use cucmsim_core::sgn::SecurityMode;
use cucmsim_core::{DigestAlg, WallTime};
use std::collections::BTreeSet;
use std::ops::Range;
use std::path::PathBuf;

/// Command-line overrides applied while compiling.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    pub seed: Option<u64>,
    /// Total phones: fleets and expectation counts scale proportionally.
    pub phones: Option<u32>,
    pub tls: Option<TlsMode>,
}

pub(super) struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    /// The simulated wall clock at t = 0 (times like "Operation Completes By" are offsets).
    pub(super) epoch: WallTime,
}

pub(super) type R<T> = Result<T, ScenarioError>;

impl Ctx<'_> {
    pub(super) fn err(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        let (line, col) = super::line_col(self.text, span.start);
        ScenarioError {
            file: self.file.to_string(),
            line,
            col,
            message: message.into(),
        }
    }

    pub(super) fn ms(&self, d: &S<Dur>) -> R<u64> {
        let v = self.signed_ms(d)?;
        u64::try_from(v).map_err(|_| self.err(d.span(), "a duration here cannot be negative"))
    }

    pub(super) fn signed_ms(&self, d: &S<Dur>) -> R<i64> {
        match d.get_ref() {
            Dur::Secs(s) => s
                .checked_mul(1000)
                .ok_or_else(|| self.err(d.span(), "duration too large")),
            Dur::Text(t) => parse_duration(t).map_err(|m| self.err(d.span(), m)),
        }
    }
}

/// Parses `"15 min"`, `"250 ms"`, `"1 h 30 min"`, `"-3 days"` into milliseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let bad = || {
        format!("bad duration {text:?}: expected e.g. \"250 ms\", \"30 s\", \"15 min\", \"2 h\", \"7 days\"")
    };
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, t),
    };
    let mut total: i64 = 0;
    let mut rest = t;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let scale: i64 = match unit {
            "ms" => 1,
            "" | "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
            "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
            "h" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            _ => return Err(bad()),
        };
        total = n
            .checked_mul(scale)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        rest = rest[unit_len..].trim_start();
    }
    Ok(if neg { -total } else { total })
}

/// Parses a service time in µs: `"2 ms"`, `"0.2 ms"`, `"200 us"` (or `µs`), `"1.5 s"`;
/// decimals allowed, and the units of [`parse_duration`].
pub fn parse_duration_us(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "bad service time {text:?}: expected e.g. \"2 ms\", \"0.2 ms\", \"200 us\", \"1.5 s\""
        )
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim());
    if number.is_empty() || number.matches('.').count() > 1 {
        return Err(bad());
    }
    let n: f64 = number.parse().map_err(|_| bad())?;
    let scale: f64 = match unit {
        "us" | "µs" => 1.0,
        "ms" => 1e3,
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1e6,
        "m" | "min" | "mins" | "minute" | "minutes" => 60e6,
        "h" | "hour" | "hours" => 3_600e6,
        _ => return Err(bad()),
    };
    let us = (n * scale).round();
    if !(0.0..=3_600e6).contains(&us) {
        return Err(format!(
            "service time {text:?} is out of range (at most 1 h)"
        ));
    }
    Ok(us as u64)
}

/// Compiles a parsed file.
pub fn compile(file: &str, text: &str, raw: raw::File) -> R<Compiled> {
    compile_with(file, text, raw, Overrides::default())
}

/// Compiles a parsed file with command-line overrides.
pub fn compile_with(file: &str, text: &str, raw: raw::File, o: Overrides) -> R<Compiled> {
    let default_epoch = WallTime::from_ymd(2025, 6, 1).expect("valid date");
    let cx = Ctx {
        file,
        text,
        epoch: default_epoch,
    };
    let meta = raw
        .scenario
        .as_ref()
        .ok_or_else(|| cx.err(0..0, "missing [scenario] table (name, duration)"))?;
    let meta = meta.get_ref();
    let epoch = match &meta.epoch {
        Some(e) => parse_epoch(e.get_ref()).ok_or_else(|| {
            cx.err(
                e.span(),
                "bad epoch: expected RFC 3339, e.g. \"2025-06-01T00:00:00Z\"",
            )
        })?,
        None => WallTime::from_ymd(2025, 6, 1).expect("valid date"),
    };
    let cx = Ctx { epoch, ..cx };
    let cas = cas(&cx, &raw.ca)?;
    let clusters = clusters(&cx, &raw.cluster, &cas)?;
    let declared: u32 = raw
        .fleet
        .iter()
        .map(|f| (*f.get_ref().count.get_ref()).clamp(0, u32::MAX as i64) as u32)
        .sum();
    let (fleets, scale) = fleets(&cx, &raw.fleet, &clusters, o.phones)?;
    let scale_count = |n: i64| -> u64 {
        match (o.phones, declared) {
            (Some(total), d) if d > 0 => {
                ((n as f64) * f64::from(total) / f64::from(d)).round() as u64
            }
            _ => n.max(0) as u64,
        }
    };
    let _ = scale;
    let mut w = World {
        cx: &cx,
        clusters: &clusters,
        fleets: &fleets,
        cas: &cas,
        events: vec![],
        rules: vec![],
    };
    for s in &raw.step {
        w.step(s.get_ref())?;
    }
    for f in &raw.fault {
        w.fault(f.get_ref())?;
    }
    let expectations = raw
        .expect
        .iter()
        .map(|e| w.expect(e.get_ref(), &scale_count))
        .collect::<R<Vec<_>>>()?;
    let mut events = std::mem::take(&mut w.events);
    events.sort_by_key(|(t, _)| *t);
    let rules = std::mem::take(&mut w.rules);
    let tls = match &meta.tls {
        None => TlsMode::Full,
        Some(t) => match t.get_ref().as_str() {
            "full" => TlsMode::Full,
            "identity" => TlsMode::Identity,
            other => {
                return Err(cx.err(
                    t.span(),
                    format!("tls must be \"full\" or \"identity\", not {other:?}"),
                ))
            }
        },
    };
    let name = meta.name.get_ref().clone();
    if name.is_empty() {
        return Err(cx.err(meta.name.span(), "scenario name must not be empty"));
    }
    let spec = WorldSpec {
        name,
        seed: o.seed.or(meta.seed).unwrap_or(1),
        duration_ms: cx.ms(&meta.duration)?,
        epoch,
        phone_boot_ms: meta
            .phone_boot
            .as_ref()
            .map(|d| cx.ms(d))
            .transpose()?
            .unwrap_or(30_000),
        tls: o.tls.unwrap_or(tls),
        clusters,
        fleets,
        cas,
        events,
        link_rules: rules,
        phone_key_pool: match &meta.phone_key_pool {
            None => 64,
            Some(n) if (0..=100_000).contains(n.get_ref()) => *n.get_ref() as u32,
            Some(n) => return Err(cx.err(n.span(), "phone_key_pool must be between 0 and 100,000")),
        },
        latency_ms: (1, 2),
    };
    Ok(Compiled {
        spec,
        expectations,
        source: PathBuf::from(file),
    })
}

fn parse_epoch(text: &str) -> Option<WallTime> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some(WallTime(t.unix_timestamp()))
}

fn key(cx: &Ctx, k: &Option<S<String>>, default: KeyProfile) -> R<KeyProfile> {
    match k {
        None => Ok(default),
        Some(k) => k.get_ref().parse().map_err(|e: String| cx.err(k.span(), e)),
    }
}

pub(super) fn service(cx: &Ctx, s: &S<String>) -> R<Service> {
    match s.get_ref().to_ascii_lowercase().as_str() {
        "callmanager" => Ok(Service::CallManager),
        "tftp" => Ok(Service::Tftp),
        "tvs" => Ok(Service::Tvs),
        "capf" => Ok(Service::Capf),
        "ctl-provider" => Ok(Service::CtlProvider),
        other => Err(cx.err(
            s.span(),
            format!(
                "unknown service {other:?}: expected callmanager, tftp, tvs, capf or ctl-provider"
            ),
        )),
    }
}

fn clusters(cx: &Ctx, raw: &[S<raw::Cluster>], cas: &[CaDef]) -> R<Vec<ClusterDef>> {
    let mut out: Vec<ClusterDef> = vec![];
    let mut hosts = BTreeSet::new();
    for c in raw {
        let c = c.get_ref();
        let name = c.name.get_ref().clone();
        if out.iter().any(|o| o.name == name) {
            return Err(cx.err(c.name.span(), format!("cluster {name:?} is defined twice")));
        }
        let version = c
            .version
            .get_ref()
            .parse()
            .map_err(|e: String| cx.err(c.version.span(), e))?;
        let mixed_mode = match &c.security_mode {
            None => false,
            Some(m) => match m.get_ref().as_str() {
                "non-secure" => false,
                "mixed" => true,
                other => {
                    return Err(cx.err(
                        m.span(),
                        format!("security_mode must be \"non-secure\" or \"mixed\", not {other:?}"),
                    ))
                }
            },
        };
        let mut enterprise = Enterprise::default();
        if let Some(e) = &c.enterprise {
            enterprise.rollback = e.rollback_to_pre_8.unwrap_or(false);
            if let Some(p) = &e.phone_interaction_on_cert_update {
                enterprise.auto_reset = match p.get_ref().as_str() {
                    "automatic" => true,
                    "manual" => false,
                    other => {
                        return Err(cx.err(
                            p.span(),
                            format!("expected \"automatic\" or \"manual\", not {other:?}"),
                        ))
                    }
                };
            }
            if let Some(d) = &e.tftp_file_signature {
                enterprise.digest = DigestAlg::parse(d.get_ref())
                    .ok_or_else(|| cx.err(d.span(), "expected sha1, sha256 or sha512"))?;
            }
        }
        if let Some(t) = c.default_config_tvs {
            enterprise.default_config_tvs = t;
        }
        if let Some(t) = c.lsc_capf_from_ctl {
            enterprise.lsc_capf_from_ctl = t;
        }
        let mut capf = match &c.capf {
            Some(t) => capf_def(cx, t.get_ref(), cas)?,
            None => CapfDef::default(),
        };
        if let Some(e) = &c.enterprise {
            capf.ipv6_enabled = e.ipv6.unwrap_or(false);
            capf.advanced_algorithms = e.endpoint_advanced_encryption.unwrap_or(false);
        }
        let tvs = match &c.tvs {
            Some(t) => tvs_model(cx, t.get_ref())?,
            None => TvsModel::default(),
        };
        let mut nodes = vec![];
        for (i, n) in c.node.iter().enumerate() {
            let n = n.get_ref();
            let host = n.name.get_ref().clone();
            if host.is_empty() || !hosts.insert(host.clone()) {
                return Err(cx.err(
                    n.name.span(),
                    format!("node name {host:?} is empty or already used"),
                ));
            }
            let ip = match &n.ip {
                None => None,
                Some(ip) => Some(ip.get_ref().parse().map_err(|_| {
                    cx.err(ip.span(), format!("bad IPv4 address {:?}", ip.get_ref()))
                })?),
            };
            let services = match &n.services {
                Some(list) => list
                    .iter()
                    .map(|s| service(cx, s))
                    .collect::<R<BTreeSet<_>>>()?,
                None if n.imp => BTreeSet::new(),
                None => {
                    let mut s: BTreeSet<Service> =
                        [Service::CallManager, Service::Tftp, Service::Tvs]
                            .into_iter()
                            .collect();
                    if i == 0 {
                        s.insert(Service::Capf);
                    }
                    s
                }
            };
            nodes.push(NodeDef {
                name: host,
                ip,
                services,
                imp: n.imp,
            });
        }
        if nodes.is_empty() {
            return Err(cx.err(
                c.name.span(),
                format!("cluster {name:?} has no [[cluster.node]]"),
            ));
        }
        out.push(ClusterDef {
            domain: c.domain.clone().unwrap_or_else(|| format!("{name}.lab")),
            key: key(cx, &c.key, KeyProfile::RSA2048)?,
            name,
            version,
            mixed_mode,
            enterprise,
            tvs,
            capf,
            nodes,
        });
    }
    Ok(out)
}

/// `[cluster.tvs]`: each key overrides one [I] default of [`TvsModel`].
fn tvs_model(cx: &Ctx, t: &raw::Tvs) -> R<TvsModel> {
    let mut m = TvsModel::default();
    if let Some(w) = &t.workers {
        if !(1..=10_000).contains(w.get_ref()) {
            return Err(cx.err(w.span(), "workers must be between 1 and 10,000"));
        }
        m.workers = *w.get_ref() as u32;
    }
    if let Some(q) = &t.queue_limit {
        if !(0..=10_000_000).contains(q.get_ref()) {
            return Err(cx.err(q.span(), "queue_limit must be between 0 and 10,000,000"));
        }
        m.queue_limit = *q.get_ref() as u32;
    }
    let us = |d: &S<Dur>| service_us(cx, d);
    if let Some(h) = &t.handshake {
        m.handshake_us = us(h)?;
    }
    if let Some(q) = &t.query {
        m.query_us = us(q)?;
    }
    Ok(m)
}

/// A Phone Security Profile's mode: `non-secure`, `authenticated`, `encrypted`.
pub(super) fn security_mode(cx: &Ctx, p: &S<String>) -> R<SecurityMode> {
    match p.get_ref().as_str() {
        "non-secure" => Ok(SecurityMode::NonSecure),
        "authenticated" => Ok(SecurityMode::Authenticated),
        "encrypted" => Ok(SecurityMode::Encrypted),
        other => Err(cx.err(
            p.span(),
            format!("security profile must be \"non-secure\", \"authenticated\" or \"encrypted\", not {other:?}"),
        )),
    }
}

/// `[cluster.capf]`: each key overrides one default of [`CapfDef`].
fn capf_def(cx: &Ctx, t: &raw::Capf, cas: &[CaDef]) -> R<CapfDef> {
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
fn cas(cx: &Ctx, raw: &[S<raw::Ca>]) -> R<Vec<CaDef>> {
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
            "online" => {
                let mut s = OnlineCaSettings {
                    hostname: name.clone(),
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
                CaKindDef::Online(s)
            }
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

/// `["ipv4", "ipv6"]` → (v4, v6).
fn families_of(cx: &Ctx, a: &S<Vec<String>>) -> R<(bool, bool)> {
    let mut v = (false, false);
    for f in a.get_ref() {
        match f.to_ascii_lowercase().as_str() {
            "ipv4" | "v4" => v.0 = true,
            "ipv6" | "v6" => v.1 = true,
            other => {
                return Err(cx.err(
                    a.span(),
                    format!("address family {other:?}: expected \"ipv4\" or \"ipv6\""),
                ))
            }
        }
    }
    if v == (false, false) {
        return Err(cx.err(a.span(), "give at least one of \"ipv4\", \"ipv6\""));
    }
    Ok(v)
}

/// A fleet's CAPF keys: `auth_string`, `capf_v3`, `keygen`, `ip_mode`, `ip_addresses`.
fn fleet_capf(cx: &Ctx, f: &raw::Fleet, cluster: &ClusterDef) -> R<FleetCapf> {
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

/// A service time (`"2 ms"`, `"200 us"`, or whole seconds), 0–1 h, in µs.
fn service_us(cx: &Ctx, d: &S<Dur>) -> R<u64> {
    match d.get_ref() {
        Dur::Secs(s) if (0..=3600).contains(s) => Ok(*s as u64 * 1_000_000),
        Dur::Secs(_) => Err(cx.err(d.span(), "a service time is between 0 and 1 h")),
        Dur::Text(t) => parse_duration_us(t).map_err(|m| cx.err(d.span(), m)),
    }
}

/// A fleet's `keepalive`, `keepalive_timeout` and `keepalive_misses`.
fn keepalive(cx: &Ctx, f: &raw::Fleet) -> R<Option<Keepalive>> {
    let Some(every) = &f.keepalive else {
        let stray = [
            f.keepalive_timeout.as_ref().map(|v| v.span()),
            f.keepalive_misses.as_ref().map(|v| v.span()),
        ];
        if let Some(span) = stray.into_iter().flatten().next() {
            return Err(cx.err(
                span,
                "this needs `keepalive` (the interval) in the same fleet",
            ));
        }
        return Ok(None);
    };
    let interval_ms = cx.ms(every)?;
    if interval_ms == 0 {
        return Err(cx.err(
            every.span(),
            "keepalive must be longer than 0 (leave it out for no keepalives)",
        ));
    }
    let mut k = Keepalive::every(interval_ms);
    if let Some(t) = &f.keepalive_timeout {
        k.timeout_ms = cx.ms(t)?;
        if k.timeout_ms == 0 || k.timeout_ms > interval_ms {
            return Err(cx.err(
                t.span(),
                "keepalive_timeout must be longer than 0 and at most the keepalive interval",
            ));
        }
    }
    if let Some(n) = &f.keepalive_misses {
        if !(1..=1000).contains(n.get_ref()) {
            return Err(cx.err(n.span(), "keepalive_misses must be between 1 and 1000"));
        }
        k.misses = *n.get_ref() as u32;
    }
    Ok(Some(k))
}

/// A fleet's `register_retry`: 1 s to 1 h.
fn register_retry(cx: &Ctx, f: &raw::Fleet) -> R<u64> {
    let Some(d) = &f.register_retry else {
        return Ok(0);
    };
    let ms = cx.ms(d)?;
    if !(1_000..=3_600_000).contains(&ms) {
        return Err(cx.err(
            d.span(),
            "register_retry must be between 1 s and 1 h (leave it out to give up)",
        ));
    }
    Ok(ms)
}

fn fleets(
    cx: &Ctx,
    raw: &[S<raw::Fleet>],
    clusters: &[ClusterDef],
    total: Option<u32>,
) -> R<(Vec<FleetDef>, f64)> {
    let declared: i64 = raw
        .iter()
        .map(|f| (*f.get_ref().count.get_ref()).max(0))
        .sum();
    let scale = match total {
        Some(t) if declared > 0 => f64::from(t) / declared as f64,
        _ => 1.0,
    };
    let mut out: Vec<FleetDef> = vec![];
    let mut next = 0u32;
    for f in raw {
        let f = f.get_ref();
        let name = f.name.get_ref().clone();
        if out.iter().any(|o| o.name == name) || clusters.iter().any(|c| c.name == name) {
            return Err(cx.err(
                f.name.span(),
                format!("fleet name {name:?} is already used"),
            ));
        }
        let count = *f.count.get_ref();
        if !(1..=1_000_000).contains(&count) {
            return Err(cx.err(f.count.span(), "count must be between 1 and 1,000,000"));
        }
        let count = ((count as f64 * scale).round() as u32).max(1);
        let mac = f.mac_start.get_ref();
        if mac.len() != 12 || !mac.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(cx.err(
                f.mac_start.span(),
                format!("mac_start must be 12 hex digits, not {mac:?}"),
            ));
        }
        let cluster = clusters
            .iter()
            .position(|c| &c.name == f.cluster.get_ref())
            .ok_or_else(|| {
                cx.err(
                    f.cluster.span(),
                    format!("no cluster named {:?}", f.cluster.get_ref()),
                )
            })?;
        let security = match &f.security_profile {
            None => SecurityMode::NonSecure,
            Some(p) => security_mode(cx, p)?,
        };
        out.push(FleetDef {
            name,
            first: next,
            count,
            model: f.model.clone().unwrap_or_else(|| "8861".into()),
            mac_start: u64::from_str_radix(mac, 16).expect("checked hex"),
            cluster,
            key: key(cx, &f.key, KeyProfile::EcP256)?,
            keepalive: keepalive(cx, f)?,
            register_retry_ms: register_retry(cx, f)?,
            security,
            capf: fleet_capf(cx, f, &clusters[cluster])?,
            caps: super::events::lifecycle::phone_caps(cx, f)?,
        });
        next = next
            .checked_add(count)
            .ok_or_else(|| cx.err(f.count.span(), "too many phones"))?;
    }
    Ok((out, scale))
}
