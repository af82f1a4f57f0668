//! LSC issuers other than the CAPF itself: the "Online CA" and "Offline CA" values of the
//! service parameter "Certificate Issuer to Endpoint" (reference §3.1 "Modes"; seed 003, "CAPF
//! running modes", "Configure Online CA settings", "Current Online CA limitations").
//!
//! ```text
//!  Online CA:  CAPF ── EnrollRequest{device, model, phone key, key type, user, password,
//!              (Cisco Certificate       template} ──► OnlineCa::enroll ──► LSC (or CaError)
//!               Enrollment Service)    a simulated Microsoft enterprise CA: root → issuing CA
//!  Offline CA: CAPF records a PendingCsr (pending.rs) ──► admin submits it ──► OfflineCa::sign
//!              ──► admin uploads the certificate (pending::CsrBook::upload)
//! ```
//!
//! Both CAs are an RSA-2048 root and an RSA-2048 issuing CA ([`CaHierarchy`]), keys and serials
//! from [`KeyForge`] labels under the CA's label, so a seed gives the same bytes every run. Time
//! is always an argument. What the reference and the seed fix \[C\], and what is chosen here \[I\]:
//!
//! | what | value | source |
//! |---|---|---|
//! | Online CA type | Microsoft CA only; needs the Cisco Certificate Enrollment Service | [C S14] |
//! | ECDSA phone keys | refused by the Online CA: [`CaError::EcdsaNotSupported`] | [C S14, 14SU2 guide] |
//! | CA answering in a language other than English | the feature does not work: [`CaError::NotEnglish`] | [C seed 003] |
//! | LSC without Digital Signature + Key Encipherment | secure registration fails: [`lsc_usable_for_secure_registration`] | [C S14] |
//! | Online CA hostname | must equal the CN of the CA's IIS HTTPS certificate: [`OnlineCa::check_endpoint`] | [C seed 003] |
//! | Online CA LSC validity | the CA's template decides ("as long as the CA allows") | [C seed 003] |
//! | port | 443 (the seed's "e.g. 443") | \[I\] |
//! | template | [`DEFAULT_TEMPLATE`] `CiscoRA`: DS + KE, serverAuth + clientAuth, 730 days | \[I\] |
//! | LSC subject | `CN=<device name>` ([`LscCommonName::DeviceName`]), SAN URI = device name | \[I\] |
//! | serials | 19 bytes, as Microsoft AD CS writes them | \[I\] |
//! | CA validity | root 20 years, issuing CA 10 years; an LSC never outlives its issuer | \[I\] |
//! | validity days | 1..=1825 (the CAPF's range) checked on every template | [C S14] for the range |
//!
//! "CA unreachable" and mTLS (unsupported by the Online CA feature) are the caller's concern.

use super::codes::KeyType;
use super::keys::KeyError;
use super::lsc::{key_id, rcgen_dn, LscCommonName, SubjectKey, VALIDITY_DAYS};
use super::pending::PendingCsr;
use crate::error::CertError;
use crate::pki::cert::SignerAdapter;
use crate::pki::{
    CertSpec, Certificate, DistinguishedName, ExtKeyUsage, Identity, KeyForge, KeyProfile,
    KeyUsage, PublicKey,
};
use crate::wall::WallTime;
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod,
    KeyUsagePurpose, SanType, SerialNumber,
};
use std::fmt;
use thiserror::Error;

/// The default Online CA template name \[I\]: a Microsoft CA template the administrator creates
/// for LSCs (the seed: "enter the name of the template; the Microsoft CA creates the template").
pub const DEFAULT_TEMPLATE: &str = "CiscoRA";

/// Length of the serials the simulated CAs write: 19 bytes, like Microsoft AD CS \[I\].
pub const SERIAL_LEN: usize = 19;

/// Why a CA issued nothing. The Display texts are the trace lines.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CaError {
    #[error("Online CA refused the credentials of user {username:?}")]
    BadCredentials { username: String },
    #[error("Online CA has no certificate template {template:?}")]
    UnknownTemplate { template: String },
    #[error("Online CA does not support ECDSA")]
    EcdsaNotSupported,
    #[error("Online CA answered in a language other than English; the Cisco Certificate Enrollment Service cannot read the answer")]
    NotEnglish,
    #[error("Online CA hostname {configured:?} does not match the CN {certificate_cn:?} of the CA's HTTPS certificate")]
    HostnameMismatch {
        configured: String,
        certificate_cn: String,
    },
    #[error("Online CA port {configured} is not the CA's HTTPS port {actual}")]
    WrongPort { configured: u16, actual: u16 },
    #[error("validity of {days} days is outside 1..=1825")]
    Validity { days: u32 },
    #[error("device name {0:?} is not a device name")]
    DeviceName(String),
    #[error("issuing CA {subject} is not valid at {now}")]
    CaNotValid { subject: String, now: WallTime },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot issue the certificate: {0}")]
    Issue(#[from] CertError),
}

