//! LSC issuance by the CAPF itself (the default "Certificate Issuer to Endpoint" mode, "Cisco
//! Certificate Authority Proxy Function" [C S14]), and the F13 check of the CAPF certificate.
//!
//! ```text
//!  KEY_GEN_RES public key ─┐
//!  device record (name, model, serial) ─┼─► LscTemplate::subject ─► rcgen params ─► signed by the
//!  CAPF identity (certificate + key) ───┘   (serial from KeyForge, validity from `now`)    CAPF key
//! ```
//! What the certificate carries, and where each choice comes from:
//!
//! | field | value | source |
//! |---|---|---|
//! | subject, [`LscTemplate::cucm`] (default) | `serialNumber=PID:CP-<model> SN:<serial>`, C, O, OU copied from the issuer, `CN=CP-<model>-<device>` | real CUCM LSC [C S5] (its issuer had ST and L; the LSC did not) |
//! | subject, [`LscTemplate::usecallmanager`] | `CN=<device>`, then O, OU, L, ST, C copied from the issuer | usecallmanager `capfd` [OSS S2] |
//! | basicConstraints | CA:FALSE, critical | [OSS S2] |
//! | keyUsage | digitalSignature, keyEncipherment, critical | [OSS S2]; "Online CA" LSCs without them fail secure registration [C S14] |
//! | extKeyUsage | serverAuth, clientAuth, IPsec end system (1.3.6.1.5.5.7.3.5) | [OSS S2] |
//! | subjectAltName | URI = device name | [OSS S2] |
//! | serial | 128 bits from the seed ([`lsc_serial`]) | random 128-bit in [OSS S2] |
//! | signature | SHA-256 with the CAPF key (RSA PKCS#1 v1.5 or ECDSA P-256) | since 11.5(1)SU1 [C S14] |
//! | validity | `now` .. `now` + N days, N in 1..=1825 | [C S14]; default 1825 is [I] |
//!
//! When the device record has no hardware serial, `SN:` takes the MAC part of the device name,
//! as the MICs of [`crate::pki::mic`] do [I]. The issue time is an argument: never the host clock.

use crate::capf::keys::KeyError;
use crate::error::CertError;
use crate::pki::cert::SignerAdapter;
use crate::pki::{Certificate, DistinguishedName, Identity, KeyForge, KeyUsage, PublicKey};
use crate::tlv::content::CucmVersion;
use crate::wall::WallTime;
use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyUsagePurpose,
    SanType, SerialNumber,
};
use sha1::Digest as _;
use std::ops::RangeInclusive;
use thiserror::Error;

/// "Duration Of Certificate Validity (in days)": 1–1825 [C S14].
pub const VALIDITY_DAYS: RangeInclusive<u32> = 1..=1825;

/// First release whose CAPF certificate must be CA:TRUE with keyCertSign (F13) [C].
pub const CA_CAPF_FROM: CucmVersion = CucmVersion::new(14, 0, 2);

/// What the LSC's common name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LscCommonName {
    /// `CP-<model>-<device>`, e.g. `CP-8861-SEPB000B4BA0AEE` [C S5].
    ModelAndDevice,
    /// The device name, e.g. `SEPB000B4BA0AEE` [OSS S2].
    DeviceName,
}

/// The LSC template: a setting, because the real subject [C S5] and usecallmanager's [OSS]
/// differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LscTemplate {
    pub common_name: LscCommonName,
    /// Whether CN comes first (usecallmanager) or last (CUCM).
    pub cn_first: bool,
    /// Issuer attributes copied into the subject, in this order (absent ones are skipped).
    pub issuer_attrs: Vec<String>,
    /// Whether the subject starts with `serialNumber=PID:CP-<model> SN:<serial>`.
    pub serial_number_attr: bool,
    /// Validity in days, 1..=1825.
    pub validity_days: u32,
}

impl Default for LscTemplate {
    fn default() -> Self {
        LscTemplate::cucm()
    }
}

