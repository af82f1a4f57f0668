//! Findings: why the phones did what they did, read from the artefacts themselves — each with
//! its failure-catalogue entry, the evidence (file names, subjects, serials, store contents)
//! and the fix in the field's words. The phones' outcomes (drive.rs) say *whether*; these say
//! *why*, and they are checked against each other: a failure the artefacts do not explain
//! becomes a finding of its own, with the phones' own refusal text.
//!
//! ```text
//!  for each destination TFTP node, for its CTL then ITL:
//!    signer known to the source's CTL/ITL? ─ yes ─► fine (no TVS needed)
//!    the source TVS directory (real stores + own certs) vouches with SAST? ─ yes ─► fine
//!    otherwise ─► F4 (some destination certificate was imported) or F1 (none): fail
//!  source ITL has TVS records matching the TVS list's certificates? ─ no ─► fail (F18)
//!  trust-store certificates outside their validity ─► warn
//! ```

use super::drive::{own_certs, resolve, PhoneRun, INSTALLED};
use super::infer::{Cluster, Node};
use crate::reports::findings::Finding;
use cucmsim_core::pki::{Certificate, StoreName};
use cucmsim_core::tlv::{Role, TrustList};
use cucmsim_core::tvs::{RoleMap, TvsDirectory};
use std::path::Path;

fn rel(c: &Cluster, p: &Path) -> String {
    let base = c.dir.parent().unwrap_or(&c.dir);
    p.strip_prefix(base).unwrap_or(p).display().to_string()
}

fn finding(id: &str, severity: &str, title: String, evidence: Vec<String>, fix: String) -> Finding {
    Finding {
        id: id.into(),
        severity: severity.into(),
        title,
        evidence,
        fix,
    }
}

/// What the source TVS of `node` vouches for.
fn directory(src: &Cluster, node: &Node) -> Option<TvsDirectory> {
    let (cert, _) = node.tvs_cert.as_ref()?;
    Some(TvsDirectory::snapshot(
        src.stores.values(),
        own_certs(src, node, cert).iter().map(|(c, r)| (c, *r)),
        &RoleMap::default(),
    ))
}

/// Whether the phone's held lists know `list`'s signer (a CTL SAST/CCM+TFTP record, or an
/// ITL SAST record, with that serial).
fn held_knows(src: &Cluster, list: &TrustList) -> bool {
    let serial = list.header.signer_serial.as_deref();
    let has = |l: &TrustList, roles: &[Role]| {
        l.records
            .iter()
            .any(|r| r.serial.as_deref() == serial && r.role.is_some_and(|x| roles.contains(&x)))
    };
    src.tftp_nodes().iter().all(|n| {
        n.files
            .ctl
            .as_ref()
            .is_some_and(|c| has(&c.value, &[Role::Sast, Role::CcmTftp]))
            || n.files
                .itl
                .as_ref()
                .is_some_and(|i| has(&i.value, &[Role::Sast]))
    })
}

fn signer_cert(list: &TrustList) -> Option<Certificate> {
    list.signer_record()
        .and_then(|r| r.certificate.as_deref())
        .and_then(|d| Certificate::from_der(d).ok())
}

/// The fix for a destination signer the source TVS cannot vouch for.
fn import_fix(signer: &str, dst: &Cluster) -> String {
    let what = if signer.to_ascii_uppercase().contains("ITLRECOVERY") {
        format!("the destination's ITLRecovery ({signer})")
    } else {
        format!("the destination's CallManager certificate {signer} (every TFTP node's)")
    };
    format!(
        "import {what} into the source's Phone-SAST-trust (Bulk Certificate Management: export \
         on {} with ITLRecovery and CallManager, consolidate, import on the source), then \
         restart TVS on every source node (F4; rerun preflight with --with-bulk-import to check)",
        dst.name
    )
}

/// A destination signer the phones cannot verify from their own lists: the files it signs.
struct Unknown<'a> {
    subject: String,
    issuer: String,
    serial: Vec<u8>,
    files: Vec<&'a super::layout::Loaded<std::sync::Arc<TrustList>>>,
}

