//! X.509 certificates: issued with rcgen from seed-derived keys, parsed once with x509-parser
//! into the facts the trust machinery needs (names, serial, validity, key, usages).
//!
//! Every certificate is issued with an explicit validity window taken from a given wall time,
//! and signed through [`SignerAdapter`] with our own keys, so signatures are deterministic (RSA
//! PKCS#1 v1.5 and RFC 6979 ECDSA) and the bytes depend only on the seed.

use super::dn::DistinguishedName;
use super::keys::{Backend, EcdsaEncoding, PrivateKey, PublicKey};
use crate::digest::DigestAlg;
use crate::error::{CertError, SigError};
use crate::wall::WallTime;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyIdMethod, KeyUsagePurpose, SanType, SerialNumber,
};
use serde::Serialize;
use sha1::Digest as _;
use std::fmt;
use std::sync::Arc;
use x509_parser::prelude::*;

/// Key usage bits (RFC 5280 §4.2.1.3) that the CUCM rules of reference §4.3 talk about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum KeyUsage {
    DigitalSignature,
    KeyEncipherment,
    DataEncipherment,
    KeyAgreement,
    KeyCertSign,
    CrlSign,
}

/// Extended key usages used by CUCM certificates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ExtKeyUsage {
    ServerAuth,
    ClientAuth,
    /// id-kp-ipsecEndSystem 1.3.6.1.5.5.7.3.5 ("IPsec" in CUCM's CSR rules).
    IpsecEndSystem,
}

/// What to put in a new certificate.
#[derive(Clone, Debug)]
pub struct CertSpec {
    /// Subject attributes in DER order.
    pub subject: DistinguishedName,
    /// Serial number bytes (positive, minimal).
    pub serial: Vec<u8>,
    pub not_before: WallTime,
    pub not_after: WallTime,
    /// `Some(path_len)` for a CA (`None` inside: unconstrained); `None` for an end entity.
    pub ca: Option<Option<u8>>,
    pub key_usage: Vec<KeyUsage>,
    pub ext_key_usage: Vec<ExtKeyUsage>,
    /// DNS subject alternative names.
    pub san_dns: Vec<String>,
    /// URI subject alternative names (LSCs carry the device name).
    pub san_uri: Vec<String>,
}

/// The algorithm a certificate is signed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CertSigAlg {
    Rsa(DigestAlg),
    Ecdsa(DigestAlg),
    /// Anything else (e.g. SHA-384): parsed, but its signature cannot be checked here.
    Other,
}

/// A parsed X.509 certificate. Cheap to clone.
#[derive(Clone)]
pub struct Certificate {
    der: Arc<[u8]>,
    info: Arc<CertInfo>,
}

/// The facts read from a certificate.
#[derive(Debug)]
pub struct CertInfo {
    pub subject: DistinguishedName,
    pub issuer: DistinguishedName,
    pub serial: Vec<u8>,
    pub not_before: WallTime,
    pub not_after: WallTime,
    pub public_key: Option<PublicKey>,
    pub sig_alg: CertSigAlg,
    tbs: (usize, usize),
    pub signature: Vec<u8>,
    /// `Some(path_len)` when basicConstraints says CA:TRUE.
    pub ca: Option<Option<u32>>,
    /// Whether the certificate has a basicConstraints extension at all (v1 roots have none).
    pub has_basic_constraints: bool,
    pub key_usage: Vec<KeyUsage>,
    pub ext_key_usage: Vec<ExtKeyUsage>,
    pub san_dns: Vec<String>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Certificate({}, serial {})",
            self.info.subject,
            self.serial_hex()
        )
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}
impl Eq for Certificate {}

impl Certificate {
    /// Parses DER. Never panics, whatever the bytes.
    pub fn from_der(der: &[u8]) -> Result<Certificate, CertError> {
        let info = parse_info(der)?;
        Ok(Certificate {
            der: der.into(),
            info: Arc::new(info),
        })
    }

