//! The CAPF service's settings shared by its sessions, and where a session finds device
//! records. Every choice the reference leaves open ([I], or sources that disagree) is a field
//! here, with the source of its default.

use super::codes::AuthType;
use super::device::DeviceRecord;
use super::lsc::LscTemplate;
use crate::pki::{Backend, Certificate, Identity, KeyForge};
use std::collections::{BTreeMap, HashMap};

/// The CAPF service's settings, shared by its sessions.
#[derive(Clone, Debug)]
pub struct CapfSettings {
    /// The CAPF certificate and key: the TLS identity and the LSC issuer.
    pub capf: Identity,
    /// CAPF-trust: anchors for existing certificates (MIC roots, the CAPF, CAs of old CAPFs).
    pub capf_trust: Vec<Certificate>,
    pub template: LscTemplate,
    /// Seeds LSC serials.
    pub forge: KeyForge,
    pub backend: Backend,
    /// Enterprise parameter "Endpoint Advanced Encryption Algorithms Support" (F16).
    pub advanced_algorithms: bool,
    /// "LSC issued once" [OSS S4]: a device that already has an LSC and no pending operation
    /// gets END_SESSION 7 ("already issued", the Jabber capture) instead of 0. Default off [I].
    pub issue_once: bool,
    /// AUTH_TYPE in AUTH_REQ. Default `Some(None)`, as reference §3.2 and usecallmanager send;
    /// the real CUCM of the Jabber4Linux capture sent VERSION only (`None` here) [OSS S4].
    pub auth_req_auth_type: Option<AuthType>,
    /// VERSION the phone must send; `None` accepts any (Jabber sent 2 to a real CUCM [OSS S4];
    /// usecallmanager insists on 3) [I].
    pub require_version: Option<u8>,
    /// Whether SHA2_SIGNED_DATA is required with existing-certificate authentication (it is
    /// always checked when present). usecallmanager requires it [OSS S2].
    pub require_sha2_signed_data: bool,
    /// Whether an RSA KEY_GEN_REQ to a non-CAPFv3 endpoint carries KEY_TYPE. The real CUCM of
    /// the Jabber4Linux capture sent KEY_SIZE only [OSS S4]; CAPFv3 endpoints always get it [I].
    pub rsa_key_type_to_legacy: bool,
    /// "Certificate Issuer to Endpoint" is an Online or Offline CA: the session asks its
    /// caller for the certificate instead of signing it (default false: CAPF signs).
    pub external_issuer: bool,
}

impl CapfSettings {
    /// Defaults as documented on each field.
    pub fn new(capf: Identity, capf_trust: Vec<Certificate>, forge: KeyForge) -> CapfSettings {
        CapfSettings {
            capf,
            capf_trust,
            template: LscTemplate::default(),
            forge,
            backend: Backend::Ring,
            advanced_algorithms: false,
            issue_once: false,
            auth_req_auth_type: Some(AuthType::None),
            require_version: None,
            require_sha2_signed_data: true,
            rsa_key_type_to_legacy: false,
            external_issuer: false,
        }
    }
}

/// Where a session finds device records.
pub trait DeviceLookup {
    fn device(&self, name: &str) -> Option<&DeviceRecord>;

    /// A certificate an offline CA signed for this device's pending request, waiting to be
    /// installed (none by default).
    fn ready_lsc(&self, _name: &str) -> Option<&crate::pki::Certificate> {
        None
    }
}

impl DeviceLookup for BTreeMap<String, DeviceRecord> {
    fn device(&self, name: &str) -> Option<&DeviceRecord> {
        self.get(name)
    }
}

impl DeviceLookup for HashMap<String, DeviceRecord> {
    fn device(&self, name: &str) -> Option<&DeviceRecord> {
        self.get(name)
    }
}
