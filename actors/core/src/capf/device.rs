//! The CAPF information of one device as CUCM keeps it (reference §3.1 "Per-phone settings",
//! §3.3), which key a session asks for, and how a finished session changes the record.
//!
//! ```text
//!  admin/BAT sets operation ──► status "<op> pending" ──► session ──► Outcome
//!     Issued / Deleted / Fetched ──► operation := None, status "<op> Success"
//!     Failed{7 | 9}              ──► operation stays, status "<op> failed"
//!     Failed{0} (nothing to do)  ──► unchanged
//! ```
//! Status wording: "Upgrade Success" and "`<op>` pending / failed" are CUCM's [C S14/S15]; the
//! success text of Delete and Troubleshoot is [I].

use super::codes::{CertKind, Curve, Reason};
use super::keys::{KeyError, KeySpec};
use crate::pki::Certificate;
use crate::sgn::{CapfAuthMode, SecurityMode};
use crate::wall::WallTime;
use std::fmt;
use thiserror::Error;

/// "Certificate Operation" [C S15].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum CertOperation {
    #[default]
    None,
    InstallUpgrade,
    Delete,
    Troubleshoot,
}

impl CertOperation {
    /// CUCM's label.
    pub fn label(self) -> &'static str {
        match self {
            CertOperation::None => "No Pending Operation",
            CertOperation::InstallUpgrade => "Install/Upgrade",
            CertOperation::Delete => "Delete",
            CertOperation::Troubleshoot => "Troubleshoot",
        }
    }
}

/// Which existing certificate the phone offers first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CertPrecedence {
    Lsc,
    Mic,
}

/// "Authentication Mode" [C S15].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CapfAuth {
    /// "By Authentication String": 4–10 digits, also typed on the phone.
    AuthString(String),
    /// "By Null String".
    NullString,
    /// "By Existing Certificate (Precedence to LSC | MIC)".
    ExistingCert(CertPrecedence),
}

impl CapfAuth {
    /// The `<capfAuthMode>` the phone's configuration file carries for this mode.
    pub fn phone_mode(&self) -> CapfAuthMode {
        match self {
            CapfAuth::AuthString(_) => CapfAuthMode::AuthString,
            CapfAuth::NullString => CapfAuthMode::NullString,
            CapfAuth::ExistingCert(CertPrecedence::Lsc) => CapfAuthMode::ExistingLscFirst,
            CapfAuth::ExistingCert(CertPrecedence::Mic) => CapfAuthMode::ExistingMicFirst,
        }
    }
}

/// "Key Order" [C S15].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum KeyOrder {
    #[default]
    RsaOnly,
    EcOnly,
    EcPreferredRsaBackup,
}

/// "Certificate Operation Status".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OperationStatus {
    #[default]
    None,
    Pending(CertOperation),
    Success(CertOperation),
    Failed(CertOperation),
}

impl fmt::Display for OperationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperationStatus::None => f.write_str("None"),
            OperationStatus::Pending(op) => write!(f, "{} pending", op.label()),
            OperationStatus::Success(CertOperation::InstallUpgrade) => {
                f.write_str("Upgrade Success")
            }
            OperationStatus::Success(op) => write!(f, "{} Success", op.label()),
            OperationStatus::Failed(op) => write!(f, "{} failed", op.label()),
        }
    }
}

/// How a session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The phone stored this LSC.
    Issued { cert: Certificate },
    /// The phone deleted its LSC.
    Deleted,
    /// The phone's certificates, for the CAPF trace (LSC and/or MIC).
    Fetched { certs: Vec<(CertKind, Certificate)> },
    /// END_SESSION `reason` (0 no pending operation, 7 refused, 9 unknown device), and why.
    Failed { reason: Reason, text: String },
}

/// One device's CAPF settings and state on the CUCM side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRecord {
    /// `SEP<MAC>` (or `CSF…` for Jabber).
    pub device_name: String,
    /// Model number for the LSC subject, e.g. `8861`.
    pub model: String,
    /// Hardware serial for the LSC subject (`FCH18198CNQ`), when known.
    pub hw_serial: Option<String>,
    /// From the Phone Security Profile.
    pub security_mode: SecurityMode,
    pub operation: CertOperation,
    pub auth: CapfAuth,
    pub key_order: KeyOrder,
    /// "RSA Key Size": 512, 1024, 2048, 3072 or 4096.
    pub rsa_bits: u16,
    /// "EC Key Size": 256, 384 or 521.
    pub ec_curve: Curve,
    /// "Operation Completes By" on the CAPF host's wall clock.
    pub completes_by: Option<WallTime>,
    /// Whether the endpoint speaks CAPFv3 (EC keys).
    pub capf_v3: bool,
    pub status: OperationStatus,
    /// How many LSCs CAPF has issued to this device (serials, "issued once").
    pub lscs_issued: u32,
    /// The last LSC issued or fetched.
    pub lsc: Option<Certificate>,
}