    /// A certificate from its DER and the parse of exactly those bytes ([`super::shared_cert`]).
    pub(crate) fn from_parts(der: Arc<[u8]>, info: Arc<CertInfo>) -> Certificate {
        Certificate { der, info }
    }

    /// Weak references to the DER and the parse ([`super::shared_cert`]).
    pub(crate) fn downgrade(&self) -> (std::sync::Weak<[u8]>, std::sync::Weak<CertInfo>) {
        (Arc::downgrade(&self.der), Arc::downgrade(&self.info))
    }

    /// Whether both hold one and the same parse (shared, not only equal).
    pub fn same_parse(&self, other: &Certificate) -> bool {
        Arc::ptr_eq(&self.info, &other.info)
    }

    /// Parses the first `CERTIFICATE` block of a PEM text.
    pub fn from_pem(text: &str) -> Result<Certificate, CertError> {
        let block = ::pem::parse_many(text)
            .map_err(|e| CertError::Malformed(format!("PEM: {e}")))?
            .into_iter()
            .find(|p| p.tag() == "CERTIFICATE")
            .ok_or_else(|| CertError::Malformed("no CERTIFICATE block in PEM".into()))?;
        Certificate::from_der(block.contents())
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// PEM text.
    pub fn to_pem(&self) -> String {
        ::pem::encode(&::pem::Pem::new("CERTIFICATE", self.der.to_vec()))
    }

    /// The parsed facts.
    pub fn info(&self) -> &CertInfo {
        &self.info
    }

    pub fn subject(&self) -> &DistinguishedName {
        &self.info.subject
    }

    pub fn issuer(&self) -> &DistinguishedName {
        &self.info.issuer
    }

    pub fn serial(&self) -> &[u8] {
        &self.info.serial
    }

    /// Serial as lower-case hex.
    pub fn serial_hex(&self) -> String {
        hex::encode(&self.info.serial)
    }

    /// SHA-1 of the DER, lower-case hex (`show itl` prints it for each record).
    pub fn sha1_hex(&self) -> String {
        hex::encode(sha1::Sha1::digest(&self.der))
    }

    /// The subject public key, if it is RSA or P-256.
    pub fn public_key(&self) -> Option<&PublicKey> {
        self.info.public_key.as_ref()
    }

    /// The bytes under the issuer's signature.
    pub fn tbs(&self) -> &[u8] {
        &self.der[self.info.tbs.0..self.info.tbs.1]
    }

    /// Whether the subject equals the issuer (by DER-order attributes).
    pub fn is_self_issued(&self) -> bool {
        self.info.subject == self.info.issuer
    }

    /// The start of the validity window.
    pub fn not_before(&self) -> WallTime {
        self.info.not_before
    }

    /// The end of the validity window.
    pub fn not_after(&self) -> WallTime {
        self.info.not_after
    }

    /// Checks validity at `now` (the host's own simulated clock).
    pub fn check_validity(&self, now: WallTime) -> Result<(), CertError> {
        let subject = self.info.subject.to_cucm();
        if now < self.info.not_before {
            return Err(CertError::NotYetValid {
                subject,
                now,
                not_before: self.info.not_before,
            });
        }
        if now > self.info.not_after {
            return Err(CertError::Expired {
                subject,
                now,
                not_after: self.info.not_after,
            });
        }
        Ok(())
    }

    /// Checks that `issuer_key` signed this certificate.
    pub fn check_signed_by(
        &self,
        issuer_key: &PublicKey,
        backend: Backend,
    ) -> Result<(), CertError> {
        let bad = || CertError::BadSignature {
            subject: self.info.subject.to_cucm(),
        };
        let digest = match self.info.sig_alg {
            CertSigAlg::Rsa(d) if matches!(issuer_key, PublicKey::Rsa(_)) => d,
            CertSigAlg::Ecdsa(d) if matches!(issuer_key, PublicKey::EcP256(_)) => d,
            _ => return Err(bad()),
        };
        issuer_key
            .verify(backend, digest, self.tbs(), &self.info.signature)
            .map_err(|_| bad())
    }

    /// Issues a certificate for `subject_key` from `spec`, signed by `issuer` (certificate and
    /// key) or self-signed when `issuer` is `None`.
    pub fn issue(
        spec: &CertSpec,
        subject_key: &PrivateKey,
        issuer: Option<(&Certificate, &PrivateKey)>,
    ) -> Result<Certificate, CertError> {
        let params = to_params(spec, subject_key)?;
        let subject = SignerAdapter::new(subject_key);
        let cert = match issuer {
            None => params.self_signed(&subject),
            Some((issuer_cert, issuer_key)) => {
                let ca = Issuer::new(
                    issuer_params(issuer_cert, issuer_key),
                    SignerAdapter::new(issuer_key),
                );
                params.signed_by(&subject, &ca)
            }
        }
        .map_err(|e| CertError::Malformed(format!("rcgen: {e}")))?;
        Certificate::from_der(cert.der())
    }
}

/// The rcgen view of an issuing certificate: its subject (re-encoded the way rcgen encoded it
/// when this project issued it) and its key identifier (SHA-1 of the key, as in [`to_params`]).
fn issuer_params(cert: &Certificate, key: &PrivateKey) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen_dn(cert.subject());
    p.key_identifier_method = KeyIdMethod::PreSpecified(key_id(key));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    p
}

