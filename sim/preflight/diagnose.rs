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
use std::collections::BTreeSet;
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
    let mut seen = BTreeSet::new();
    for node in dst.tftp_nodes() {
        let mut lists = vec![];
        if let Some(c) = &node.files.ctl {
            lists.push(c)
        }
        if let Some(i) = &node.files.itl {
            lists.push(i)
        }
        for l in lists {
            let h = &l.value.header;
            let (subject, issuer) = (
                h.signer_name.clone().unwrap_or_default(),
                h.signer_issuer.clone().unwrap_or_default(),
            );
            let serial = h.signer_serial.clone().unwrap_or_default();
            if !seen.insert((serial.clone(), l.value.kind())) || held_knows(src, &l.value) {
                continue;
            }
            let vouched = dirs.iter().find_map(|(a, d)| {
                d.query(&subject, &issuer, &serial)
                    .map(|(_, r)| (a.clone(), r))
            });
            let kind = l.value.kind().to_ascii_uppercase();
            match vouched {
                Some((_, roles)) if roles.contains(&Role::Sast) => {}
                Some((tvs, roles)) => out.push(finding(
                    "preflight/tvs-role",
                    "fail",
                    format!("the destination's {kind} signer {subject} is known to tvs@{tvs} only with roles {roles:?}, not SAST"),
                    vec![format!("{}: signer {subject}, serial {}", rel(dst, &l.path), hex::encode(&serial))],
                    format!("import it into the source's Phone-SAST-trust, not only CallManager-trust (F4); {}", import_fix(&subject, dst)),
                )),
                None => {
                    let sast = src.stores.get(&StoreName::PhoneSastTrust).map_or(0, |s| s.len());
                    let mut evidence = vec![
                        format!("{}: signed by {subject}, serial {}, issuer {issuer}", rel(dst, &l.path), hex::encode(&serial)),
                        format!(
                            "{}: {sast} certificates in Phone-SAST-trust, none with that serial and issuer",
                            rel(src, &src.dir.join("trust"))
                        ),
                        format!("the phones hold the source's ITL, which does not contain it; they ask TVS {}", src.tvs_list.join(", ")),
                    ];
                    if let Some(c) = signer_cert(&l.value) {
                        evidence.push(format!("signer certificate SHA-1 {}", c.sha1_hex()));
                    }
                    out.push(finding(
                        if imported_any { "F4" } else { "F1" },
                        "fail",
                        format!(
                            "the destination's {kind} is signed by {} serial {}, which the source TVS cannot vouch for: it is not in the source's Phone-SAST-trust",
                            short(&subject),
                            hex::encode(&serial)
                        ),
                        evidence,
                        import_fix(&subject, dst),
                    ));
                }
            }
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
