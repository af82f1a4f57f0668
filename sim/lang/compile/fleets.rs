//! Phone fleets: `[[fleet]]` with its count (scaled by `--phones`), MAC range, home cluster,
//! key, keepalive, register retry, security profile, CAPF keys (see [`super::capf`]) and the
//! model's limits (`itl_max_certs`, `itl_max_bytes`, `max_rsa_bits`, `file_digests`).
//!
//! ```text
//!  [[fleet]] name, count, mac_start, cluster, … ──fleets(total)──► Vec<FleetDef> (phone ranges back to back)
//! ```

use super::capf::fleet_capf;
use super::context::{Ctx, R};
use super::values::{key, security_mode};
use crate::engine::spec::Keepalive;
use crate::engine::{ClusterDef, FleetDef};
use crate::lang::raw::{self, S};
use cucmsim_core::phone::caps::PhoneCaps;
use cucmsim_core::pki::KeyProfile;
use cucmsim_core::sgn::SecurityMode;
use cucmsim_core::DigestAlg;

pub(super) fn fleets(
    cx: &Ctx,
    raw: &[S<raw::Fleet>],
    clusters: &[ClusterDef],
    total: Option<u32>,
) -> R<Vec<FleetDef>> {
    let mut declared = vec![];
    for f in raw {
        let count = &f.get_ref().count;
        if !(1..=1_000_000).contains(count.get_ref()) {
            return Err(cx.err(count.span(), "count must be between 1 and 1,000,000"));
        }
        declared.push(*count.get_ref() as u32);
    }
    let counts = match total {
        Some(t) => scaled_counts(&declared, t),
        None => declared,
    };
    let mut out: Vec<FleetDef> = vec![];
    let mut next = 0u32;
    for (f, count) in raw.iter().zip(counts) {
        let f = f.get_ref();
        let name = f.name.get_ref().clone();
        if out.iter().any(|o| o.name == name) || clusters.iter().any(|c| c.name == name) {
            return Err(cx.err(
                f.name.span(),
                format!("fleet name {name:?} is already used"),
            ));
        }
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
            caps: phone_caps(cx, f)?,
        });
        next = next
            .checked_add(count)
            .ok_or_else(|| cx.err(f.count.span(), "too many phones"))?;
    }
    Ok(out)
}

/// `--phones total` shared among fleets in proportion to their declared counts, by largest
/// remainder (ties to the earlier fleet), so the counts add up to `total` exactly; when
/// `total` is at least the number of fleets, every fleet keeps at least one phone (taken
/// from the largest fleet).
pub(super) fn scaled_counts(declared: &[u32], total: u32) -> Vec<u32> {
    let sum: u64 = declared.iter().map(|&d| u64::from(d)).sum();
    if sum == 0 {
        return declared.to_vec();
    }
    let quota = |d: u32| u64::from(d) * u64::from(total);
    let mut counts: Vec<u32> = declared.iter().map(|&d| (quota(d) / sum) as u32).collect();
    let given: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    let mut order: Vec<usize> = (0..declared.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(quota(declared[i]) % sum), i));
    for &i in order.iter().take((u64::from(total) - given) as usize) {
        counts[i] += 1;
    }
    if total as usize >= declared.len() {
        while let Some(empty) = counts.iter().position(|&c| c == 0) {
            let largest = (0..counts.len())
                .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
                .expect("not empty");
            counts[largest] -= 1;
            counts[empty] = 1;
        }
    }
    counts
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

/// A fleet's model capabilities: `itl_max_certs` (default 39) and `itl_max_bytes` (default
/// 65,536) [C S10], `max_rsa_bits` (default: any) and `file_digests` (default: all) [I],
/// `security_by_default` (default true).
fn phone_caps(cx: &Ctx, f: &raw::Fleet) -> R<PhoneCaps> {
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
