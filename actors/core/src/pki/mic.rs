//! The manufacturing CA hierarchy that issues phones' MICs (Manufacturer Installed
//! Certificates): `Cisco Root CA 2048` → `Cisco Manufacturing CA` → `CN=CP-<model>-SEP<MAC>`.
//!
//! Real MIC roots (CAP-RTP-001/002, Cisco_Manufacturing_CA, Cisco_Root_CA_2048) sit in
//! CAPF-trust (§3.1). The CA keys are RSA-2048; a phone's own key follows the scenario's
//! phone key profile (EC P-256 by default, because thousands of RSA keys cost minutes).

use super::cert::{CertSpec, Certificate, ExtKeyUsage, KeyUsage};
use super::dn::DistinguishedName;
use super::identity::Identity;
use super::keys::{KeyForge, KeyProfile};
use crate::error::CertError;
use crate::wall::WallTime;

/// The manufacturer's root and issuing CA.
#[derive(Clone, Debug)]
pub struct ManufacturingCa {
    pub root: Identity,
    pub issuing: Identity,
}

impl ManufacturingCa {
    /// Builds the hierarchy, valid for 20 years from `now`.
    pub fn new(forge: &KeyForge, now: WallTime) -> Result<ManufacturingCa, CertError> {
        let org = |cn: &str| DistinguishedName::new([("CN", cn), ("O", "Cisco Systems")]);
        let ca_spec = |cn: &str, label: &str, path_len: Option<u8>| CertSpec {
            subject: org(cn),
            serial: forge.serial(label, 16),
            not_before: now,
            not_after: now.plus_s(20 * WallTime::YEAR_S),
            ca: Some(path_len),
            key_usage: vec![
                KeyUsage::KeyCertSign,
                KeyUsage::CrlSign,
                KeyUsage::DigitalSignature,
            ],
            ext_key_usage: vec![],
            san_dns: vec![],
            san_uri: vec![],
        };
        let root_key = forge.key("mfg/root", KeyProfile::RSA2048);
        let root_cert = Certificate::issue(
            &ca_spec("Cisco Root CA 2048", "mfg/root", Some(1)),
            &root_key,
            None,
        )?;
        let issuing_key = forge.key("mfg/issuing", KeyProfile::RSA2048);
        let issuing_cert = Certificate::issue(
            &ca_spec("Cisco Manufacturing CA", "mfg/issuing", Some(0)),
            &issuing_key,
            Some((&root_cert, &root_key)),
        )?;
        Ok(ManufacturingCa {
            root: Identity {
                cert_type: None,
                cert: root_cert,
                key: root_key,
            },
            issuing: Identity {
                cert_type: None,
                cert: issuing_cert,
                key: issuing_key,
            },
        })
    }

    /// Issues the MIC of a phone `model` (e.g. `8861`) with `mac` (12 hex digits).
    pub fn issue_mic(
        &self,
        forge: &KeyForge,
        model: &str,
        mac: &str,
        profile: KeyProfile,
        now: WallTime,
    ) -> Result<Identity, CertError> {
        let label = format!("mic/{mac}");
        let key = forge.key(&label, profile);
        let spec = CertSpec {
            subject: DistinguishedName::new([
                (
                    "serialNumber",
                    format!("PID:CP-{model} SN:{}", &mac.to_ascii_uppercase()),
                ),
                ("O", "Cisco Systems Inc.".to_string()),
                ("CN", format!("CP-{model}-SEP{}", mac.to_ascii_uppercase())),
            ]),
            serial: forge.serial(&label, 10),
            not_before: now,
            not_after: now.plus_s(10 * WallTime::YEAR_S),
            ca: None,
            key_usage: vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment],
            ext_key_usage: vec![ExtKeyUsage::ClientAuth],
            san_dns: vec![],
            san_uri: vec![],
        };
        let cert = Certificate::issue(&spec, &key, Some((&self.issuing.cert, &self.issuing.key)))?;
        Ok(Identity {
            cert_type: None,
            cert,
            key,
        })
    }
}