/// A certificate template: what the CA puts in what it issues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaTemplate {
    /// The template name a request must give (Online CA) \[I\].
    pub name: String,
    /// Key usages of issued certificates. Dropping Digital Signature or Key Encipherment
    /// reproduces "Online CA LSCs without them fail secure registration" [C S14].
    pub key_usage: Vec<KeyUsage>,
    pub ext_key_usage: Vec<ExtKeyUsage>,
    /// Validity of issued certificates in days, 1..=1825; default 730 \[I\].
    pub validity_days: u32,
}

impl CaTemplate {
    /// An LSC template named `name`: Digital Signature + Key Encipherment, serverAuth +
    /// clientAuth, 730 days \[I\].
    pub fn lsc(name: &str) -> CaTemplate {
        CaTemplate {
            name: name.to_string(),
            key_usage: vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment],
            ext_key_usage: vec![ExtKeyUsage::ServerAuth, ExtKeyUsage::ClientAuth],
            validity_days: 730,
        }
    }
}

impl Default for CaTemplate {
    fn default() -> Self {
        CaTemplate::lsc(DEFAULT_TEMPLATE)
    }
}

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
    fn dn(&self, cn: &str) -> DistinguishedName {
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
    fn issue(
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
    if super::pending::valid_device_name(name) {
        Ok(())
    } else {
        Err(CaError::DeviceName(name.to_string()))
    }
}

/// The subject of an LSC for `device_name` of `model`.
fn lsc_subject(cn: LscCommonName, device_name: &str, model: &str) -> DistinguishedName {
    let cn = match cn {
        LscCommonName::DeviceName => device_name.to_string(),
        LscCommonName::ModelAndDevice => format!("CP-{model}-{device_name}"),
    };
    DistinguishedName::new([("CN", cn)])
}

/// What the Microsoft CA and its IIS are configured with (the CA side).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnlineCaSettings {
    /// FQDN of the CA's IIS; the CN of its HTTPS certificate. Default `ca.lab.local` \[I\].
    pub hostname: String,
    /// HTTPS port of the enrolment pages. Default 443 \[I\] (the seed's example).
    pub port: u16,
    /// The account allowed to enrol. Default `capf-enroll` \[I\].
    pub username: String,
    /// Its password. Default `Cisco123` \[I\].
    pub password: String,
    /// The templates the CA offers. Default one, [`CaTemplate::default`] \[I\].
    pub templates: Vec<CaTemplate>,
    /// Whether the CA answers in English. Default `true`; `false` breaks the feature because
    /// the Cisco Certificate Enrollment Service cannot read the answer [C seed 003].
    pub english: bool,
    /// LSC common name. Default [`LscCommonName::DeviceName`] \[I\].
    pub common_name: LscCommonName,
    pub names: CaNames,
}

impl Default for OnlineCaSettings {
    fn default() -> Self {
        OnlineCaSettings {
            hostname: "ca.lab.local".into(),
            port: 443,
            username: "capf-enroll".into(),
            password: "Cisco123".into(),
            templates: vec![CaTemplate::default()],
            english: true,
            common_name: LscCommonName::DeviceName,
            names: CaNames::default(),
        }
    }
}

/// The CAPF service parameters "Online CA Hostname / Port / Template / Username / Password"
/// (the CUCM side; "Online CA Type" has one value, Microsoft CA, so it is not a field).
#[derive(Clone, PartialEq, Eq)]
pub struct OnlineCaParams {
    pub hostname: String,
    pub port: u16,
    pub template: String,
    pub username: String,
    pub password: String,
}

impl fmt::Debug for OnlineCaParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnlineCaParams")
            .field("hostname", &self.hostname)
            .field("port", &self.port)
            .field("template", &self.template)
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

impl OnlineCaParams {
    /// Parameters that match `ca` (its hostname, port, first template and account).
    pub fn matching(ca: &OnlineCaSettings) -> OnlineCaParams {
        OnlineCaParams {
            hostname: ca.hostname.clone(),
            port: ca.port,
            template: ca
                .templates
                .first()
                .map_or_else(|| DEFAULT_TEMPLATE.to_string(), |t| t.name.clone()),
            username: ca.username.clone(),
            password: ca.password.clone(),
        }
    }
}