/// The destination's CTL/ITL signers the phones' held lists do not know, grouped by signer.
fn unknown_signers<'a>(src: &Cluster, dst: &'a Cluster) -> Vec<Unknown<'a>> {
    let mut out: Vec<Unknown<'a>> = vec![];
    for node in dst.tftp_nodes() {
        for l in [&node.files.ctl, &node.files.itl].into_iter().flatten() {
            let h = &l.value.header;
            let serial = h.signer_serial.clone().unwrap_or_default();
            if held_knows(src, &l.value) {
                continue;
            }
            match out.iter_mut().find(|u| u.serial == serial) {
                Some(u) => u.files.push(l),
                None => out.push(Unknown {
                    subject: h.signer_name.clone().unwrap_or_default(),
                    issuer: h.signer_issuer.clone().unwrap_or_default(),
                    serial,
                    files: vec![l],
                }),
            }
        }
    }
    out
}

fn kinds(u: &Unknown) -> String {
    let mut k: Vec<&str> = u
        .files
        .iter()
        .map(|l| {
            if l.value.kind() == "ctl" {
                "CTL"
            } else {
                "ITL"
            }
        })
        .collect();
    k.sort();
    k.dedup();
    match k.as_slice() {
        [one] => format!("{one} is"),
        _ => format!("{} are", k.join(" and ")),
    }
}

fn not_vouched(src: &Cluster, dst: &Cluster, u: &Unknown, imported_any: bool) -> Finding {
    let serial = hex::encode(&u.serial);
    let mut evidence: Vec<String> = u
        .files
        .iter()
        .map(|l| {
            format!(
                "{}: signed by {}, serial {serial}, issuer {}",
                rel(dst, &l.path),
                u.subject,
                u.issuer
            )
        })
        .collect();
    let sast = src
        .stores
        .get(&StoreName::PhoneSastTrust)
        .map_or(0, |s| s.len());
    evidence.push(format!(
        "{}: {sast} certificates in Phone-SAST-trust, none with that serial and issuer",
        rel(src, &src.dir.join("trust"))
    ));
    evidence.push(if src.tvs_list.is_empty() {
        "the phones hold the source's lists, which do not contain it, and have no TVS to ask".into()
    } else {
        format!(
            "the phones hold the source's lists, which do not contain it; they ask TVS {}",
            src.tvs_list.join(", ")
        )
    });
    if let Some(c) = u.files.first().and_then(|l| signer_cert(&l.value)) {
        evidence.push(format!("signer certificate SHA-1 {}", c.sha1_hex()));
    }
    finding(
        if imported_any { "F4" } else { "F1" },
        "fail",
        format!(
            "the destination's {} signed by {} serial {serial}, which the source TVS cannot vouch for: it is not in the source's Phone-SAST-trust",
            kinds(u),
            short(&u.subject),
        ),
        evidence,
        import_fix(&u.subject, dst),
    )
}

fn signer_findings(src: &Cluster, dst: &Cluster, imported_any: bool, out: &mut Vec<Finding>) {
    let dirs: Vec<(String, TvsDirectory)> = src
        .tvs_list
        .iter()
        .filter_map(|a| {
            resolve(src, a)
                .and_then(|n| directory(src, n))
                .map(|d| (a.clone(), d))
        })
        .collect();
    for u in unknown_signers(src, dst) {
        let vouched = dirs.iter().find_map(|(a, d)| {
            d.query(&u.subject, &u.issuer, &u.serial)
                .map(|(_, r)| (a.clone(), r))
        });
        match vouched {
            Some((_, roles)) if roles.contains(&Role::Sast) => {}
            Some((tvs, roles)) => out.push(finding(
                "preflight/tvs-role",
                "fail",
                format!("the destination's signer {} is known to tvs@{tvs} only with roles {roles:?}, not SAST", u.subject),
                u.files.iter().map(|l| format!("{}: signer {}, serial {}", rel(dst, &l.path), u.subject, hex::encode(&u.serial))).collect(),
                format!("it must be in the source's Phone-SAST-trust, not only CallManager-trust: {}", import_fix(&u.subject, dst)),
            )),
            None => out.push(not_vouched(src, dst, &u, imported_any)),
        }
    }
}

fn short(dn: &str) -> String {
    dn.split([';', ',']).next().unwrap_or(dn).to_string()
}

