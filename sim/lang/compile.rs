//! Checking a parsed scenario and compiling it into what the engine runs: names resolved to
//! hosts and phone ranges, steps and faults into timed events and link rules, expectations
//! into checks over the trace. Every error points at the offending value.

use super::events::World;
use super::raw::{self, Dur, S};
use super::ScenarioError;
use crate::engine::spec::{Keepalive, TlsMode};
use crate::engine::{ClusterDef, FleetDef, NodeDef, Service, WorldSpec};
use crate::runner::Compiled;
use cucmsim_core::machine::cluster::Enterprise;
use cucmsim_core::machine::tvs::TvsModel;
use cucmsim_core::pki::KeyProfile;
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
    let cx = Ctx { file, text };
    let meta = raw
        .scenario
        .as_ref()
        .ok_or_else(|| cx.err(0..0, "missing [scenario] table (name, duration)"))?;
    let meta = meta.get_ref();
    let clusters = clusters(&cx, &raw.cluster)?;
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
    let epoch = match &meta.epoch {
        Some(e) => parse_epoch(e.get_ref()).ok_or_else(|| {
            cx.err(
                e.span(),
                "bad epoch: expected RFC 3339, e.g. \"2025-06-01T00:00:00Z\"",
            )
        })?,
        None => WallTime::from_ymd(2025, 6, 1).expect("valid date"),
    };
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
        events,
        link_rules: rules,
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

fn clusters(cx: &Ctx, raw: &[S<raw::Cluster>]) -> R<Vec<ClusterDef>> {
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
    let us = |d: &S<Dur>| -> R<u64> {
        match d.get_ref() {
            Dur::Secs(s) if (0..=3600).contains(s) => Ok(*s as u64 * 1_000_000),
            Dur::Secs(_) => Err(cx.err(d.span(), "a service time is between 0 and 1 h")),
            Dur::Text(t) => parse_duration_us(t).map_err(|m| cx.err(d.span(), m)),
        }
    };
    if let Some(h) = &t.handshake {
        m.handshake_us = us(h)?;
    }
    if let Some(q) = &t.query {
        m.query_us = us(q)?;
    }
    Ok(m)
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
        if let Some(p) = &f.security_profile {
            if p.get_ref() != "non-secure" {
                return Err(cx.err(p.span(), format!("security_profile {:?} needs CAPF enrollment (LSCs), which this version does not simulate yet; use \"non-secure\"", p.get_ref())));
            }
        }
        out.push(FleetDef {
            name,
            first: next,
            count,
            model: f.model.clone().unwrap_or_else(|| "8861".into()),
            mac_start: u64::from_str_radix(mac, 16).expect("checked hex"),
            cluster,
            key: key(cx, &f.key, KeyProfile::EcP256)?,
            keepalive: keepalive(cx, f)?,
            caps: super::events::lifecycle::phone_caps(cx, f)?,
        });
        next = next
            .checked_add(count)
            .ok_or_else(|| cx.err(f.count.span(), "too many phones"))?;
    }
    Ok((out, scale))
}