/// What the Cisco Certificate Enrollment Service sends the Online CA for one phone.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrollRequest {
    pub device_name: String,
    /// Model number, e.g. `8861`.
    pub model: String,
    /// The key the phone generated (KEY_GEN_RES).
    pub public_key: PublicKey,
    /// The key type CAPF asked the phone for.
    pub key_type: KeyType,
    pub username: String,
    pub password: String,
    pub template: String,
}

impl fmt::Debug for EnrollRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrollRequest")
            .field("device_name", &self.device_name)
            .field("model", &self.model)
            .field("key", &self.public_key.profile())
            .field("key_type", &self.key_type)
            .field("username", &self.username)
            .field("password", &"***")
            .field("template", &self.template)
            .finish()
    }
}

impl EnrollRequest {
    /// The request for `device_name`'s key, with the credentials and template of `params`
    /// and the key type of the key itself.
    pub fn new(
        params: &OnlineCaParams,
        device_name: &str,
        model: &str,
        public_key: PublicKey,
    ) -> EnrollRequest {
        let key_type = match public_key {
            PublicKey::Rsa(_) => KeyType::Rsa,
            PublicKey::EcP256(_) => KeyType::Ec,
        };
        EnrollRequest {
            device_name: device_name.to_string(),
            model: model.to_string(),
            public_key,
            key_type,
            username: params.username.clone(),
            password: params.password.clone(),
            template: params.template.clone(),
        }
    }
}

/// A simulated Microsoft enterprise CA reached through the Cisco Certificate Enrollment
/// Service: a [`CaHierarchy`], the IIS HTTPS certificate, and its settings.
#[derive(Clone, Debug)]
pub struct OnlineCa {
    pub settings: OnlineCaSettings,
    pub ca: CaHierarchy,
    /// The IIS HTTPS certificate, CN = hostname, issued by the issuing CA (RSA-2048).
    pub https: Identity,
    issued: u64,
}

impl OnlineCa {
    /// Builds the CA from `forge` under `label`, valid from `now`.
    pub fn new(
        forge: &KeyForge,
        label: &str,
        settings: OnlineCaSettings,
        now: WallTime,
    ) -> Result<OnlineCa, CaError> {
        let ca = CaHierarchy::new(forge, label, &settings.names, now)?;
        let https_key = forge.key(&format!("{label}/https"), KeyProfile::RSA2048);
        let spec = CertSpec {
            subject: settings.names.dn(&settings.hostname),
            serial: forge.serial(&format!("{label}/https"), SERIAL_LEN),
            not_before: now,
            not_after: now.plus_s(2 * WallTime::YEAR_S),
            ca: None,
            key_usage: vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment],
            ext_key_usage: vec![ExtKeyUsage::ServerAuth],
            san_dns: vec![settings.hostname.clone()],
            san_uri: vec![],
        };
        let https =
            Certificate::issue(&spec, &https_key, Some((&ca.issuing.cert, &ca.issuing.key)))?;
        Ok(OnlineCa {
            settings,
            ca,
            https: Identity {
                cert_type: None,
                cert: https,
                key: https_key,
            },
            issued: 0,
        })
    }

    /// How many certificates this CA has issued.
    pub fn issued_count(&self) -> u64 {
        self.issued
    }

    /// Whether CAPF's hostname and port reach this CA's HTTPS service: the hostname must equal
    /// the CN of the IIS certificate (case-insensitive) [C seed 003].
    pub fn check_endpoint(&self, params: &OnlineCaParams) -> Result<(), CaError> {
        let cn = self.https.cert.subject().common_name();
        if !params.hostname.eq_ignore_ascii_case(cn) {
            return Err(CaError::HostnameMismatch {
                configured: params.hostname.clone(),
                certificate_cn: cn.to_string(),
            });
        }
        if params.port != self.settings.port {
            return Err(CaError::WrongPort {
                configured: params.port,
                actual: self.settings.port,
            });
        }
        Ok(())
    }

    /// Enrols the phone: the LSC signed by the issuing CA, or why not. Checked in this order:
    /// an ECDSA key or key type is refused before the CA is asked; a CA that does not answer
    /// in English gives [`CaError::NotEnglish`] whatever it answered; then the credentials, the
    /// template, the device name, and the CA's validity at `now`.
    pub fn enroll(&mut self, req: &EnrollRequest, now: WallTime) -> Result<Certificate, CaError> {
        if req.key_type != KeyType::Rsa || !matches!(req.public_key, PublicKey::Rsa(_)) {
            return Err(CaError::EcdsaNotSupported);
        }
        if !self.settings.english {
            return Err(CaError::NotEnglish);
        }
        if req.username != self.settings.username || req.password != self.settings.password {
            return Err(CaError::BadCredentials {
                username: req.username.clone(),
            });
        }
        let template = self
            .settings
            .templates
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(&req.template))
            .ok_or_else(|| CaError::UnknownTemplate {
                template: req.template.clone(),
            })?;
        let subject = lsc_subject(self.settings.common_name, &req.device_name, &req.model);
        let cert = self.ca.issue(
            template,
            &req.device_name,
            subject,
            &req.public_key,
            &self.issued.to_string(),
            now,
        )?;
        self.issued += 1;
        Ok(cert)
    }
}