fn rcgen_dn(dn: &DistinguishedName) -> rcgen::DistinguishedName {
    let mut out = rcgen::DistinguishedName::new();
    for (attr, value) in &dn.0 {
        out.push(dn_type(attr), value.as_str());
    }
    out
}

fn key_id(key: &PrivateKey) -> Vec<u8> {
    sha1::Sha1::digest(key.public_key().record_bytes()).to_vec()
}

fn to_params(spec: &CertSpec, subject_key: &PrivateKey) -> Result<CertificateParams, CertError> {
    spec_params(spec, key_id(subject_key), SanOrder::DnsFirst)
}

/// Which SAN kind a certificate lists first (the order is part of the DER, so each issuer
/// keeps its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SanOrder {
    /// Self-signed and cluster certificates.
    DnsFirst,
    /// LSCs from a CA (the device name URI first).
    UriFirst,
}

/// rcgen parameters for `spec`, with `subject_key_id` as the Subject Key Identifier (RFC 5280
/// §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits, as OpenSSL and CUCM do). Shared by
/// every issuer of this crate.
pub(crate) fn spec_params(
    spec: &CertSpec,
    subject_key_id: Vec<u8>,
    order: SanOrder,
) -> Result<CertificateParams, CertError> {
    let mut p = CertificateParams::default();
    p.not_before = spec.not_before.to_offset_date_time();
    p.not_after = spec.not_after.to_offset_date_time();
    p.serial_number = Some(SerialNumber::from_slice(&spec.serial));
    p.distinguished_name = rcgen_dn(&spec.subject);
    p.is_ca = match spec.ca {
        None => IsCa::ExplicitNoCa,
        Some(None) => IsCa::Ca(BasicConstraints::Unconstrained),
        Some(Some(n)) => IsCa::Ca(BasicConstraints::Constrained(n)),
    };
    p.key_usages = spec.key_usage.iter().map(|k| rcgen_ku(*k)).collect();
    p.extended_key_usages = spec.ext_key_usage.iter().map(|k| rcgen_eku(*k)).collect();
    let ia5 = |name: &String| {
        name.clone()
            .try_into()
            .map_err(|_| CertError::Malformed(format!("SAN {name:?}")))
    };
    let dns = spec.san_dns.iter().map(|n| ia5(n).map(SanType::DnsName));
    let uri = spec.san_uri.iter().map(|n| ia5(n).map(SanType::URI));
    p.subject_alt_names = match order {
        SanOrder::DnsFirst => dns.chain(uri).collect::<Result<_, _>>()?,
        SanOrder::UriFirst => uri.chain(dns).collect::<Result<_, _>>()?,
    };
    p.key_identifier_method = KeyIdMethod::PreSpecified(subject_key_id);
    p.use_authority_key_identifier_extension = true;
    Ok(p)
}

