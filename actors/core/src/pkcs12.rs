//! PKCS#12 bundles for Bulk Certificate Management (reference §4.1): each publisher exports
//! every node's certificates as `<NODE>_<type>.pkcs12` to the shared SFTP directory; import
//! reads them back. Written and read with the `p12-keystore` crate (PBES2 AES-256, HMAC-SHA256,
//! 10,000 iterations), password-protected.
//!
//! Determinism note: the crate draws its salts and IVs from the OS, so the file bytes differ
//! run to run while the certificates and keys inside are the same for the same seed. Nothing
//! in the simulation hashes PKCS#12 bytes.

use crate::pki::identity::CertType;
use crate::pki::keys::PrivateKey;
use crate::pki::Certificate;
use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy, PrivateKeyChain};
use thiserror::Error;

/// Why a bundle could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Pkcs12Error {
    /// Wrong password, or the MAC does not match the contents.
    #[error("wrong password or corrupted bundle (MAC check failed)")]
    BadPassword,
    /// The bytes are not a PKCS#12 structure this reader understands.
    #[error("not a readable PKCS#12 bundle: {0}")]
    Malformed(String),
}

/// The contents of a bundle.
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    /// Trusted certificates, with their aliases.
    pub certificates: Vec<(String, Certificate)>,
    /// A private key with its chain (leaf first), with its alias.
    pub key: Option<(String, Vec<u8>, Vec<Certificate>)>,
}

impl Bundle {
    /// Every certificate in the bundle (chain certificates included), in order.
    pub fn all_certificates(&self) -> Vec<&Certificate> {
        let mut out: Vec<&Certificate> = self.certificates.iter().map(|(_, c)| c).collect();
        if let Some((_, _, chain)) = &self.key {
            out.extend(chain.iter());
        }
        out
    }

    /// The private key, decoded.
    pub fn private_key(&self) -> Option<PrivateKey> {
        self.key
            .as_ref()
            .and_then(|(_, der, _)| PrivateKey::from_pkcs8_der(der).ok())
    }
}

/// CUCM's bulk-export file name: `<NODE>_<type>.pkcs12`, e.g. `CUCM1052PUB_tomcat.pkcs12`.
pub fn bundle_file_name(node: &str, cert_type: CertType) -> String {
    format!("{node}_{}.pkcs12", cert_type.cucm_name())
}

/// Writes a bundle holding `certificates` (as trusted certificate bags) and, optionally, a
/// private key with its chain (as `file get tftp ITLRecovery.p12` carries).
pub fn write_bundle(
    certificates: &[(&str, &Certificate)],
    key: Option<(&str, &PrivateKey, &[Certificate])>,
    password: &str,
) -> Result<Vec<u8>, Pkcs12Error> {
    let mut store = KeyStore::new();
    for (alias, cert) in certificates {
        let c = p12_keystore::Certificate::from_der(cert.der())
            .map_err(|e| Pkcs12Error::Malformed(e.to_string()))?;
        store.add_entry(alias, KeyStoreEntry::Certificate(c));
    }
    if let Some((alias, private, chain)) = key {
        let pk = p12_keystore::PrivateKey::from_der(&private.to_pkcs8_der())
            .map_err(|e| Pkcs12Error::Malformed(e.to_string()))?;
        let certs = chain
            .iter()
            .map(|c| p12_keystore::Certificate::from_der(c.der()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Pkcs12Error::Malformed(e.to_string()))?;
        let key_id = sha1_of(chain.first().map(|c| c.der()).unwrap_or_default());
        store.add_entry(
            alias,
            KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(key_id, pk, certs)),
        );
    }
    store
        .writer(password)
        .write()
        .map_err(|e| Pkcs12Error::Malformed(e.to_string()))
}

fn sha1_of(data: &[u8]) -> Vec<u8> {
    use sha1::Digest as _;
    sha1::Sha1::digest(data).to_vec()
}

/// Reads a bundle. Never panics: a panic inside the parser is turned into `Malformed`.
pub fn read_bundle(bytes: &[u8], password: &str) -> Result<Bundle, Pkcs12Error> {
    let parsed = std::panic::catch_unwind(|| {
        KeyStore::from_pkcs12(bytes, password, Pkcs12ImportPolicy::Relaxed)
    })
    .map_err(|_| Pkcs12Error::Malformed("the PKCS#12 parser failed on these bytes".into()))?;
    let store = parsed.map_err(|e| match e {
        p12_keystore::error::Error::MacError(_) => Pkcs12Error::BadPassword,
        other => Pkcs12Error::Malformed(other.to_string()),
    })?;
    let mut bundle = Bundle::default();
    for (alias, entry) in store.entries() {
        match entry {
            KeyStoreEntry::Certificate(c) => {
                let cert = Certificate::from_der(c.as_der())
                    .map_err(|e| Pkcs12Error::Malformed(e.to_string()))?;
                bundle.certificates.push((alias.clone(), cert));
            }
            KeyStoreEntry::PrivateKeyChain(chain) => {
                let certs = chain
                    .certs()
                    .iter()
                    .map(|c| Certificate::from_der(c.as_der()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| Pkcs12Error::Malformed(e.to_string()))?;
                bundle.key = Some((alias.clone(), chain.key().as_der().to_vec(), certs));
            }
            KeyStoreEntry::Secret(_) => {}
        }
    }
    Ok(bundle)
}
