//! The two keys of the QUIC link between farms and serve: serve's and the farm's, each an EC
//! P-256 key with a self-signed certificate. Derived from a seed (labels `wire/quic/serve`,
//! `wire/quic/farm`: a farm and a serve of the same scenario and seed agree without files), or
//! read from a directory (`serve.pem`, `serve.key`, `farm.pem`, `farm.key`; a side needs only
//! its own key), and written there by `serve --export-keys` (under `quic/`).

use cucmsim_core::pki::{
    CertSpec, Certificate, DistinguishedName, ExtKeyUsage, KeyForge, KeyProfile, KeyUsage,
    PrivateKey,
};
use cucmsim_core::WallTime;
use std::path::Path;
use std::sync::Arc;

/// serve's and the farm's certificates, and the keys this side has.
#[derive(Clone, Debug)]
pub struct LinkKeys {
    pub serve: Certificate,
    pub serve_key: Option<Arc<PrivateKey>>,
    pub farm: Certificate,
    pub farm_key: Option<Arc<PrivateKey>>,
}

fn self_signed(
    forge: &KeyForge,
    label: &str,
    cn: &str,
) -> Result<(Certificate, Arc<PrivateKey>), String> {
    let key = forge.key(label, KeyProfile::EcP256);
    // Fixed dates: the certificate is a carrier for the pinned key, never judged by date.
    let from = WallTime::from_ymd(2020, 1, 1).ok_or("date")?;
    let spec = CertSpec {
        subject: DistinguishedName::new([("CN", cn), ("O", "cucmsim")]),
        serial: forge.serial(label, 8),
        not_before: from,
        not_after: from.plus_s(80 * WallTime::YEAR_S),
        ca: None,
        key_usage: vec![KeyUsage::DigitalSignature],
        ext_key_usage: vec![ExtKeyUsage::ServerAuth, ExtKeyUsage::ClientAuth],
        san_dns: vec![super::SERVER_NAME.to_string()],
        san_uri: vec![],
    };
    let cert = Certificate::issue(&spec, &key, None).map_err(|e| e.to_string())?;
    Ok((cert, key))
}

fn read_cert(dir: &Path, name: &str) -> Result<Certificate, String> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Certificate::from_pem(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_key(dir: &Path, name: &str, cert: &Certificate) -> Result<Option<Arc<PrivateKey>>, String> {
    let path = dir.join(name);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let p = pem::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if p.tag() != "PRIVATE KEY" {
        return Err(format!(
            "{}: a PKCS#8 \"PRIVATE KEY\" is needed",
            path.display()
        ));
    }
    let key =
        PrivateKey::from_pkcs8_der(p.contents()).map_err(|e| format!("{}: {e}", path.display()))?;
    if Some(&key.public_key()) != cert.public_key() {
        return Err(format!("{} is not the key of its .pem", path.display()));
    }
    Ok(Some(Arc::new(key)))
}

impl LinkKeys {
    /// Both keys from `seed`.
    pub fn derive(seed: u64) -> Result<LinkKeys, String> {
        let forge = KeyForge::new(seed);
        let (serve, serve_key) = self_signed(&forge, "wire/quic/serve", "cucmsim serve")?;
        let (farm, farm_key) = self_signed(&forge, "wire/quic/farm", "cucmsim farm")?;
        Ok(LinkKeys {
            serve,
            serve_key: Some(serve_key),
            farm,
            farm_key: Some(farm_key),
        })
    }

    /// The keys in `dir` (both certificates, whichever keys are there).
    pub fn read(dir: &Path) -> Result<LinkKeys, String> {
        let serve = read_cert(dir, "serve.pem")?;
        let farm = read_cert(dir, "farm.pem")?;
        Ok(LinkKeys {
            serve_key: read_key(dir, "serve.key", &serve)?,
            farm_key: read_key(dir, "farm.key", &farm)?,
            serve,
            farm,
        })
    }

    /// `--quic-keys DIR` if given, else the seed's.
    pub fn from_args(dir: Option<&Path>, seed: u64) -> Result<LinkKeys, String> {
        match dir {
            Some(d) => LinkKeys::read(d).map_err(|e| format!("--quic-keys: {e}")),
            None => LinkKeys::derive(seed),
        }
    }

    /// Writes the certificates and the keys this side has into `dir` (created; files that
    /// exist are not overwritten).
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let key_pem = |k: &PrivateKey| pem::encode(&pem::Pem::new("PRIVATE KEY", k.to_pkcs8_der()));
        let mut files = vec![
            ("serve.pem", self.serve.to_pem()),
            ("farm.pem", self.farm.to_pem()),
        ];
        if let Some(k) = &self.serve_key {
            files.push(("serve.key", key_pem(k)));
        }
        if let Some(k) = &self.farm_key {
            files.push(("farm.key", key_pem(k)));
        }
        for (name, text) in files {
            let path = dir.join(name);
            if path.exists() {
                return Err(format!(
                    "{} exists; export into an empty directory",
                    path.display()
                ));
            }
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_gives_the_same_keys_and_files_round_trip() {
        let a = LinkKeys::derive(7).unwrap();
        let b = LinkKeys::derive(7).unwrap();
        assert_eq!(a.farm.public_key(), b.farm.public_key());
        assert_ne!(
            a.farm.public_key(),
            LinkKeys::derive(8).unwrap().farm.public_key()
        );
        let dir = std::env::temp_dir().join(format!("cucmsim-quic-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        a.write(&dir).unwrap();
        let r = LinkKeys::read(&dir).unwrap();
        assert_eq!(r.serve.public_key(), a.serve.public_key());
        assert!(r.farm_key.is_some() && r.serve_key.is_some());
        assert!(a.write(&dir).is_err(), "never over existing files");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
