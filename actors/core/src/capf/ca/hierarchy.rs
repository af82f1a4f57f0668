//! A CA hierarchy: an RSA-2048 root and the RSA-2048 issuing CA it signed, keys and serials
//! from [`KeyForge`] labels, and the signing of a phone's public key (a key the CA never holds)
//! into an LSC.
//!
//! ```text
//!  KeyForge(label) ──► root (20 y, pathlen 1) ──► issuing CA (10 y, pathlen 0)
//!  phone key + CaTemplate + subject ──► CaHierarchy::issue ──► sign_public (rcgen) ──► LSC
//!                                         (validity ≤ the issuing CA's notAfter)
//! ```

use super::template::CaTemplate;
use super::{CaError, SERIAL_LEN};
use crate::capf::lsc::{key_id, rcgen_dn, LscCommonName, SubjectKey, VALIDITY_DAYS};
use crate::capf::pending::valid_device_name;
use crate::error::CertError;
use crate::pki::cert::{spec_params, SanOrder, SignerAdapter};
use crate::pki::{
    CertSpec, Certificate, DistinguishedName, Identity, KeyForge, KeyProfile, KeyUsage, PublicKey,
};
use crate::wall::WallTime;
use rcgen::{CertificateParams, Issuer, KeyIdMethod, KeyUsagePurpose};

/// The names of a CA hierarchy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaNames {
    /// Root CA common name. Default `Lab Root CA` \[I\].
    pub root_cn: String,
    /// Issuing CA common name. Default `Lab Issuing CA` \[I\].
    pub issuing_cn: String,
    /// Organisation of both. Default `Lab` \[I\].
    pub o: String,
    /// Country of both. Default `US` \[I\].
    pub c: String,
}

impl Default for CaNames {
    fn default() -> Self {
        CaNames {
            root_cn: "Lab Root CA".into(),
            issuing_cn: "Lab Issuing CA".into(),
            o: "Lab".into(),
            c: "US".into(),
        }
    }
}

impl CaNames {
    pub(super) fn dn(&self, cn: &str) -> DistinguishedName {
        DistinguishedName::new([("CN", cn), ("O", &self.o), ("C", &self.c)])
    }
}

/// A root CA and the issuing CA it signed, both RSA-2048.
#[derive(Clone, Debug)]
pub struct CaHierarchy {
    pub root: Identity,
    pub issuing: Identity,
    forge: KeyForge,
    label: String,
}

impl CaHierarchy {
    /// Builds the hierarchy from `forge` under `label` (keys `<label>/root`, `<label>/issuing`),
    /// valid from `now`: root 20 years, pathlen 1; issuing CA 10 years, pathlen 0 \[I\].
    pub fn new(
        forge: &KeyForge,
        label: &str,
        names: &CaNames,
        now: WallTime,
    ) -> Result<CaHierarchy, CaError> {
        let spec = |cn: &str, what: &str, years: i64, path_len: u8| CertSpec {
            subject: names.dn(cn),
            serial: forge.serial(&format!("{label}/{what}"), SERIAL_LEN),
            not_before: now,
            not_after: now.plus_s(years * WallTime::YEAR_S),
            ca: Some(Some(path_len)),
            key_usage: vec![
                KeyUsage::DigitalSignature,
                KeyUsage::KeyCertSign,
                KeyUsage::CrlSign,
            ],
            ext_key_usage: vec![],
            san_dns: vec![],
            san_uri: vec![],
        };
        let root_key = forge.key(&format!("{label}/root"), KeyProfile::RSA2048);
        let root = Certificate::issue(&spec(&names.root_cn, "root", 20, 1), &root_key, None)?;
        let issuing_key = forge.key(&format!("{label}/issuing"), KeyProfile::RSA2048);
        let issuing = Certificate::issue(
            &spec(&names.issuing_cn, "issuing", 10, 0),
            &issuing_key,
            Some((&root, &root_key)),
        )?;
        Ok(CaHierarchy {
            root: Identity {
                cert_type: None,
                cert: root,
                key: root_key,
            },
            issuing: Identity {
                cert_type: None,
                cert: issuing,
                key: issuing_key,
            },
            forge: forge.clone(),
            label: label.to_string(),
        })
    }

    /// The intermediates an issued certificate chains through (the issuing CA).
    pub fn intermediates(&self) -> Vec<Certificate> {
        vec![self.issuing.cert.clone()]
    }

    /// Issues a certificate for `public` (a key the CA never holds), signed by the issuing CA,
    /// valid from `now` for the template's days but never past the issuing CA's notAfter.
    /// `nonce` makes the serial: the same nonce gives the same serial.
    pub(super) fn issue(
        &self,
        template: &CaTemplate,
        device_name: &str,
        subject: DistinguishedName,
        public: &PublicKey,
        nonce: &str,
        now: WallTime,
    ) -> Result<Certificate, CaError> {
        let days = template.validity_days;
        if !VALIDITY_DAYS.contains(&days) {
            return Err(CaError::Validity { days });
        }
        check_device_name(device_name)?;
        let ca = self.issuing.cert.info();
        if now < ca.not_before || now >= ca.not_after {
            return Err(CaError::CaNotValid {
                subject: self.issuing.cert.subject().to_cucm(),
                now,
            });
        }
        let spec = CertSpec {
            subject,
            serial: self.forge.serial(
                &format!("{}/cert/{device_name}/{nonce}", self.label),
                SERIAL_LEN,
            ),
            not_before: now,
            not_after: now
                .plus_s(i64::from(days) * WallTime::DAY_S)
                .min(ca.not_after),
            ca: None,
            key_usage: template.key_usage.clone(),
            ext_key_usage: template.ext_key_usage.clone(),
            san_dns: vec![],
            san_uri: vec![device_name.to_string()],
        };
        Ok(sign_public(&spec, public, &self.issuing)?)
    }
}

fn check_device_name(name: &str) -> Result<(), CaError> {
    if valid_device_name(name) {
        Ok(())
    } else {
        Err(CaError::DeviceName(name.to_string()))
    }
}

/// The subject of an LSC for `device_name` of `model`.
pub(super) fn lsc_subject(cn: LscCommonName, device_name: &str, model: &str) -> DistinguishedName {
    let cn = match cn {
        LscCommonName::DeviceName => device_name.to_string(),
        LscCommonName::ModelAndDevice => format!("CP-{model}-{device_name}"),
    };
    DistinguishedName::new([("CN", cn)])
}

/// Issues `spec` for `public`, a key the issuer never holds, signed by `issuer`.
fn sign_public(
    spec: &CertSpec,
    public: &PublicKey,
    issuer: &Identity,
) -> Result<Certificate, CertError> {
    let p = spec_params(spec, key_id(public), SanOrder::UriFirst)?;

    let mut ip = CertificateParams::default();
    ip.distinguished_name = rcgen_dn(issuer.cert.subject());
    ip.key_identifier_method = KeyIdMethod::PreSpecified(key_id(&issuer.key.public_key()));
    ip.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca = Issuer::new(ip, SignerAdapter::new(&issuer.key));
    let cert = p
        .signed_by(&SubjectKey::new(public), &ca)
        .map_err(|e| CertError::Malformed(format!("rcgen: {e}")))?;
    Certificate::from_der(cert.der())
}
