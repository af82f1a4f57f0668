//! Bulk Certificate Management on a cluster's publisher (reference §4.1): export of the
//! nodes' certificates to the shared SFTP directory, consolidation of every cluster's
//! exports, and import of the consolidated files into the trust stores.
//!
//! ```text
//!  BulkExport{types} ─► SftpPut <HOST>_<type>.pkcs12        (every node, the chosen types)
//!  BulkExportNodes{types, nodes} ─► the same from the chosen nodes only
//!  SftpRemove{name} ─► SftpRemove (the operator deletes one file)
//!  BulkConsolidate ─► SftpList ─► SftpFiles ─► SftpPut consolidated_<type>.pkcs12
//!  BulkImport ─► SftpList ─► SftpFiles ─► stores per §4.1 ─► TvsStores (effective at TVS
//!        restart) · CallManagerTrust · CapfConfig
//!  BulkImportDefect{bug} ─► `bulk_import_failed`, nothing imported
//! ```
//! Import mapping [C S6]: CAPF → CallManager-trust; tomcat → tomcat-trust; CallManager and
//! ITLRecovery → Phone-SAST-trust and CallManager-trust. The import reads the consolidated
//! files, so consolidation on one cluster must come first [C S6]. Bundle password: `cucmsim`.

use super::Publisher;
use crate::machine::msg::{Addr, Effect, Msg, Now, Operator};
use crate::machine::trace::Kind;
use crate::pkcs12::{bundle_file_name, read_bundle, write_bundle};
use crate::pki::identity::CertType;
use crate::pki::{Certificate, StoreName, TrustStore};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Password of the bundles the simulated publishers write [I].
pub const BUNDLE_PASSWORD: &str = "cucmsim";

/// What the publisher does with the SFTP listing it asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Awaiting {
    Consolidate,
    Import,
}

/// The Bulk Certificate Management state of a publisher.
#[derive(Clone, Debug, Default)]
pub struct BulkState {
    /// The step whose SFTP listing is on its way.
    awaiting: Option<Awaiting>,
}

impl Publisher {
    /// Carries out a Bulk Certificate Management step.
    pub(super) fn bulk_step(&mut self, op: Operator, now: Now) -> Vec<Effect> {
        match op {
            Operator::BulkExport { types } => self.export(&types, None),
            Operator::BulkExportNodes { types, nodes } => self.export(&types, Some(&nodes)),
            Operator::SftpRemove { name } => vec![Effect::Send {
                to: Addr::Sftp,
                msg: Msg::SftpRemove { name },
            }],
            Operator::BulkConsolidate => self.list_sftp(Awaiting::Consolidate),
            Operator::BulkImport => self.list_sftp(Awaiting::Import),
            Operator::BulkImportDefect { bug } => vec![self.obs(
                now,
                Kind::BulkImportFailed,
                format!("{bug}: Bulk Certificate Management consolidate/import failed; no certificate imported"),
            )],
            _ => vec![],
        }
    }

    /// Asks the SFTP server for its files; `then` says what their arrival is for.
    fn list_sftp(&mut self, then: Awaiting) -> Vec<Effect> {
        self.bulk.awaiting = Some(then);
        vec![Effect::Send {
            to: Addr::Sftp,
            msg: Msg::SftpList {
                reply_to: Addr::Publisher(self.name().to_string()),
            },
        }]
    }

    /// The SFTP listing arrived: consolidate or import, whichever awaited it.
    pub(super) fn sftp_files(&mut self, files: &[(String, Arc<[u8]>)], now: Now) -> Vec<Effect> {
        match self.bulk.awaiting.take() {
            Some(Awaiting::Consolidate) => self.consolidate(files, now),
            Some(Awaiting::Import) => self.import(files, now),
            None => vec![],
        }
    }