impl LscTemplate {
    /// The subject of a real CUCM LSC [C S5], valid 1825 days [I].
    pub fn cucm() -> LscTemplate {
        LscTemplate {
            common_name: LscCommonName::ModelAndDevice,
            cn_first: false,
            issuer_attrs: ["C", "O", "OU"].map(String::from).to_vec(),
            serial_number_attr: true,
            validity_days: 1825,
        }
    }

    /// usecallmanager's template [OSS S2].
    pub fn usecallmanager() -> LscTemplate {
        LscTemplate {
            common_name: LscCommonName::DeviceName,
            cn_first: true,
            issuer_attrs: ["O", "OU", "L", "ST", "C"].map(String::from).to_vec(),
            serial_number_attr: false,
            validity_days: 1825,
        }
    }

    /// The subject of the LSC for `who`, issued by a CAPF named `issuer`.
    pub fn subject(&self, issuer: &DistinguishedName, who: &LscSubject) -> DistinguishedName {
        let cn = match self.common_name {
            LscCommonName::ModelAndDevice => format!("CP-{}-{}", who.model, who.device_name),
            LscCommonName::DeviceName => who.device_name.to_string(),
        };
        let mut attrs = vec![];
        if self.serial_number_attr {
            let sn = who.hw_serial.map(str::to_string).unwrap_or_else(|| {
                let d = who.device_name;
                d.strip_prefix("SEP").unwrap_or(d).to_ascii_uppercase()
            });
            attrs.push((
                "serialNumber".into(),
                format!("PID:CP-{} SN:{sn}", who.model),
            ));
        }
        if self.cn_first {
            attrs.push(("CN".into(), cn.clone()));
        }
        for a in &self.issuer_attrs {
            if let Some(v) = issuer.get(a) {
                attrs.push((a.clone(), v.to_string()));
            }
        }
        if !self.cn_first {
            attrs.push(("CN".into(), cn));
        }
        DistinguishedName(attrs)
    }
}

/// Who the LSC is for (from the CAPF's device record).
#[derive(Clone, Copy, Debug)]
pub struct LscSubject<'a> {
    /// `SEP<MAC>` (or Jabber `CSF…`); also the SAN URI.
    pub device_name: &'a str,
    /// Model number, e.g. `8861`.
    pub model: &'a str,
    /// Hardware serial (`FCH18198CNQ`), when the record knows it.
    pub hw_serial: Option<&'a str>,
}

/// Why no LSC was made.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LscError {
    #[error("validity of {days} days is outside 1..=1825")]
    Validity { days: u32 },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot issue the LSC: {0}")]
    Issue(#[from] CertError),
}

/// A 128-bit LSC serial from the seed, for the LSC the CAPF `capf` issues to `device`;
/// `nonce` must differ between issuances to one device (the server uses issue count, session
/// id and time), so no serial is issued twice.
pub fn lsc_serial(forge: &KeyForge, capf: &Certificate, device: &str, nonce: &str) -> Vec<u8> {
    let label = format!("capf-lsc/{}/{device}/{nonce}", capf.serial_hex());
    forge.serial(&label, 16)
}

/// Issues the LSC of `who` for `public`, signed by the CAPF identity, valid from `now`.
pub fn issue_lsc(
    template: &LscTemplate,
    capf: &Identity,
    who: &LscSubject,
    public: &PublicKey,
    serial: &[u8],
    now: WallTime,
) -> Result<Certificate, LscError> {
    let days = template.validity_days;
    if !VALIDITY_DAYS.contains(&days) {
        return Err(LscError::Validity { days });
    }
    let mut p = CertificateParams::default();
    p.not_before = now.to_offset_date_time();
    p.not_after = now
        .plus_s(i64::from(days) * WallTime::DAY_S)
        .to_offset_date_time();
    p.serial_number = Some(SerialNumber::from_slice(serial));
    p.distinguished_name = rcgen_dn(&template.subject(capf.cert.subject(), who));
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 5]),
    ];
    let uri = who
        .device_name
        .to_string()
        .try_into()
        .map_err(|_| CertError::Malformed(format!("SAN URI {:?}", who.device_name)))?;
    p.subject_alt_names = vec![SanType::URI(uri)];
    p.key_identifier_method = KeyIdMethod::PreSpecified(key_id(public));
    p.use_authority_key_identifier_extension = true;
    let issuer = Issuer::new(issuer_params(capf), SignerAdapter::new(&capf.key));
    let cert = p
        .signed_by(&SubjectKey::new(public), &issuer)
        .map_err(|e| CertError::Malformed(format!("rcgen: {e}")))?;
    Ok(Certificate::from_der(cert.der())?)
}