fn dn_type(attr: &str) -> DnType {
    match attr.to_ascii_uppercase().as_str() {
        "CN" => DnType::CommonName,
        "OU" => DnType::OrganizationalUnitName,
        "O" => DnType::OrganizationName,
        "L" => DnType::LocalityName,
        "ST" => DnType::StateOrProvinceName,
        "C" => DnType::CountryName,
        "SERIALNUMBER" => DnType::CustomDnType(vec![2, 5, 4, 5]),
        _ => DnType::CustomDnType(vec![2, 5, 4, 3]),
    }
}

fn rcgen_ku(k: KeyUsage) -> KeyUsagePurpose {
    match k {
        KeyUsage::DigitalSignature => KeyUsagePurpose::DigitalSignature,
        KeyUsage::KeyEncipherment => KeyUsagePurpose::KeyEncipherment,
        KeyUsage::DataEncipherment => KeyUsagePurpose::DataEncipherment,
        KeyUsage::KeyAgreement => KeyUsagePurpose::KeyAgreement,
        KeyUsage::KeyCertSign => KeyUsagePurpose::KeyCertSign,
        KeyUsage::CrlSign => KeyUsagePurpose::CrlSign,
    }
}

fn rcgen_eku(k: ExtKeyUsage) -> ExtendedKeyUsagePurpose {
    match k {
        ExtKeyUsage::ServerAuth => ExtendedKeyUsagePurpose::ServerAuth,
        ExtKeyUsage::ClientAuth => ExtendedKeyUsagePurpose::ClientAuth,
        ExtKeyUsage::IpsecEndSystem => {
            ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 5])
        }
    }
}

/// Lets rcgen sign with our keys: RSA PKCS#1 v1.5 SHA-256, or ECDSA P-256 SHA-256 (DER).
pub struct SignerAdapter<'a> {
    key: &'a PrivateKey,
    public: Vec<u8>,
}

impl<'a> SignerAdapter<'a> {
    pub fn new(key: &'a PrivateKey) -> Self {
        SignerAdapter {
            key,
            public: key.public_key().record_bytes(),
        }
    }
}

impl rcgen::PublicKeyData for SignerAdapter<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        match self.key {
            PrivateKey::Rsa { .. } => &rcgen::PKCS_RSA_SHA256,
            PrivateKey::EcP256(_) => &rcgen::PKCS_ECDSA_P256_SHA256,
        }
    }
}

impl rcgen::SigningKey for SignerAdapter<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.key
            .sign(Backend::Ring, DigestAlg::Sha256, msg, EcdsaEncoding::Der)
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

