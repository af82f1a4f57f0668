//! Tag numbers and role codes (reference §1.2–1.4).

use serde::{Serialize, Serializer};
use std::fmt;

/// Header tags.
pub mod header {
    pub const VERSION: u8 = 1;
    pub const HEADER_LENGTH: u8 = 2;
    pub const SIGNER_ID: u8 = 3;
    pub const SIGNER_NAME: u8 = 4;
    pub const SERIAL_NUMBER: u8 = 5;
    pub const CA_NAME: u8 = 6;
    pub const SIGNATURE_INFO: u8 = 7;
    pub const DIGEST_ALGORITHM: u8 = 8;
    pub const SIGNATURE_ALGO_INFO: u8 = 9;
    pub const SIGNATURE_ALGORITHM: u8 = 10;
    pub const SIGNATURE_MODULUS: u8 = 11;
    pub const SIGNATURE: u8 = 12;
    /// A single byte with no length field.
    pub const PADDING: u8 = 13;
    pub const FILENAME: u8 = 14;
    pub const TIMESTAMP: u8 = 15;
    pub const SIGNER_VERSION: u8 = 28;

    /// Containers: the parser steps into them rather than over them.
    pub fn is_container(tag: u8) -> bool {
        matches!(tag, SIGNER_ID | SIGNATURE_INFO | SIGNATURE_ALGO_INFO)
    }

    /// Cisco's `show ctl` name of a header tag (with its spelling mistakes).
    pub fn name(tag: u8) -> &'static str {
        match tag {
            VERSION => "VERSION",
            HEADER_LENGTH => "HEADERLENGTH",
            SIGNER_ID => "SIGNERID",
            SIGNER_NAME => "SIGNERNAME",
            SERIAL_NUMBER => "SERIALNUMBER",
            CA_NAME => "CANAME",
            SIGNATURE_INFO => "SIGNATUREINFO",
            DIGEST_ALGORITHM => "DIGESTALGORTITHM",
            SIGNATURE_ALGO_INFO => "SIGNATUREALGOINFO",
            SIGNATURE_ALGORITHM => "SIGNATUREALGORTITHM",
            SIGNATURE_MODULUS => "SIGNATUREMODULUS",
            SIGNATURE => "SIGNATURE",
            PADDING => "PADDING",
            FILENAME => "FILENAME",
            TIMESTAMP => "TIMESTAMP",
            SIGNER_VERSION => "SIGNERVERSION",
            _ => "UNKNOWN",
        }
    }
}

/// Record tags.
pub mod record {
    pub const RECORD_LENGTH: u8 = 1;
    pub const DNS_NAME: u8 = 2;
    pub const SUBJECT_NAME: u8 = 3;
    pub const FUNCTION: u8 = 4;
    pub const ISSUER_NAME: u8 = 5;
    pub const SERIAL_NUMBER: u8 = 6;
    pub const PUBLIC_KEY: u8 = 7;
    pub const SIGNATURE: u8 = 8;
    pub const CERTIFICATE: u8 = 9;
    pub const IP_ADDRESS: u8 = 10;
    pub const CERT_HASH: u8 = 11;
    pub const HASH_ALGORITHM: u8 = 12;

    /// Cisco's `show ctl` name of a record tag.
    pub fn name(tag: u8) -> &'static str {
        match tag {
            RECORD_LENGTH => "RECORDLENGTH",
            DNS_NAME => "DNSNAME",
            SUBJECT_NAME => "SUBJECTNAME",
            FUNCTION => "FUNCTION",
            ISSUER_NAME => "ISSUERNAME",
            SERIAL_NUMBER => "SERIALNUMBER",
            PUBLIC_KEY => "PUBLICKEY",
            SIGNATURE => "SIGNATURE",
            CERTIFICATE => "CERTIFICATE",
            IP_ADDRESS => "IPADDRESS",
            CERT_HASH => "CERTHASH",
            HASH_ALGORITHM => "HASHALGORITHM",
            _ => "UNKNOWN",
        }
    }
}

/// SIGNATUREALGORITHM values: 0 = RSA (CUCM); 1 = ECDSA P-256 (this project's extension).
pub const SIG_ALG_RSA: u8 = 0;
/// See [`SIG_ALG_RSA`].
pub const SIG_ALG_ECDSA_P256: u8 = 1;

/// SIGNATUREMODULUS index → signature length in bytes.
pub const MODULUS_BYTES: [usize; 4] = [64, 128, 256, 512];

/// A record's FUNCTION (role) code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// 0: System Administrator Security Token — may sign `.tlv` files.
    Sast,
    /// 1: CallManager (TLS to SIP 5061 / SCCP 2443).
    Ccm,
    /// 2: CallManager and TFTP (signs configuration files).
    CcmTftp,
    /// 3: TFTP (signs configuration files).
    Tftp,
    /// 4: CAPF (TLS to 3804).
    Capf,
    /// 5: SRST (old usecallmanager only).
    Srst,
    /// 7: HTTPS application server.
    AppServer,
    /// 21: TVS (TLS to 2445).
    Tvs,
    /// Any other code.
    Other(u16),
}

impl Role {
    /// The wire code.
    pub fn code(self) -> u16 {
        match self {
            Role::Sast => 0,
            Role::Ccm => 1,
            Role::CcmTftp => 2,
            Role::Tftp => 3,
            Role::Capf => 4,
            Role::Srst => 5,
            Role::AppServer => 7,
            Role::Tvs => 21,
            Role::Other(c) => c,
        }
    }

    /// The role of a code.
    pub fn from_code(code: u16) -> Role {
        match code {
            0 => Role::Sast,
            1 => Role::Ccm,
            2 => Role::CcmTftp,
            3 => Role::Tftp,
            4 => Role::Capf,
            5 => Role::Srst,
            7 => Role::AppServer,
            21 => Role::Tvs,
            c => Role::Other(c),
        }
    }

    /// Short name for JSON: `SAST`, `CCM`, `CCM+TFTP`, `TFTP`, `CAPF`, `SRST`, `APP-SERVER`,
    /// `TVS`, or the number.
    pub fn short_name(self) -> String {
        match self {
            Role::Sast => "SAST".into(),
            Role::Ccm => "CCM".into(),
            Role::CcmTftp => "CCM+TFTP".into(),
            Role::Tftp => "TFTP".into(),
            Role::Capf => "CAPF".into(),
            Role::Srst => "SRST".into(),
            Role::AppServer => "APP-SERVER".into(),
            Role::Tvs => "TVS".into(),
            Role::Other(c) => c.to_string(),
        }
    }

    /// `show ctl` text ("System Administrator Security Token" for SAST).
    pub fn show_text(self) -> String {
        match self {
            Role::Sast => "System Administrator Security Token".into(),
            other => other.short_name(),
        }
    }

    /// Parses a short name or a number.
    pub fn parse(text: &str) -> Option<Role> {
        let up = text.to_ascii_uppercase();
        let all = [
            Role::Sast,
            Role::Ccm,
            Role::CcmTftp,
            Role::Tftp,
            Role::Capf,
            Role::Srst,
            Role::AppServer,
            Role::Tvs,
        ];
        all.into_iter()
            .find(|r| r.short_name() == up)
            .or_else(|| text.parse::<u16>().ok().map(Role::from_code))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short_name())
    }
}

impl Serialize for Role {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Role::Other(c) => s.serialize_u16(*c),
            r => s.serialize_str(&r.short_name()),
        }
    }
}