    /// Exports the certificates of `types` of every node (or of `only` those nodes).
    fn export(&self, types: &[CertType], only: Option<&[String]>) -> Vec<Effect> {
        let chosen = |host: &String| only.is_none_or(|nodes| nodes.contains(host));
        let mut out = vec![];
        let mut put = |host: &str, t: CertType, cert: &Certificate| {
            if let Ok(bytes) = write_bundle(&[(t.cucm_name(), cert)], None, BUNDLE_PASSWORD) {
                out.push(Effect::Send {
                    to: Addr::Sftp,
                    msg: Msg::SftpPut {
                        name: bundle_file_name(host, t),
                        bytes: bytes.into(),
                    },
                });
            }
        };
        for node in &self.pki.nodes {
            let host = &node.spec.names.hostname;
            if !chosen(host) {
                continue;
            }
            for t in [CertType::Tomcat, CertType::CallManager] {
                if let (true, Some(id)) = (types.contains(&t), node.identity(t)) {
                    put(host, t, &id.cert);
                }
            }
        }
        let pub_host = self.pki.publisher().spec.names.hostname.clone();
        if !chosen(&pub_host) {
            return out;
        }
        if types.contains(&CertType::Capf) {
            put(&pub_host, CertType::Capf, &self.pki.capf.cert);
        }
        if types.contains(&CertType::ItlRecovery) {
            put(
                &pub_host,
                CertType::ItlRecovery,
                &self.pki.itl_recovery.cert,
            );
        }
        out
    }

    fn consolidate(&self, files: &[(String, Arc<[u8]>)], now: Now) -> Vec<Effect> {
        let mut by_type: BTreeMap<CertType, Vec<Certificate>> = BTreeMap::new();
        for (name, bytes) in files
            .iter()
            .filter(|(n, _)| !n.starts_with("consolidated_"))
        {
            let Some(t) = bundle_type(name) else { continue };
            if let Ok(bundle) = read_bundle(bytes, BUNDLE_PASSWORD) {
                by_type
                    .entry(t)
                    .or_default()
                    .extend(bundle.all_certificates().into_iter().cloned());
            }
        }
        let mut out = vec![self.obs(
            now,
            Kind::BulkConsolidated,
            format!("{} types from {} files", by_type.len(), files.len()),
        )];
        for (t, certs) in by_type {
            let aliases: Vec<String> = (0..certs.len())
                .map(|i| format!("{}-{i}", t.cucm_name()))
                .collect();
            let entries: Vec<(&str, &Certificate)> = aliases
                .iter()
                .map(String::as_str)
                .zip(certs.iter())
                .collect();
            if let Ok(bytes) = write_bundle(&entries, None, BUNDLE_PASSWORD) {
                let name = format!("consolidated_{}.pkcs12", t.cucm_name());
                out.push(Effect::Send {
                    to: Addr::Sftp,
                    msg: Msg::SftpPut {
                        name,
                        bytes: bytes.into(),
                    },
                });
            }
        }
        out
    }

    fn import(&mut self, files: &[(String, Arc<[u8]>)], now: Now) -> Vec<Effect> {
        let mut added = 0;
        for (name, bytes) in files.iter().filter(|(n, _)| n.starts_with("consolidated_")) {
            let Some(t) = bundle_type(name) else { continue };
            let Ok(bundle) = read_bundle(bytes, BUNDLE_PASSWORD) else {
                continue;
            };
            for cert in bundle.all_certificates() {
                for store in import_stores(t) {
                    added += usize::from(
                        self.stores
                            .entry(*store)
                            .or_insert_with(|| TrustStore::new(*store))
                            .add(cert.clone()),
                    );
                }
            }
        }
        let mut out = vec![self.obs(
            now,
            Kind::BulkImported,
            format!("{added} new store entries"),
        )];
        out.extend(self.push_stores());
        out.extend(self.push_cm_trust());
        out.extend(self.push_capf());
        out
    }
}

/// The certificate type a bundle file name says (`<HOST>_<type>.pkcs12`, `consolidated_<type>.pkcs12`).
pub fn bundle_type(name: &str) -> Option<CertType> {
    let stem = name.strip_suffix(".pkcs12")?;
    let t = stem.rsplit('_').next()?;
    t.parse().ok()
}

/// The trust stores an imported certificate of type `t` lands in [C S6].
pub fn import_stores(t: CertType) -> &'static [StoreName] {
    match t {
        CertType::Capf => &[StoreName::CallManagerTrust],
        CertType::Tomcat => &[StoreName::TomcatTrust],
        CertType::CallManager | CertType::ItlRecovery => {
            &[StoreName::PhoneSastTrust, StoreName::CallManagerTrust]
        }
        _ => &[],
    }
}
