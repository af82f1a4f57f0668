//! Signed configuration files (`SEP<MAC>.cnf.xml.sgn`): the ITL/CTL header (signer, digest,
//! signature, filename, timestamp) over an XML payload instead of records (reference §3.1,
//! [OSS S1 `sgnfile`]), and the config XML fields the trust machinery reads: the TVS list,
//! the CAPF list, the device security mode and `capfAuthMode`.
//!
//! ```text
//!  PhoneConfig ──to_xml──► XML ──sign_config──► header ‖ XML   (signer: TFTP node's CallManager)
//!  bytes ──parse_signed_config──► SignedConfig{header, payload} ──verify_with(key)──► PhoneConfig
//! ```
//! Header version 1.0 for `.sgn` follows usecallmanager's builder [OSS]; CUCM's own value is
//! UNKNOWN, so it is a builder field.

use crate::digest::DigestAlg;
use crate::error::SigError;
use crate::pki::keys::{Backend, PrivateKey, PublicKey};
use crate::pki::Certificate;
use crate::tlv::build::{sign_with_body, TrustListBuilder};
use crate::tlv::parse::{parse_header, Header};
use crate::tlv::verify::{verify_signature, VerifyError};
use crate::tlv::ParseError;
use serde::{Deserialize, Serialize};

/// TVS port (TLS).
pub const TVS_PORT: u16 = 2445;
/// CAPF port (TLS).
pub const CAPF_PORT: u16 = 3804;

/// `<deviceSecurityMode>`: 1 non-secure, 2 authenticated, 3 encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SecurityMode {
    #[default]
    NonSecure,
    Authenticated,
    Encrypted,
}

impl SecurityMode {
    pub fn code(self) -> u8 {
        match self {
            SecurityMode::NonSecure => 1,
            SecurityMode::Authenticated => 2,
            SecurityMode::Encrypted => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<SecurityMode> {
        match code {
            1 => Some(SecurityMode::NonSecure),
            2 => Some(SecurityMode::Authenticated),
            3 => Some(SecurityMode::Encrypted),
            _ => None,
        }
    }
}

/// `<capfAuthMode>`: 0 none, 1 auth string, 2 null string, 3 existing cert (LSC first),
/// 4 existing cert (MIC first) [OSS S3].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CapfAuthMode {
    #[default]
    None,
    AuthString,
    NullString,
    ExistingLscFirst,
    ExistingMicFirst,
}

impl CapfAuthMode {
    pub fn code(self) -> u8 {
        match self {
            CapfAuthMode::None => 0,
            CapfAuthMode::AuthString => 1,
            CapfAuthMode::NullString => 2,
            CapfAuthMode::ExistingLscFirst => 3,
            CapfAuthMode::ExistingMicFirst => 4,
        }
    }

    pub fn from_code(code: u8) -> Option<CapfAuthMode> {
        [
            Self::None,
            Self::AuthString,
            Self::NullString,
            Self::ExistingLscFirst,
            Self::ExistingMicFirst,
        ]
        .into_iter()
        .find(|m| m.code() == code)
    }
}

/// A server entry of a config list: address and port, by priority order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    pub address: String,
    pub port: u16,
}

