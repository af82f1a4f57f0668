//! The CUCM ITL/CTL file format (`ITLFile.tlv`, `CTLFile.tlv`, `ITLSEP<MAC>.tlv`, …): build,
//! sign, parse and verify, byte-exact to reference §1.
//!
//! ```text
//!  file = header ‖ records
//!  header = VERSION(1) HEADERLENGTH(2) SIGNERID(3){4 5 6} SIGNATUREINFO(7){8 SIGNATUREALGOINFO(9){10 11}}
//!           SIGNATURE(12) FILENAME(14) TIMESTAMP(15) [SIGNERVERSION(28)] 0x0D… (pad to 4)
//!  record = RECORDLENGTH(1) DNSNAME(2) SUBJECT(3) FUNCTION(4) ISSUER(5) SERIAL(6) PUBLICKEY(7)
//!           [SIGNATURE(8)] CERTIFICATE(9) IPADDRESS(10) [CERTHASH(11) HASHALG(12)]
//!  signature = sign(digest, file without the SIGNATURE TLV) by the SAST record whose serial
//!              (and issuer) match SIGNERID
//! ```
//!
//! Extension of the format (not seen in CUCM files): SIGNATUREALGORITHM (tag 10) = 1 means
//! ECDSA P-256 over the tag-8 digest, signature as fixed 64-byte `r ‖ s`, with no tag 11.
//! Value 0 is RSA PKCS#1 v1.5, the only value real files carry.

pub mod build;
pub mod content;
pub mod parse;
pub mod shared;
pub mod tags;
pub mod verify;
mod wire;

pub use build::{RecordSpec, TrustListBuilder};
pub use parse::{parse, parse_header, Header, Record, TrustList, UnknownTag};
pub use shared::parse_shared;
pub use tags::Role;
pub use verify::VerifyError;
pub use wire::ParseError;

#[cfg(test)]
mod tests;
