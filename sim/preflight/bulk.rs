//! `--with-bulk-import`: the Bulk Certificate Management procedure carried out on the two
//! clusters' own export bundles before the phones move (reference §4.1): consolidate every
//! `sftp/*.pkcs12` of both clusters by certificate type, import the consolidated files on
//! each cluster with CUCM's mapping (the same `import_stores` the simulated publisher uses),
//! then restart TVS (the stores preflight's TVS reads are the imported ones).
//!
//! ```text
//!  src/sftp/*.pkcs12 ┐                       ┌► src stores (+ dst CallManager, ITLRecovery → Phone-SAST-trust, CallManager-trust; …)
//!                    ├─ consolidate by type ─┤
//!  dst/sftp/*.pkcs12 ┘                       └► dst stores (+ src …)
//! ```

use super::infer::Cluster;
use cucmsim_core::machine::publisher::bulk::import_stores;
use cucmsim_core::pki::identity::CertType;
use cucmsim_core::pki::{Certificate, TrustStore};
use std::collections::BTreeMap;

/// What the import added to one cluster's stores: `(store, subject, serial, from)` lines.
pub type Imported = Vec<String>;

fn consolidated(clusters: [&Cluster; 2]) -> BTreeMap<CertType, Vec<(Certificate, String)>> {
    let mut by_type: BTreeMap<CertType, Vec<(Certificate, String)>> = BTreeMap::new();
    for c in clusters {
        for b in &c.files.bundles {
            let from = b
                .path
                .strip_prefix(c.dir.parent().unwrap_or(&c.dir))
                .unwrap_or(&b.path)
                .display()
                .to_string();
            for cert in &b.certs {
                by_type
                    .entry(b.cert_type)
                    .or_default()
                    .push((cert.clone(), from.clone()));
            }
        }
    }
    by_type
}

fn import(
    cluster: &mut Cluster,
    files: &BTreeMap<CertType, Vec<(Certificate, String)>>,
) -> Imported {
    let mut added = vec![];
    for (t, certs) in files {
        for (cert, from) in certs {
            for store in import_stores(*t) {
                let s = cluster
                    .stores
                    .entry(*store)
                    .or_insert_with(|| TrustStore::new(*store));
                if s.add(cert.clone()) {
                    added.push(format!(
                        "{store}: {} (serial {}) from {from}",
                        cert.subject().to_cucm(),
                        cert.serial_hex()
                    ));
                }
            }
        }
    }
    added
}

/// Consolidates both clusters' exports and imports them on both; returns what each gained
/// (source, destination). A cluster without bundles exports nothing, which is said.
pub fn bulk_import(src: &mut Cluster, dst: &mut Cluster) -> Result<(Imported, Imported), String> {
    for c in [&*src, &*dst] {
        if c.files.bundles.is_empty() {
            return Err(format!(
                "{}: --with-bulk-import needs the cluster's Bulk Certificate Management export \
                 in sftp/*.pkcs12, and there is none",
                c.dir.display()
            ));
        }
    }
    let files = consolidated([src, dst]);
    let a = import(src, &files);
    let b = import(dst, &files);
    Ok((a, b))
}