fn tvs_findings(src: &Cluster, out: &mut Vec<Finding>) {
    if src.tvs_list.is_empty() {
        out.push(finding(
            "F17",
            "fail",
            "the source phones have no TVS to ask about the destination's signer".into(),
            vec![format!("TVS list: {}", src.tvs_list_from)],
            "give the source nodes' TVS certificates (certs/<node>/TVS.pem) or a phone config with its <TVS> list".into(),
        ));
        return;
    }
    for address in &src.tvs_list {
        let node = resolve(src, address);
        let trusted = node
            .and_then(|n| n.tvs_cert.as_ref())
            .is_some_and(|(cert, _)| {
                src.tftp_nodes().iter().all(|n| {
                    n.files.itl.as_ref().is_some_and(|i| {
                        i.value.records.iter().any(|r| {
                            r.role == Some(Role::Tvs)
                                && r.certificate.as_deref() == Some(cert.der())
                        })
                    })
                })
            });
        if trusted {
            continue;
        }
        let why = match node.and_then(|n| n.tvs_cert.as_ref().map(|c| (n, c))) {
            None if node.is_none() => format!("TVS {address} of the phones' config is not a node of {}", src.name),
            None => format!("no TVS certificate for {address} (certs/{address}/TVS.pem, or an ITL record)"),
            Some((n, (cert, from))) => format!(
                "{address}'s TVS certificate {} (serial {}, from {from}) is not a TVS record of every source ITL; node {}",
                short(&cert.subject().to_cucm()),
                cert.serial_hex(),
                n.name
            ),
        };
        out.push(finding(
            "F18",
            "fail",
            format!("phones cannot trust the source TVS {address}: its certificate is not in their ITL"),
            vec![why, format!("TVS list from {}", src.tvs_list_from)],
            "the source ITL must carry every TVS of the phones' config (restart TFTP after a TVS certificate change, and let phones pick up the new ITL) before migrating".into(),
        ));
    }
}

/// The findings for a run: artefact-derived causes, then anything the phones show that those
/// do not explain, then warnings, then the verdict's summary line.
pub fn findings(
    src: &Cluster,
    dst: &Cluster,
    runs: &[PhoneRun],
    imported_any: bool,
) -> Vec<Finding> {
    let mut out = vec![];
    tvs_findings(src, &mut out);
    signer_findings(src, dst, imported_any, &mut out);
    let failed: Vec<&PhoneRun> = runs.iter().filter(|r| r.outcome != INSTALLED).collect();
    if !failed.is_empty() && !out.iter().any(|f| f.severity == "fail") {
        let mut reasons: Vec<String> = failed.iter().filter_map(|r| r.reason.clone()).collect();
        reasons.sort();
        reasons.dedup();
        out.push(finding(
            "preflight/phones",
            "fail",
            format!(
                "{} of {} phones did not install the destination's trust lists",
                failed.len(),
                runs.len()
            ),
            reasons.into_iter().take(5).collect(),
            "see each phone's timeline in preflight.json".into(),
        ));
    }
    if failed.is_empty() && !runs.is_empty() {
        out.push(paths_finding(runs));
    }
    for w in src.warnings.iter().chain(&dst.warnings) {
        out.push(finding(
            "preflight/validity",
            "warn",
            "a trust-store certificate is outside its validity".into(),
            vec![w.clone()],
            "remove or renew it".into(),
        ));
    }
    out
}

/// How the phones came to trust the destination's lists (for a passing preflight): each
/// trust-list installation path with its count, from the phones' own observations.
fn paths_finding(runs: &[PhoneRun]) -> Finding {
    let mut paths: std::collections::BTreeMap<String, u64> = Default::default();
    for r in runs {
        for l in r
            .timeline
            .iter()
            .filter(|l| l.contains("trust_list_installed"))
        {
            let what = l
                .split_once("trust_list_installed ")
                .map_or(l.as_str(), |(_, w)| w);
            *paths.entry(what.to_string()).or_insert(0) += 1;
        }
    }
    finding(
        "preflight/paths",
        "info",
        format!(
            "all {} phones installed the destination's trust lists",
            runs.len()
        ),
        paths
            .iter()
            .map(|(p, n)| format!("{n} phones: {p}"))
            .collect(),
        "keep the source cluster and its TVS reachable until every phone has moved (F2)".into(),
    )
}
