//! The Online CA: a simulated Microsoft enterprise CA that CAPF reaches through the Cisco
//! Certificate Enrollment Service, over HTTPS to the CA's IIS.
//!
//! ```text
//!  CAPF params (OnlineCaParams) ──► OnlineCa::check_endpoint (hostname = IIS CN, port)
//!  EnrollRequest{device, model, key, key type, user, password, template}
//!      ──► OnlineCa::enroll: ECDSA? English? credentials? template? ──► CaHierarchy::issue ──► LSC
//! ```

use super::hierarchy::{lsc_subject, CaHierarchy, CaNames};
use super::template::CaTemplate;
use super::{CaError, DEFAULT_TEMPLATE, SERIAL_LEN};
use crate::capf::codes::KeyType;
use crate::capf::lsc::LscCommonName;
use crate::pki::{
    CertSpec, Certificate, ExtKeyUsage, Identity, KeyForge, KeyProfile, KeyUsage, PublicKey,
};
use crate::wall::WallTime;
use std::fmt;

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