/// The subject's public key as rcgen wants it (the LSC is issued for a key CAPF never holds).
pub(super) struct SubjectKey {
    bits: Vec<u8>,
    alg: &'static rcgen::SignatureAlgorithm,
}

impl SubjectKey {
    pub(super) fn new(public: &PublicKey) -> SubjectKey {
        SubjectKey {
            bits: public.record_bytes(),
            alg: match public {
                PublicKey::Rsa(_) => &rcgen::PKCS_RSA_SHA256,
                PublicKey::EcP256(_) => &rcgen::PKCS_ECDSA_P256_SHA256,
            },
        }
    }
}

impl rcgen::PublicKeyData for SubjectKey {
    fn der_bytes(&self) -> &[u8] {
        &self.bits
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.alg
    }
}

/// SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1), as `pki::cert` uses for
/// the subject and authority key identifiers.
pub(super) fn key_id(public: &PublicKey) -> Vec<u8> {
    sha1::Sha1::digest(public.record_bytes()).to_vec()
}

fn issuer_params(capf: &Identity) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen_dn(capf.cert.subject());
    p.key_identifier_method = KeyIdMethod::PreSpecified(key_id(&capf.key.public_key()));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    p
}

/// The name in rcgen's terms (attributes CUCM names never use are left out).
pub(super) fn rcgen_dn(dn: &DistinguishedName) -> rcgen::DistinguishedName {
    let mut out = rcgen::DistinguishedName::new();
    for (attr, value) in &dn.0 {
        let ty = match attr.to_ascii_uppercase().as_str() {
            "CN" => DnType::CommonName,
            "OU" => DnType::OrganizationalUnitName,
            "O" => DnType::OrganizationName,
            "L" => DnType::LocalityName,
            "ST" => DnType::StateOrProvinceName,
            "C" => DnType::CountryName,
            "SERIALNUMBER" => DnType::CustomDnType(vec![2, 5, 4, 5]),
            _ => continue,
        };
        out.push(ty, value.as_str());
    }
    out
}

/// Why a CAPF certificate is refused by a CUCM release (F13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum CapfCertProblem {
    #[error("CAPF certificate is not CA:TRUE (required from 14SU2; TLS to 3804 fails, F13)")]
    NotCa,
    #[error("CAPF certificate lacks keyCertSign (required from 14SU2; TLS to 3804 fails, F13)")]
    NoKeyCertSign,
    #[error(
        "CAPF certificate lacks digitalSignature (required from 14SU2; TLS to 3804 fails, F13)"
    )]
    NoDigitalSignature,
}

/// Whether `version` accepts `cert` as its CAPF certificate. From 14SU2 it must be CA:TRUE with
/// keyUsage digitalSignature and keyCertSign [C 14SU2 CAPF chapter]. The reference also quotes
/// `pathlen:0`; whether another path length fails is not known, so it is not checked [I].
pub fn capf_cert_usable(cert: &Certificate, version: CucmVersion) -> Result<(), CapfCertProblem> {
    if version < CA_CAPF_FROM {
        return Ok(());
    }
    let info = cert.info();
    if info.ca.is_none() {
        return Err(CapfCertProblem::NotCa);
    }
    if !info.key_usage.contains(&KeyUsage::KeyCertSign) {
        return Err(CapfCertProblem::NoKeyCertSign);
    }
    if !info.key_usage.contains(&KeyUsage::DigitalSignature) {
        return Err(CapfCertProblem::NoDigitalSignature);
    }
    Ok(())
}