/// The fields of `SEP<MAC>.cnf.xml` that the trust machinery reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PhoneConfig {
    /// `SEP<MAC>`.
    pub device_name: String,
    /// CallManager group members, by priority.
    pub callmanagers: Vec<String>,
    /// `<TVS>` members, by priority (up to 5); the CallManager group in CUCM [C S5].
    pub tvs: Vec<Server>,
    /// `<capfList>` entries (up to 5).
    pub capf: Vec<Server>,
    pub security_mode: SecurityMode,
    pub capf_auth_mode: CapfAuthMode,
    /// `<certHash>`, if any.
    pub cert_hash: Option<String>,
    pub encr_config: bool,
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl PhoneConfig {
    /// The XML CUCM's TFTP would serve (trust-relevant parts, in CUCM's element names).
    pub fn to_xml(&self) -> String {
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<device>\n");
        x += &format!(
            "<deviceName>{}</deviceName>\n<fullConfig>true</fullConfig>\n",
            esc(&self.device_name)
        );
        x += "<devicePool><callManagerGroup><members>\n";
        for (i, cm) in self.callmanagers.iter().enumerate() {
            x += &format!(
                "<member priority=\"{i}\"><callManager><processNodeName>{}</processNodeName></callManager></member>\n",
                esc(cm)
            );
        }
        x += "</members></callManagerGroup></devicePool>\n<TVS><members>\n";
        for (i, s) in self.tvs.iter().enumerate() {
            x += &format!(
                "<member priority=\"{i}\"><port>{}</port><address>{}</address></member>\n",
                s.port,
                esc(&s.address)
            );
        }
        x += "</members></TVS>\n<capfList>\n";
        for s in &self.capf {
            x += &format!(
                "<capf><phonePort>{}</phonePort><processNodeName>{}</processNodeName></capf>\n",
                s.port,
                esc(&s.address)
            );
        }
        x += "</capfList>\n";
        x += &format!(
            "<capfAuthMode>{}</capfAuthMode>\n",
            self.capf_auth_mode.code()
        );
        x += &format!(
            "<deviceSecurityMode>{}</deviceSecurityMode>\n",
            self.security_mode.code()
        );
        x += &format!(
            "<certHash>{}</certHash>\n",
            esc(self.cert_hash.as_deref().unwrap_or(""))
        );
        x += &format!("<encrConfig>{}</encrConfig>\n</device>\n", self.encr_config);
        x
    }

    /// Reads the trust-relevant fields from config XML.
    pub fn from_xml(xml: &str) -> Result<PhoneConfig, String> {
        let doc = roxmltree::Document::parse(xml).map_err(|e| format!("config XML: {e}"))?;
        let root = doc.root_element();
        let text = |node: roxmltree::Node, name: &str| -> Option<String> {
            node.children()
                .find(|c| c.has_tag_name(name))
                .and_then(|c| c.text())
                .map(|t| t.trim().to_string())
        };
        let find = |name: &str| root.descendants().find(|n| n.has_tag_name(name));
        let port =
            |s: Option<String>, default: u16| s.and_then(|p| p.parse().ok()).unwrap_or(default);
        let mut cfg = PhoneConfig {
            device_name: text(root, "deviceName").unwrap_or_default(),
            ..Default::default()
        };
        if let Some(group) = find("callManagerGroup") {
            for cm in group
                .descendants()
                .filter(|n| n.has_tag_name("callManager"))
            {
                cfg.callmanagers.extend(text(cm, "processNodeName"));
            }
        }
        if let Some(tvs) = find("TVS") {
            for m in tvs.descendants().filter(|n| n.has_tag_name("member")) {
                if let Some(address) = text(m, "address") {
                    cfg.tvs.push(Server {
                        address,
                        port: port(text(m, "port"), TVS_PORT),
                    });
                }
            }
        }
        if let Some(list) = find("capfList") {
            for c in list.children().filter(|n| n.has_tag_name("capf")) {
                if let Some(address) = text(c, "processNodeName") {
                    cfg.capf.push(Server {
                        address,
                        port: port(text(c, "phonePort"), CAPF_PORT),
                    });
                }
            }
        }
        let code = |name: &str| {
            find(name)
                .and_then(|n| n.text())
                .and_then(|t| t.trim().parse::<u8>().ok())
        };
        cfg.capf_auth_mode = code("capfAuthMode")
            .and_then(CapfAuthMode::from_code)
            .unwrap_or_default();
        cfg.security_mode = code("deviceSecurityMode")
            .and_then(SecurityMode::from_code)
            .unwrap_or_default();
        cfg.cert_hash = find("certHash")
            .and_then(|n| n.text())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from);
        cfg.encr_config = find("encrConfig")
            .and_then(|n| n.text())
            .is_some_and(|t| t.trim() == "true");
        Ok(cfg)
    }

    /// The name of the signed file: `SEP<MAC>.cnf.xml.sgn`.
    pub fn signed_file_name(&self) -> String {
        format!("{}.cnf.xml.sgn", self.device_name)
    }
}

/// Signs `payload` into a `.sgn` file named `filename`.
pub fn sign_config(
    payload: &[u8],
    filename: &str,
    signer: &Certificate,
    key: &PrivateKey,
    digest: DigestAlg,
    timestamp: u32,
    backend: Backend,
) -> Result<Vec<u8>, SigError> {
    let mut builder = TrustListBuilder::new(filename, timestamp);
    builder.version = (1, 0);
    builder.digest = digest;
    builder.backend = backend;
    sign_with_body(&builder, signer, key, payload)
}

/// A parsed `.sgn` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedConfig {
    pub header: Header,
    pub raw: Vec<u8>,
}

impl SignedConfig {
    /// The payload (the XML) after the header.
    pub fn payload(&self) -> &[u8] {
        &self.raw[self.header.header_length as usize..]
    }

    /// Verifies the signature with the signer's key (taken from the phone's ITL/CTL or TVS).
    pub fn verify_with(&self, key: &PublicKey, backend: Backend) -> Result<(), VerifyError> {
        verify_signature(&self.raw, &self.header, key, backend)
    }

    /// The parsed config.
    pub fn config(&self) -> Result<PhoneConfig, String> {
        let xml =
            std::str::from_utf8(self.payload()).map_err(|e| format!("config is not UTF-8: {e}"))?;
        PhoneConfig::from_xml(xml)
    }
}

/// Parses a `.sgn` file.
pub fn parse_signed_config(bytes: &[u8]) -> Result<SignedConfig, ParseError> {
    let header = parse_header(bytes)?;
    Ok(SignedConfig {
        header,
        raw: bytes.to_vec(),
    })
}
