//! Digest algorithms of the CUCM file formats and their wire codes.
//!
//! ITL/CTL header tag 8 and record tag 12 carry 1 = SHA-1, 2 = SHA-256, 3 = SHA-512
//! (reference §1.2; early usecallmanager code used 3 = SHA-384, later corrected). SHA-1 is
//! CUCM's default "TFTP File Signature Algorithm".

use serde::{Deserialize, Serialize};
use sha1::Digest as _;
use std::fmt;

/// A digest used for file signatures and certificate hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DigestAlg {
    /// SHA-1, code 1: CUCM's default file signature digest.
    #[default]
    Sha1,
    /// SHA-256, code 2.
    Sha256,
    /// SHA-512, code 3 (phones that cannot verify it fail: F28).
    Sha512,
}

impl DigestAlg {
    /// All digests, in code order.
    pub const ALL: [DigestAlg; 3] = [DigestAlg::Sha1, DigestAlg::Sha256, DigestAlg::Sha512];

    /// The wire code (header tag 8, record tag 12).
    pub fn code(self) -> u8 {
        match self {
            DigestAlg::Sha1 => 1,
            DigestAlg::Sha256 => 2,
            DigestAlg::Sha512 => 3,
        }
    }

    /// The digest for a wire code, if known.
    pub fn from_code(code: u8) -> Option<DigestAlg> {
        match code {
            1 => Some(DigestAlg::Sha1),
            2 => Some(DigestAlg::Sha256),
            3 => Some(DigestAlg::Sha512),
            _ => None,
        }
    }

    /// Lower-case name as used in JSON output: `sha1`, `sha256`, `sha512`.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlg::Sha1 => "sha1",
            DigestAlg::Sha256 => "sha256",
            DigestAlg::Sha512 => "sha512",
        }
    }

    /// Parses `sha1`, `sha-256`, `SHA512`, … (case and dashes ignored).
    pub fn parse(text: &str) -> Option<DigestAlg> {
        match text.to_ascii_lowercase().replace('-', "").as_str() {
            "sha1" => Some(DigestAlg::Sha1),
            "sha256" => Some(DigestAlg::Sha256),
            "sha512" => Some(DigestAlg::Sha512),
            _ => None,
        }
    }

    /// Hashes `data`.
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            DigestAlg::Sha1 => sha1::Sha1::digest(data).to_vec(),
            DigestAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
            DigestAlg::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

impl fmt::Display for DigestAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// SHA-1 of `data` as lower-case hex (the `show itl` certificate hash and checksum form).
pub fn sha1_hex(data: &[u8]) -> String {
    hex::encode(sha1::Sha1::digest(data))
}

/// MD5 of `data` as lower-case hex (the first `show itl` checksum).
pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(data))
}
