//! Identities in and out of wire mode. In: `--identity TYPE=cert.pem[,key.pem]` replaces a
//! certificate the seed would make — `serve` presents it (and puts it in the ITL and trust
//! stores it builds), `farm` pins it (so phones trust a real server's TVS or CAPF). Out:
//! `serve --export-keys DIR` writes the served cluster's node identities and the MIC CA, keys
//! included, so another server (a real TVS/CAPF) can be started with them and given the MIC CA
//! as its trust.
//!
//! ```text
//!  "TVS=tvs.pem,tvs.key" ─► (CertType::Tvs, Certificate, Some(PrivateKey))
//!  serve: node identity / CAPF / ITLRecovery replaced ─► stores rebuilt ─► publisher started
//!  farm:  TVS / CAPF certificate the phones pin replaced
//!  export: DIR/<node>/<Type>.pem + .key, DIR/capf.pem/.key, DIR/itlrecovery.pem/.key,
//!          DIR/mic-ca/{root,issuing}.pem/.key
//! ```

use cucmsim_core::machine::Publisher;
use cucmsim_core::pki::identity::CertType;
use cucmsim_core::pki::keys::PrivateKey;
use cucmsim_core::pki::mic::ManufacturingCa;
use cucmsim_core::pki::{Certificate, Identity};
use std::path::Path;
use std::sync::Arc;

/// One `--identity` argument.
#[derive(Clone, Debug)]
pub struct IdentityArg {
    pub cert_type: CertType,
    pub cert: Certificate,
    pub key: Option<Arc<PrivateKey>>,
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

/// Parses `TYPE=cert.pem[,key.pem]` (PEM certificate, PKCS#8 PEM key).
pub fn parse_identity(s: &str) -> Result<IdentityArg, String> {
    let (t, files) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected TYPE=cert.pem[,key.pem]"))?;
    let cert_type: CertType = t.parse()?;
    let mut files = files.split(',');
    let cert_path = files.next().unwrap_or_default();
    let cert = Certificate::from_pem(&read(cert_path)?).map_err(|e| format!("{cert_path}: {e}"))?;
    let key = match files.next() {
        Some(key_path) => {
            let text = read(key_path)?;
            let p = pem::parse(&text).map_err(|e| format!("{key_path}: {e}"))?;
            if p.tag() != "PRIVATE KEY" {
                return Err(format!(
                    "{key_path}: a {} PEM block; a PKCS#8 \"PRIVATE KEY\" is needed",
                    p.tag()
                ));
            }
            let key =
                PrivateKey::from_pkcs8_der(p.contents()).map_err(|e| format!("{key_path}: {e}"))?;
            if Some(&key.public_key()) != cert.public_key() {
                return Err(format!("{key_path} is not the key of {cert_path}"));
            }
            Some(Arc::new(key))
        }
        None => None,
    };
    Ok(IdentityArg {
        cert_type,
        cert,
        key,
    })
}

/// A certificate and its PKCS#8 key from two PEM files (the key must match).
pub fn read_pair(cert_path: &str, key_path: &str) -> Result<Identity, String> {
    let a = parse_identity(&format!("TVS={cert_path},{key_path}"))?;
    Ok(Identity {
        cert_type: None,
        cert: a.cert,
        key: a.key.ok_or_else(|| format!("{key_path}: no key"))?,
    })
}

/// Puts the given identities into the publisher's PKI (node `node`'s, or the cluster-wide
/// CAPF and ITLRecovery) before it starts; the trust stores follow.
pub fn apply(
    p: &mut Publisher,
    node: &str,
    ids: &[IdentityArg],
    mfg: &ManufacturingCa,
) -> Result<(), String> {
    for a in ids {
        let key = a.key.clone().ok_or_else(|| {
            format!(
                "--identity {}: serve needs the key too (TYPE=cert.pem,key.pem)",
                a.cert_type
            )
        })?;
        let id = Identity {
            cert_type: Some(a.cert_type),
            cert: a.cert.clone(),
            key,
        };
        match a.cert_type {
            CertType::Capf => {
                p.pki.capf = id.clone();
                if let Some((_, config)) = p.capf.as_mut() {
                    let mut s = (*config.settings).clone();
                    s.capf = id;
                    config.settings = Arc::new(s);
                }
            }
            CertType::ItlRecovery => p.pki.itl_recovery = id,
            t => {
                let n = p
                    .pki
                    .nodes
                    .iter_mut()
                    .find(|n| n.spec.names.hostname == node)
                    .ok_or_else(|| format!("no node {node} in the cluster's PKI"))?;
                n.identities.insert(t, id);
            }
        }
    }
    p.stores = p.pki.initial_stores(Some(mfg));
    Ok(())
}

fn write_pair(dir: &Path, stem: &str, id: &Identity) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let w = |name: String, text: String| {
        let path = dir.join(name);
        if path.exists() {
            return Err(format!(
                "{} exists; export into an empty directory",
                path.display()
            ));
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    w(format!("{stem}.pem"), id.cert.to_pem())?;
    let key = pem::Pem::new("PRIVATE KEY", id.key.to_pkcs8_der());
    w(format!("{stem}.key"), pem::encode(&key))
}

/// Writes every node identity, CAPF, ITLRecovery and the MIC CA (certificates and keys).
pub fn export(p: &Publisher, mfg: &ManufacturingCa, dir: &Path) -> Result<usize, String> {
    let mut n = 0;
    for node in &p.pki.nodes {
        let d = dir.join(&node.spec.names.hostname);
        for (t, id) in &node.identities {
            write_pair(&d, t.cucm_name(), id)?;
            n += 1;
        }
    }
    write_pair(dir, "CAPF", &p.pki.capf)?;
    write_pair(dir, "ITLRecovery", &p.pki.itl_recovery)?;
    write_pair(&dir.join("mic-ca"), "root", &mfg.root)?;
    write_pair(&dir.join("mic-ca"), "issuing", &mfg.issuing)?;
    Ok(n + 4)
}
