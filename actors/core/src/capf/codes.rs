//! The numbers of the CAPF protocol (reference §3.2): commands, element tags, and the one-byte
//! codes that travel inside elements (REASON, AUTH_TYPE, KEY_TYPE, CURVE, certificate type).
//!
//! ```text
//!  command 1..23 ──► Command          element tag 1..13, 16..20 ──► tag::*
//!  REASON 0 1 7 9 ──► Reason          AUTH_TYPE 0..4 ──► AuthType
//!  KEY_TYPE 0 1 ──► KeyType           CURVE 0 1 2 ──► Curve        CERT_TYPE 1 2 ──► CertKind
//! ```
//! Every code enum keeps a value it has no name for in `Other(u8)`, so what was read is what
//! is written back. Names follow usecallmanager's `capfd` [OSS S2].

use std::fmt;

/// Protocol id, the first byte of every CAPF message (0x55 = 85).
pub const PROTOCOL_ID: u8 = 0x55;
/// The VERSION the CAPF server announces in AUTH_REQ [OSS S2/S4].
pub const PROTOCOL_VERSION: u8 = 3;

/// A CAPF command (header byte 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Command {
    AuthReq = 1,
    AuthRes = 2,
    KeyGenReq = 3,
    KeyGenRes = 4,
    EncryptRes = 5,
    EncryptReq = 6,
    DecryptReq = 7,
    DecryptRes = 8,
    StoreCertReq = 9,
    StoreCertRes = 10,
    FetchCertReq = 11,
    FetchCertRes = 12,
    DeleteCertReq = 13,
    DeleteCertRes = 14,
    EndSession = 15,
    RetryLater = 16,
    RequestInProgress = 17,
    StatusReq = 18,
    StatusRes = 19,
    AbortReq = 20,
    AbortRes = 21,
    SignCertReq = 22,
    SignCertRes = 23,
}

impl Command {
    /// Every command, in code order (code = index + 1).
    pub const ALL: [Command; 23] = [
        Command::AuthReq,
        Command::AuthRes,
        Command::KeyGenReq,
        Command::KeyGenRes,
        Command::EncryptRes,
        Command::EncryptReq,
        Command::DecryptReq,
        Command::DecryptRes,
        Command::StoreCertReq,
        Command::StoreCertRes,
        Command::FetchCertReq,
        Command::FetchCertRes,
        Command::DeleteCertReq,
        Command::DeleteCertRes,
        Command::EndSession,
        Command::RetryLater,
        Command::RequestInProgress,
        Command::StatusReq,
        Command::StatusRes,
        Command::AbortReq,
        Command::AbortRes,
        Command::SignCertReq,
        Command::SignCertRes,
    ];

    /// The wire code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The command for a wire code, if it is one of 1..=23.
    pub fn from_code(code: u8) -> Option<Command> {
        Command::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// The protocol name, e.g. `AUTH_REQ`.
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 23] = [
            "AUTH_REQ",
            "AUTH_RES",
            "KEY_GEN_REQ",
            "KEY_GEN_RES",
            "ENCRYPT_RES",
            "ENCRYPT_REQ",
            "DECRYPT_REQ",
            "DECRYPT_RES",
            "STORE_CERT_REQ",
            "STORE_CERT_RES",
            "FETCH_CERT_REQ",
            "FETCH_CERT_RES",
            "DELETE_CERT_REQ",
            "DELETE_CERT_RES",
            "END_SESSION",
            "RETRY_LATER",
            "REQUEST_IN_PROGRESS",
            "STATUS_REQ",
            "STATUS_RES",
            "ABORT_REQ",
            "ABORT_RES",
            "SIGN_CERT_REQ",
            "SIGN_CERT_RES",
        ];
        NAMES[usize::from(self.code() - 1)]
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Element tags (1-byte tag of each body TLV). 14 and 15 are not assigned in any source.
pub mod tag {
    pub const REASON: u8 = 1;
    pub const REASON_INFO: u8 = 2;
    pub const CERT_TYPE: u8 = 3;
    pub const CERTIFICATE: u8 = 4;
    pub const CERTIFICATE_ID: u8 = 5;
    pub const SIGNED_DATA: u8 = 6;
    pub const VERSION: u8 = 7;
    pub const AUTH_TYPE: u8 = 8;
    pub const PUBLIC_KEY: u8 = 9;
    pub const KEY_SIZE: u8 = 10;
    pub const PASSWORD: u8 = 11;
    pub const RETRY_DELAY: u8 = 12;
    pub const DEVICE_NAME: u8 = 13;
    pub const SUDI_DATA: u8 = 16;
    pub const KEY_TYPE: u8 = 17;
    pub const CURVE: u8 = 18;
    pub const DIGEST_TYPE: u8 = 19;
    pub const SHA2_SIGNED_DATA: u8 = 20;

