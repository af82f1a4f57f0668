//! PKCS#12 bundles for Bulk Certificate Management (reference §4.1): each publisher exports
//! every node's certificates as `<NODE>_<type>.pkcs12` to the shared SFTP directory; import
//! reads them back. Written and read with the `p12-keystore` crate (PBES2 AES-256, HMAC-SHA256,
//! 10,000 iterations), password-protected.
//!
//! Determinism note: the crate draws its salts and IVs from the OS, so the file bytes differ
//! run to run while the certificates and keys inside are the same for the same seed. Nothing
//! in the simulation hashes PKCS#12 bytes.
//!
//! The 10,000 iterations make a bundle cost milliseconds; [`memoize_bundles`] (for `cucmsim
//! explore`, which runs one world hundreds of times) keeps every bundle written and read, so
//! the same contents give the same bytes and are derived once per process.

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

static MEMO_ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

type Memo<T> = std::sync::Mutex<std::collections::HashMap<[u8; 32], T>>;

fn written() -> &'static Memo<Result<Vec<u8>, Pkcs12Error>> {
    static M: std::sync::OnceLock<Memo<Result<Vec<u8>, Pkcs12Error>>> = std::sync::OnceLock::new();
    M.get_or_init(Default::default)
}

fn read() -> &'static Memo<Result<Bundle, Pkcs12Error>> {
    static M: std::sync::OnceLock<Memo<Result<Bundle, Pkcs12Error>>> = std::sync::OnceLock::new();
    M.get_or_init(Default::default)
}

/// Memoises bundles process-wide from now on: a bundle of the same contents is written once
/// (the same bytes every time after) and the same bytes are read once. Off unless called.
pub fn memoize_bundles() {
    MEMO_ON.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Through the memo `m` under `key` when memoising is on.
fn memoised<T: Clone>(m: &Memo<T>, key: impl FnOnce() -> [u8; 32], make: impl FnOnce() -> T) -> T {
    if !MEMO_ON.load(std::sync::atomic::Ordering::Relaxed) {
        return make();
    }
    let key = key();
    if let Some(v) = m.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return v;
    }
    let v = make();
    if let Ok(mut m) = m.lock() {
        if m.len() >= 10_000 {
            m.clear();
        }
        m.insert(key, v.clone());
    }
    v
}

fn digest_of(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// Writes a bundle holding `certificates` (as trusted certificate bags) and, optionally, a
/// private key with its chain (as `file get tftp ITLRecovery.p12` carries).
pub fn write_bundle(
    certificates: &[(&str, &Certificate)],
    key: Option<(&str, &PrivateKey, &[Certificate])>,
    password: &str,
) -> Result<Vec<u8>, Pkcs12Error> {
    let id = || {
        let mut parts: Vec<Vec<u8>> = vec![password.as_bytes().to_vec()];
        for (alias, c) in certificates {
            parts.push(alias.as_bytes().to_vec());
            parts.push(c.der().to_vec());
        }
        if let Some((alias, private, chain)) = key {
            parts.push(alias.as_bytes().to_vec());
            parts.push(private.to_pkcs8_der());
            parts.extend(chain.iter().map(|c| c.der().to_vec()));
        }
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        digest_of(&refs)
    };
    memoised(written(), id, || write_fresh(certificates, key, password))
}

fn write_fresh(
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
    memoised(
        read(),
        || digest_of(&[password.as_bytes(), bytes]),
        || read_fresh(bytes, password),
    )
}

fn read_fresh(bytes: &[u8], password: &str) -> Result<Bundle, Pkcs12Error> {
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