/// The external CA of the Offline CA mode: the administrator submits a pending request and
/// gets a certificate back, to upload to CUCM.
#[derive(Clone, Debug)]
pub struct OfflineCa {
    pub ca: CaHierarchy,
    /// What the CA issues. Default [`CaTemplate::default`] \[I\].
    pub template: CaTemplate,
    issued: u64,
}

impl OfflineCa {
    /// Builds the CA from `forge` under `label`, valid from `now`.
    pub fn new(
        forge: &KeyForge,
        label: &str,
        names: &CaNames,
        now: WallTime,
    ) -> Result<OfflineCa, CaError> {
        Ok(OfflineCa {
            ca: CaHierarchy::new(forge, label, names, now)?,
            template: CaTemplate::default(),
            issued: 0,
        })
    }

    /// How many certificates this CA has issued.
    pub fn issued_count(&self) -> u64 {
        self.issued
    }

    /// Signs the request `csr` at `now`: subject `CN=<device name>`, SAN URI = device name,
    /// the template's usages and validity. Any RSA or P-256 key is accepted (the "no ECDSA"
    /// limit is the Online CA's).
    pub fn sign(&mut self, csr: &PendingCsr, now: WallTime) -> Result<Certificate, CaError> {
        let public = csr.public_key()?;
        let subject = lsc_subject(LscCommonName::DeviceName, &csr.device_name, "");
        let cert = self.ca.issue(
            &self.template,
            &csr.device_name,
            subject,
            &public,
            &format!("{}#{}", csr.id, self.issued),
            now,
        )?;
        self.issued += 1;
        Ok(cert)
    }
}

/// Why an LSC cannot be used for secure registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum LscUsageProblem {
    #[error("LSC lacks the Digital Signature key usage: secure registration fails")]
    NoDigitalSignature,
    #[error("LSC lacks the Key Encipherment key usage: secure registration fails")]
    NoKeyEncipherment,
}

/// Whether a phone can register securely with `cert` as its LSC: "while using Online CA for
/// LSC operations, if the LSC does not carry the Digital Signature and Key Encipherment key
/// usages, secure registration of the device fails" [C S14, seed 003]. A certificate with no
/// keyUsage extension fails too (it does not "carry" them) \[I\].
pub fn lsc_usable_for_secure_registration(cert: &Certificate) -> Result<(), LscUsageProblem> {
    let ku = &cert.info().key_usage;
    if !ku.contains(&KeyUsage::DigitalSignature) {
        return Err(LscUsageProblem::NoDigitalSignature);
    }
    if !ku.contains(&KeyUsage::KeyEncipherment) {
        return Err(LscUsageProblem::NoKeyEncipherment);
    }
    Ok(())
}

/// Issues `spec` for `public`, a key the issuer never holds, signed by `issuer`.
fn sign_public(
    spec: &CertSpec,
    public: &PublicKey,
    issuer: &Identity,
) -> Result<Certificate, CertError> {
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
    for uri in &spec.san_uri {
        let ia5 = uri
            .clone()
            .try_into()
            .map_err(|_| CertError::Malformed(format!("SAN URI {uri:?}")))?;
        p.subject_alt_names.push(SanType::URI(ia5));
    }
    for name in &spec.san_dns {
        let ia5 = name
            .clone()
            .try_into()
            .map_err(|_| CertError::Malformed(format!("SAN {name:?}")))?;
        p.subject_alt_names.push(SanType::DnsName(ia5));
    }
    p.key_identifier_method = KeyIdMethod::PreSpecified(key_id(public));
    p.use_authority_key_identifier_extension = true;

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

#[cfg(test)]
#[path = "ca_tests.rs"]
mod tests;