    /// The protocol name of a tag, or `"element"` for one outside the table.
    pub fn name(tag: u8) -> &'static str {
        match tag {
            REASON => "REASON",
            REASON_INFO => "REASON_INFO",
            CERT_TYPE => "CERT_TYPE",
            CERTIFICATE => "CERTIFICATE",
            CERTIFICATE_ID => "CERTIFICATE_ID",
            SIGNED_DATA => "SIGNED_DATA",
            VERSION => "VERSION",
            AUTH_TYPE => "AUTH_TYPE",
            PUBLIC_KEY => "PUBLIC_KEY",
            KEY_SIZE => "KEY_SIZE",
            PASSWORD => "PASSWORD",
            RETRY_DELAY => "RETRY_DELAY",
            DEVICE_NAME => "DEVICE_NAME",
            SUDI_DATA => "SUDI_DATA",
            KEY_TYPE => "KEY_TYPE",
            CURVE => "CURVE",
            DIGEST_TYPE => "DIGEST_TYPE",
            SHA2_SIGNED_DATA => "SHA2_SIGNED_DATA",
            _ => "element",
        }
    }

    /// Whether `tag` is one of the assigned tags above.
    pub fn is_known(tag: u8) -> bool {
        name(tag) != "element"
    }
}

/// A one-byte code enum with named values and `Other(u8)` for the rest.
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $code:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vm])* $var,)*
            /// A code with no name here, kept as read.
            Other(u8),
        }

        impl $name {
            /// The wire code.
            pub fn code(self) -> u8 {
                match self {
                    $($name::$var => $code,)*
                    $name::Other(c) => c,
                }
            }

            /// The value for a wire code (named where one exists, so the mapping is canonical).
            pub fn from_code(code: u8) -> $name {
                match code {
                    $($code => $name::$var,)*
                    c => $name::Other(c),
                }
            }
        }
    };
}

code_enum! {
    /// REASON (element 1) [OSS S2/S4].
    Reason {
        /// 0: no action (no pending operation; END_SESSION after a fetch).
        NoAction = 0,
        /// 1: success / update certificate.
        Success = 1,
        /// 7: invalid element; also bad authentication and "already issued" (Jabber capture).
        InvalidElement = 7,
        /// 9: unknown device.
        UnknownDevice = 9,
    }
}

code_enum! {
    /// AUTH_TYPE (element 8) and the phone's `<capfAuthMode>` codes [OSS S2/S3].
    AuthType {
        None = 0,
        Password = 1,
        NullString = 2,
        Lsc = 3,
        Mic = 4,
    }
}

code_enum! {
    /// KEY_TYPE (element 17): the key CAPF asks the phone to generate [OSS S2].
    KeyType {
        Rsa = 0,
        Ec = 1,
    }
}

code_enum! {
    /// CURVE (element 18) [OSS S2].
    Curve {
        /// secp256r1 (prime256v1).
        P256 = 0,
        P384 = 1,
        P521 = 2,
    }
}

code_enum! {
    /// Certificate type: CERT_TYPE (element 3) and the byte inside a CERTIFICATE element.
    CertKind {
        Lsc = 1,
        Mic = 2,
    }
}

impl Curve {
    /// Key size in bits as CUCM's "EC Key Size" field names it (256, 384, 521).
    pub fn bits(self) -> Option<u16> {
        match self {
            Curve::P256 => Some(256),
            Curve::P384 => Some(384),
            Curve::P521 => Some(521),
            Curve::Other(_) => None,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Reason::NoAction => "no action",
            Reason::Success => "success",
            Reason::InvalidElement => "invalid element",
            Reason::UnknownDevice => "unknown device",
            Reason::Other(_) => "unnamed reason",
        };
        write!(f, "{} ({text})", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_canonical() {
        for (i, c) in Command::ALL.iter().enumerate() {
            assert_eq!(usize::from(c.code()), i + 1);
            assert_eq!(Command::from_code(c.code()), Some(*c));
        }
        assert_eq!(Command::from_code(0), None);
        assert_eq!(Command::from_code(24), None);
        assert_eq!(Command::EndSession.name(), "END_SESSION");
        for b in 0..=255u8 {
            assert_eq!(Reason::from_code(b).code(), b);
            assert_eq!(AuthType::from_code(b).code(), b);
            assert_eq!(Curve::from_code(b).code(), b);
        }
        assert_eq!(Reason::from_code(9), Reason::UnknownDevice);
        assert_eq!(CertKind::from_code(2), CertKind::Mic);
        assert!(tag::is_known(20) && !tag::is_known(14) && !tag::is_known(0));
    }
}
