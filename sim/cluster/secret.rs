//! The cluster's shared secret and everything derived from it: the node identity both ends
//! of every QUIC connection present (one P-256 key derived from the secret, in a self-signed
//! certificate), the pin on that key, and ractor_cluster's cookie.
//!
//! Nobody without the secret completes a QUIC handshake with a node: the server demands a
//! client certificate and both ends accept only the key derived from their own secret
//! ([`crate::pinned`]; the handshake signature proves possession). The ractor_cluster cookie
//! challenge, derived from the same secret, is a second check inside.

use crate::pinned::{client_config, server_config, Link};
use cucmsim_core::pki::cert::{CertSpec, Certificate};
use cucmsim_core::pki::dn::DistinguishedName;
use cucmsim_core::pki::{PrivateKey, PublicKey};
use cucmsim_core::WallTime;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;

/// ALPN of the distributed protocol; a node speaking another version fails the handshake.
pub const ALPN: &[u8] = b"cucmsim-cluster/1";
/// The server name both ends use (the certificate is pinned, not named).
pub const SERVER_NAME: &str = "cucmsim-cluster";
/// The shortest secret accepted.
pub const MIN_SECRET: usize = 16;

/// The shared secret, and what is derived from it.
pub struct Secret {
    cert: Certificate,
    key: PrivateKey,
    /// The derived public key every peer must present.
    public: PublicKey,
    cookie: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

fn derive(secret: &[u8], purpose: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"cucmsim cluster secret\0");
    h.update(purpose.as_bytes());
    h.update([0]);
    h.update(secret);
    h.finalize().into()
}

impl Secret {
    /// Reads the secret from `path` (its bytes, surrounding white space ignored).
    pub fn load(path: &Path) -> Result<Secret, String> {
        let meta =
            std::fs::metadata(path).map_err(|e| format!("secret file {}: {e}", path.display()))?;
        if !meta.is_file() || meta.len() > 64 * 1024 {
            return Err(format!(
                "secret file {}: not a regular file of at most 64 KiB",
                path.display()
            ));
        }
        let bytes =
            std::fs::read(path).map_err(|e| format!("secret file {}: {e}", path.display()))?;
        Secret::from_bytes(bytes.trim_ascii())
            .map_err(|e| format!("secret file {}: {e}", path.display()))
    }

    /// The secret `bytes` (at least [`MIN_SECRET`] of them).
    pub fn from_bytes(bytes: &[u8]) -> Result<Secret, String> {
        if bytes.len() < MIN_SECRET {
            return Err(format!(
                "{} bytes; a secret has at least {MIN_SECRET} (e.g. `head -c 32 /dev/urandom | base64 > secret`)",
                bytes.len()
            ));
        }
        let mut scalar = derive(bytes, "node key");
        let key = loop {
            // Out of range with probability ~2^-128; the next hash then.
            if let Ok(k) = p256::SecretKey::from_slice(&scalar) {
                break k;
            }
            scalar = derive(&scalar, "node key");
        };
        use p256::pkcs8::EncodePrivateKey;
        let pkcs8 = key
            .to_pkcs8_der()
            .map_err(|e| format!("deriving the node key: {e}"))?
            .as_bytes()
            .to_vec();
        let private = PrivateKey::from_pkcs8_der(&pkcs8).map_err(|e| e.to_string())?;
        let now = WallTime::from_ymd(2025, 1, 1).ok_or("a fixed date")?;
        let spec = CertSpec {
            subject: DistinguishedName::new([("CN", SERVER_NAME)]),
            serial: derive(bytes, "serial")[..16].to_vec(),
            not_before: now,
            not_after: now.plus_s(WallTime::YEAR_S * 100),
            ca: None,
            key_usage: vec![],
            ext_key_usage: vec![],
            san_dns: vec![SERVER_NAME.to_string()],
            san_uri: vec![],
        };
        let cert = Certificate::issue(&spec, &private, None).map_err(|e| e.to_string())?;
        Ok(Secret {
            cert,
            public: private.public_key(),
            key: private,
            cookie: hex::encode(derive(bytes, "ractor_cluster cookie")),
        })
    }

    /// ractor_cluster's magic cookie.
    pub fn cookie(&self) -> String {
        self.cookie.clone()
    }

    fn link(&self) -> Link<'_> {
        Link {
            cert: &self.cert,
            key: &self.key,
            peers: vec![self.public.clone()],
            peer_name: "cluster node",
            alpn: ALPN,
        }
    }

    /// The QUIC server side: presents the node certificate, demands the peer's.
    pub fn server_config(&self) -> Result<quinn::ServerConfig, String> {
        server_config(&self.link(), transport())
    }

    /// The QUIC client side: presents the node certificate, accepts only the derived key.
    pub fn client_config(&self) -> Result<quinn::ClientConfig, String> {
        client_config(&self.link(), transport())
    }
}

/// How long a silent peer is given: keep-alives every second, and a connection with nothing
/// heard for [`IDLE_TIMEOUT_S`] is closed (a killed or frozen node ends the run in seconds).
pub const IDLE_TIMEOUT_S: u64 = 5;

fn transport() -> Arc<quinn::TransportConfig> {
    let mut t = quinn::TransportConfig::default();
    t.keep_alive_interval(Some(std::time::Duration::from_secs(1)));
    t.max_idle_timeout(Some(
        quinn::VarInt::from_u64(IDLE_TIMEOUT_S * 1000)
            .expect("small")
            .into(),
    ));
    // One long-lived stream per connection carries large window frames: a wide window.
    t.stream_receive_window(quinn::VarInt::from_u32(64 << 20));
    t.receive_window(quinn::VarInt::from_u32(128 << 20));
    t.send_window(128 << 20);
    Arc::new(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_secret_derives_the_same_key_and_another_does_not() {
        let a = Secret::from_bytes(b"0123456789abcdef-one").unwrap();
        let b = Secret::from_bytes(b"0123456789abcdef-one").unwrap();
        let c = Secret::from_bytes(b"0123456789abcdef-two").unwrap();
        assert_eq!(a.public, b.public);
        assert_ne!(a.public, c.public);
        assert_eq!(a.cookie(), b.cookie());
        assert_ne!(a.cookie(), c.cookie());
        assert!(a.server_config().is_ok() && a.client_config().is_ok());
        assert!(Secret::from_bytes(b"short").is_err());
    }
}