fn parse_info(der: &[u8]) -> Result<CertInfo, CertError> {
    let (rest, x) =
        X509Certificate::from_der(der).map_err(|e| CertError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(CertError::Malformed(format!(
            "{} trailing bytes after certificate",
            rest.len()
        )));
    }
    let tbs_raw = x.tbs_certificate.as_ref();
    let tbs_start =
        subslice_offset(der, tbs_raw).ok_or_else(|| CertError::Malformed("tbs".into()))?;
    let mut info = CertInfo {
        subject: dn_of(x.subject()),
        issuer: dn_of(x.issuer()),
        serial: minimal_serial(x.raw_serial()),
        not_before: WallTime(x.validity().not_before.timestamp()),
        not_after: WallTime(x.validity().not_after.timestamp()),
        public_key: public_key_of(x.public_key()),
        sig_alg: sig_alg_of(&x.signature_algorithm.algorithm.to_id_string()),
        tbs: (tbs_start, tbs_start + tbs_raw.len()),
        signature: x.signature_value.data.to_vec(),
        ca: None,
        has_basic_constraints: false,
        key_usage: vec![],
        ext_key_usage: vec![],
        san_dns: vec![],
    };
    for ext in x.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::BasicConstraints(bc) => {
                info.has_basic_constraints = true;
                if bc.ca {
                    info.ca = Some(bc.path_len_constraint);
                }
            }
            ParsedExtension::KeyUsage(ku) => info.key_usage = key_usages(ku),
            ParsedExtension::ExtendedKeyUsage(eku) => {
                if eku.server_auth {
                    info.ext_key_usage.push(ExtKeyUsage::ServerAuth);
                }
                if eku.client_auth {
                    info.ext_key_usage.push(ExtKeyUsage::ClientAuth);
                }
                if eku
                    .other
                    .iter()
                    .any(|o| o.to_id_string() == "1.3.6.1.5.5.7.3.5")
                {
                    info.ext_key_usage.push(ExtKeyUsage::IpsecEndSystem);
                }
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                for name in &san.general_names {
                    if let GeneralName::DNSName(d) = name {
                        info.san_dns.push(d.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    Ok(info)
}

fn subslice_offset(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    (start + inner.len() <= outer.len()).then_some(start)
}

fn minimal_serial(raw: &[u8]) -> Vec<u8> {
    let mut s = raw;
    while s.len() > 1 && s[0] == 0 {
        s = &s[1..];
    }
    s.to_vec()
}

fn key_usages(ku: &x509_parser::extensions::KeyUsage) -> Vec<KeyUsage> {
    let mut out = vec![];
    let pairs = [
        (ku.digital_signature(), KeyUsage::DigitalSignature),
        (ku.key_encipherment(), KeyUsage::KeyEncipherment),
        (ku.data_encipherment(), KeyUsage::DataEncipherment),
        (ku.key_agreement(), KeyUsage::KeyAgreement),
        (ku.key_cert_sign(), KeyUsage::KeyCertSign),
        (ku.crl_sign(), KeyUsage::CrlSign),
    ];
    for (set, usage) in pairs {
        if set {
            out.push(usage);
        }
    }
    out
}

fn short_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.11" => "OU",
        "2.5.4.10" => "O",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.6" => "C",
        "2.5.4.5" => "serialNumber",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.25" => "DC",
        other => return other.to_string(),
    }
    .to_string()
}

fn dn_of(name: &X509Name<'_>) -> DistinguishedName {
    let mut attrs = vec![];
    for rdn in name.iter() {
        for attr in rdn.iter() {
            let value = attr
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|_| hex::encode(attr.attr_value().data));
            attrs.push((short_name(&attr.attr_type().to_id_string()), value));
        }
    }
    DistinguishedName(attrs)
}

fn public_key_of(spki: &SubjectPublicKeyInfo<'_>) -> Option<PublicKey> {
    let bits = &spki.subject_public_key.data;
    match spki.algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.113549.1.1.1" => PublicKey::from_record_bytes(bits).ok(),
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())?;
            (curve.to_id_string() == "1.2.840.10045.3.1.7")
                .then(|| PublicKey::from_record_bytes(bits).ok())?
        }
        _ => None,
    }
}

fn sig_alg_of(oid: &str) -> CertSigAlg {
    match oid {
        "1.2.840.113549.1.1.5" => CertSigAlg::Rsa(DigestAlg::Sha1),
        "1.2.840.113549.1.1.11" => CertSigAlg::Rsa(DigestAlg::Sha256),
        "1.2.840.113549.1.1.13" => CertSigAlg::Rsa(DigestAlg::Sha512),
        "1.2.840.10045.4.1" => CertSigAlg::Ecdsa(DigestAlg::Sha1),
        "1.2.840.10045.4.3.2" => CertSigAlg::Ecdsa(DigestAlg::Sha256),
        "1.2.840.10045.4.3.4" => CertSigAlg::Ecdsa(DigestAlg::Sha512),
        _ => CertSigAlg::Other,
    }
}

impl From<SigError> for CertError {
    fn from(e: SigError) -> Self {
        CertError::Malformed(e.to_string())
    }
}
