//! The external certificate authority of the multi-server (SAN) procedure (reference §4.3):
//! a root and an intermediate generated from the seed per cluster, and the signing of a
//! pending multi-server request by the intermediate.
//!
//! ```text
//!  ExternalCa::generate(forge, cluster, now) ─► root (self-signed) ─► intermediate (CA, pathlen 0)
//!  MultiSanRequest{subject, SAN, key, usages, hosts} ─► ExternalCa::sign ─► 2-year certificate
//! ```
//! [I]: RSA-2048, 10 years, one CA for both types (Tomcat and CallManager); the request is the
//! key and the fields a PKCS#10 CSR would carry, which the CA signs exactly.

use crate::pki::dn::DistinguishedName;
use crate::pki::{
    CertSpec, Certificate, ExtKeyUsage, Identity, KeyForge, KeyProfile, KeyUsage, PrivateKey,
};
use crate::wall::WallTime;
use std::sync::Arc;

/// A certificate authority outside CUCM: a root and the intermediate that signs.
#[derive(Clone, Debug)]
pub struct ExternalCa {
    pub root: Identity,
    pub intermediate: Identity,
}

/// A pending multi-server request.
#[derive(Clone, Debug)]
pub struct MultiSanRequest {
    pub subject: DistinguishedName,
    pub san_dns: Vec<String>,
    pub key: Arc<PrivateKey>,
    pub key_usage: Vec<KeyUsage>,
    pub ext_key_usage: Vec<ExtKeyUsage>,
    /// The hosts whose identity the signed certificate becomes.
    pub hosts: Vec<String>,
}

impl ExternalCa {
    /// The CA of `cluster`, from `forge`, valid from `now`.
    pub fn generate(
        forge: &KeyForge,
        cluster: &str,
        now: WallTime,
    ) -> Result<Self, crate::error::CertError> {
        let make = |name: &str, issuer: Option<&Identity>| {
            let label = format!("{cluster}/external-ca/{name}");
            let key = forge.key(&label, KeyProfile::RSA2048);
            let spec = CertSpec {
                subject: DistinguishedName::new([
                    ("CN", format!("{cluster} External {name} CA")),
                    ("O", "Example".to_string()),
                ]),
                serial: forge.serial(&label, 16),
                not_before: now,
                not_after: now.plus_s(10 * WallTime::YEAR_S),
                ca: Some(if issuer.is_some() { Some(0) } else { None }),
                key_usage: vec![KeyUsage::DigitalSignature, KeyUsage::KeyCertSign],
                ext_key_usage: vec![],
                san_dns: vec![],
                san_uri: vec![],
            };
            let cert = Certificate::issue(&spec, &key, issuer.map(|i| (&i.cert, &*i.key)))?;
            Ok::<_, crate::error::CertError>(Identity {
                cert_type: None,
                cert,
                key,
            })
        };
        let root = make("Root", None)?;
        let intermediate = make("Intermediate", Some(&root))?;
        Ok(ExternalCa { root, intermediate })
    }

    /// Signs `req` with the intermediate: a 2-year [I] server certificate with the request's
    /// subject, SAN and usages.
    pub fn sign(
        &self,
        forge: &KeyForge,
        label: &str,
        req: &MultiSanRequest,
        now: WallTime,
    ) -> Result<Certificate, crate::error::CertError> {
        let spec = CertSpec {
            subject: req.subject.clone(),
            serial: forge.serial(&format!("{label}/signed"), 16),
            not_before: now,
            not_after: now.plus_s(2 * WallTime::YEAR_S),
            ca: None,
            key_usage: req.key_usage.clone(),
            ext_key_usage: req.ext_key_usage.clone(),
            san_dns: req.san_dns.clone(),
            san_uri: vec![],
        };
        Certificate::issue(
            &spec,
            &req.key,
            Some((&self.intermediate.cert, &self.intermediate.key)),
        )
    }
}