/// Why a record is not one CUCM would save, or not one this simulator can run.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RecordError {
    #[error("authentication string {0:?} is not 4–10 digits")]
    AuthString(String),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Why no key can be asked for.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum KeyChoiceError {
    #[error(
        "CAPFv3 endpoint with key order \"EC Preferred, RSA Backup\" and enterprise parameter \
         \"Endpoint Advanced Encryption Algorithms Support\" off: no LSC (F16)"
    )]
    EcPreferredWithoutAdvancedAlgorithms,
}

/// The authentication string BAT gives `device` when asked for a unique one per device: 8
/// digits drawn from the seed (the length is [I]; CUCM allows 4–10).
pub fn unique_auth_string(seed: u64, device: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(b"capf-auth-string/");
    h.update(device.as_bytes());
    let d = h.finalize();
    let n = u64::from_be_bytes(d[..8].try_into().expect("8 bytes")) % 100_000_000;
    format!("{n:08}")
}

/// Checks an authentication string: 4–10 digits [C CUCM field help].
pub fn check_auth_string(s: &str) -> Result<(), RecordError> {
    let ok = (4..=10).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(())
        .ok_or_else(|| RecordError::AuthString(s.into()))
}

impl DeviceRecord {
    /// A non-secure device with no pending operation, null-string mode, RSA-2048 [I defaults].
    pub fn new(device_name: &str, model: &str) -> DeviceRecord {
        DeviceRecord {
            device_name: device_name.into(),
            model: model.into(),
            hw_serial: None,
            security_mode: SecurityMode::NonSecure,
            operation: CertOperation::None,
            auth: CapfAuth::NullString,
            key_order: KeyOrder::RsaOnly,
            rsa_bits: 2048,
            ec_curve: Curve::P256,
            completes_by: None,
            capf_v3: false,
            status: OperationStatus::None,
            lscs_issued: 0,
            lsc: None,
        }
    }

    /// Schedules `op` (phone page, UDT or BAT "Update Phones" with Apply Config).
    pub fn schedule(&mut self, op: CertOperation, completes_by: Option<WallTime>) {
        self.operation = op;
        self.completes_by = completes_by;
        self.status = match op {
            CertOperation::None => OperationStatus::None,
            op => OperationStatus::Pending(op),
        };
    }

    /// Whether CUCM would save this record and the simulator can run it.
    pub fn validate(&self) -> Result<(), RecordError> {
        if let CapfAuth::AuthString(s) = &self.auth {
            check_auth_string(s)?;
        }
        KeySpec::Rsa {
            bits: self.rsa_bits,
        }
        .profile()?;
        if self.key_order != KeyOrder::RsaOnly {
            KeySpec::Ec(self.ec_curve).profile()?;
        }
        Ok(())
    }

    /// The key KEY_GEN_REQ asks for. Non-CAPFv3 endpoints always get RSA [C]. A CAPFv3
    /// endpoint with "EC Preferred, RSA Backup" needs the enterprise parameter (F16) [C];
    /// "EC Only" is not gated by it here, as no source says it is [I].
    pub fn key_spec(&self, advanced_algorithms: bool) -> Result<KeySpec, KeyChoiceError> {
        let rsa = KeySpec::Rsa {
            bits: self.rsa_bits,
        };
        let ec = KeySpec::Ec(self.ec_curve);
        Ok(match (self.key_order, self.capf_v3) {
            (KeyOrder::RsaOnly, _) | (_, false) => rsa,
            (KeyOrder::EcOnly, true) => ec,
            (KeyOrder::EcPreferredRsaBackup, true) if advanced_algorithms => ec,
            (KeyOrder::EcPreferredRsaBackup, true) => {
                return Err(KeyChoiceError::EcPreferredWithoutAdvancedAlgorithms)
            }
        })
    }

    /// Records a finished session (§3.3).
    pub fn apply(&mut self, outcome: &Outcome) {
        let op = self.operation;
        match outcome {
            Outcome::Issued { cert } => {
                self.lscs_issued += 1;
                self.lsc = Some(cert.clone());
            }
            Outcome::Deleted => self.lsc = None,
            Outcome::Fetched { .. } => {}
            Outcome::Failed { reason, .. } => {
                if *reason != Reason::NoAction && op != CertOperation::None {
                    self.status = OperationStatus::Failed(op);
                }
                return;
            }
        }
        self.operation = CertOperation::None;
        self.status = OperationStatus::Success(op);
    }
}
