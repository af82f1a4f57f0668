//! Parsing ITL/CTL (and `.sgn`) files from untrusted bytes: every length is checked, every
//! error names the byte offset and what was expected, unknown tags are kept and reported.
//! Header tags may come in any order (containers are stepped into); records may omit any tag
//! but RECORDLENGTH.

use super::tags::{header as h, record as r, Role};
use super::wire::{read_cstr, read_tlv, ParseError};
use crate::digest::DigestAlg;
use std::net::Ipv4Addr;
use std::ops::Range;

/// A tag the parser does not know, kept so tools can report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownTag {
    pub tag: u8,
    pub offset: usize,
    pub value: Vec<u8>,
}

/// The parsed header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub version: (u8, u8),
    pub header_length: u16,
    pub signer_name: Option<String>,
    pub signer_serial: Option<Vec<u8>>,
    pub signer_issuer: Option<String>,
    /// Raw tag-8 code (1 SHA-1, 2 SHA-256, 3 SHA-512); see [`Header::digest`].
    pub digest_code: Option<u8>,
    /// Raw tag-10 value (0 RSA; 1 ECDSA P-256, this project's extension).
    pub signature_algorithm: Option<u8>,
    /// Raw tag-11 index into 64/128/256/512 bytes.
    pub modulus_index: Option<u8>,
    pub signature: Option<Vec<u8>>,
    /// Byte range of the whole SIGNATURE TLV (tag, length and value).
    pub signature_tlv: Option<Range<usize>>,
    pub filename: Option<String>,
    pub timestamp: Option<u32>,
    /// Tag 28, absent in CUCM 10.5 files.
    pub signer_version: Option<(u8, u8)>,
    pub padding: usize,
    /// Header tags in file order (containers included), for `show itl`-style listings.
    pub tag_order: Vec<(u8, usize)>,
    pub unknown: Vec<UnknownTag>,
}

impl Header {
    /// The digest named by tag 8, if it is a known code.
    pub fn digest(&self) -> Option<DigestAlg> {
        self.digest_code.and_then(DigestAlg::from_code)
    }
}

/// One record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub offset: usize,
    pub length: u16,
    pub dns_name: Option<String>,
    pub subject: Option<String>,
    pub role: Option<Role>,
    pub issuer: Option<String>,
    pub serial: Option<Vec<u8>>,
    pub public_key: Option<Vec<u8>>,
    pub signature: Option<Vec<u8>>,
    pub certificate: Option<Vec<u8>>,
    pub ip: Option<Ipv4Addr>,
    pub cert_hash: Option<Vec<u8>>,
    pub hash_algorithm: Option<u8>,
    /// Tags in file order with their value lengths.
    pub tag_order: Vec<(u8, usize)>,
    pub unknown: Vec<UnknownTag>,
}

impl Record {
    /// A blank (placeholder) record: no subject, certificate or key (reference §1.3).
    pub fn is_blank(&self) -> bool {
        self.certificate.is_none() && self.public_key.is_none() && self.subject.is_none()
    }
}

/// A parsed trust list: header, records, and the raw bytes they came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustList {
    pub header: Header,
    pub records: Vec<Record>,
    pub raw: Vec<u8>,
}

impl TrustList {
    /// The bytes the signature covers: the whole file minus the SIGNATURE TLV.
    pub fn signed_bytes(&self) -> Vec<u8> {
        signed_bytes(&self.raw, &self.header)
    }

    /// `"ctl"` when the filename names a CTL, otherwise `"itl"`.
    pub fn kind(&self) -> &'static str {
        let name = self
            .header
            .filename
            .as_deref()
            .unwrap_or("")
            .to_ascii_uppercase();
        if name.starts_with("CTL") {
            "ctl"
        } else {
            "itl"
        }
    }
}

/// The bytes a signature covers, given a parsed header.
pub fn signed_bytes(raw: &[u8], header: &Header) -> Vec<u8> {
    match &header.signature_tlv {
        Some(range) => {
            let mut out = Vec::with_capacity(raw.len() - range.len());
            out.extend_from_slice(&raw[..range.start]);
            out.extend_from_slice(&raw[range.end..]);
            out
        }
        None => raw.to_vec(),
    }
}

/// Parses a whole ITL/CTL file.
pub fn parse(bytes: &[u8]) -> Result<TrustList, ParseError> {
    let header = parse_header(bytes)?;
    let mut records = vec![];
    let mut pos = header.header_length as usize;
    while pos < bytes.len() {
        let record = parse_record(bytes, pos)?;
        pos += record.length as usize;
        records.push(record);
    }
    Ok(TrustList {
        header,
        records,
        raw: bytes.to_vec(),
    })
}

/// Parses only the header; the body starts at `header_length` (records, or a `.sgn` payload).
pub fn parse_header(bytes: &[u8]) -> Result<Header, ParseError> {
    let version = read_tlv(bytes, 0, bytes.len(), "the header")?;
    if version.tag != h::VERSION || version.value.len() != 2 {
        return Err(ParseError::new(
            0,
            "VERSION (tag 1, length 2) at the start of the file",
        ));
    }
    let hl = read_tlv(bytes, version.end, bytes.len(), "the header")?;
    if hl.tag != h::HEADER_LENGTH || hl.value.len() != 2 {
        return Err(ParseError::new(
            version.end,
            "HEADERLENGTH (tag 2, length 2) after VERSION",
        ));
    }
    let header_length = u16::from_be_bytes([hl.value[0], hl.value[1]]);
    let end = header_length as usize;
    if end < hl.end || end > bytes.len() {
        return Err(ParseError::new(
            hl.start,
            format!(
                "a header length between {} and the file size {}, found {end}",
                hl.end,
                bytes.len()
            ),
        ));
    }
    let mut header = Header {
        version: (version.value[0], version.value[1]),
        header_length,
        tag_order: vec![(h::VERSION, 2), (h::HEADER_LENGTH, 2)],
        ..Header::default()
    };
    let mut pos = hl.end;
    let mut containers: Vec<(u8, usize, usize)> = vec![];
    while pos < end {
        containers.retain(|&(_, _, cend)| cend > pos);
        if bytes[pos] == h::PADDING {
            header.padding += 1;
            pos += 1;
            continue;
        }
        let limit = containers.last().map_or(end, |&(_, _, cend)| cend);
        let context = containers
            .last()
            .map_or("the header".to_string(), |&(tag, start, _)| {
                format!("{} container at byte {start}", h::name(tag))
            });
        let tlv = read_tlv(bytes, pos, limit, &context)?;
        header.tag_order.push((tlv.tag, tlv.value.len()));
        if h::is_container(tlv.tag) {
            containers.push((tlv.tag, tlv.start, tlv.end));
            pos = tlv.start + 3;
            continue;
        }
        header_field(&mut header, tlv.tag, tlv.value, tlv.start..tlv.end)?;
        pos = tlv.end;
    }
    Ok(header)
}

fn header_field(
    header: &mut Header,
    tag: u8,
    value: &[u8],
    range: Range<usize>,
) -> Result<(), ParseError> {
    let at = range.start;
    let byte = |what: &str| -> Result<u8, ParseError> {
        match value {
            [b] => Ok(*b),
            _ => Err(ParseError::new(
                at,
                format!("{what} of 1 byte, found {}", value.len()),
            )),
        }
    };
    match tag {
        h::SIGNER_NAME => header.signer_name = Some(read_cstr(value)),
        h::SERIAL_NUMBER => header.signer_serial = Some(value.to_vec()),
        h::CA_NAME => header.signer_issuer = Some(read_cstr(value)),
        h::DIGEST_ALGORITHM => header.digest_code = Some(byte("DIGESTALGORITHM")?),
        h::SIGNATURE_ALGORITHM => header.signature_algorithm = Some(byte("SIGNATUREALGORITHM")?),
        h::SIGNATURE_MODULUS => header.modulus_index = Some(byte("SIGNATUREMODULUS")?),
        h::SIGNATURE => {
            header.signature = Some(value.to_vec());
            header.signature_tlv = Some(range);
        }
        h::FILENAME => header.filename = Some(read_cstr(value)),
        h::TIMESTAMP => match value {
            [a, b, c, d] => header.timestamp = Some(u32::from_be_bytes([*a, *b, *c, *d])),
            _ => {
                return Err(ParseError::new(
                    at,
                    format!("TIMESTAMP of 4 bytes, found {}", value.len()),
                ))
            }
        },
        h::SIGNER_VERSION => match value {
            [a, b] => header.signer_version = Some((*a, *b)),
            _ => {
                return Err(ParseError::new(
                    at,
                    format!("SIGNERVERSION of 2 bytes, found {}", value.len()),
                ))
            }
        },
        h::VERSION | h::HEADER_LENGTH => {
            return Err(ParseError::new(
                at,
                format!("no second {} inside the header", h::name(tag)),
            ))
        }
        other => header.unknown.push(UnknownTag {
            tag: other,
            offset: at,
            value: value.to_vec(),
        }),
    }
    Ok(())
}

fn parse_record(bytes: &[u8], pos: usize) -> Result<Record, ParseError> {
    let first = read_tlv(bytes, pos, bytes.len(), "a record")?;
    if first.tag != r::RECORD_LENGTH || first.value.len() != 2 {
        return Err(ParseError::new(
            pos,
            "RECORDLENGTH (tag 1, length 2) at the start of a record",
        ));
    }
    let length = u16::from_be_bytes([first.value[0], first.value[1]]);
    let end = pos + length as usize;
    if (length as usize) < 5 || end > bytes.len() {
        return Err(ParseError::new(
            pos,
            format!(
                "a record length between 5 and the {} bytes left, found {length}",
                bytes.len() - pos
            ),
        ));
    }
    let mut rec = Record {
        offset: pos,
        length,
        tag_order: vec![(r::RECORD_LENGTH, 2)],
        ..Record::default()
    };
    let mut at = first.end;
    while at < end {
        let tlv = read_tlv(bytes, at, end, &format!("the record at byte {pos}"))?;
        rec.tag_order.push((tlv.tag, tlv.value.len()));
        record_field(&mut rec, tlv.tag, tlv.value, at)?;
        at = tlv.end;
    }
    Ok(rec)
}

fn record_field(rec: &mut Record, tag: u8, value: &[u8], at: usize) -> Result<(), ParseError> {
    match tag {
        r::DNS_NAME => rec.dns_name = Some(read_cstr(value)),
        r::SUBJECT_NAME => rec.subject = Some(read_cstr(value)),
        r::FUNCTION => match value {
            [a, b] => rec.role = Some(Role::from_code(u16::from_be_bytes([*a, *b]))),
            [a] => rec.role = Some(Role::from_code(*a as u16)),
            _ => {
                return Err(ParseError::new(
                    at,
                    format!("FUNCTION of 2 bytes, found {}", value.len()),
                ))
            }
        },
        r::ISSUER_NAME => rec.issuer = Some(read_cstr(value)),
        r::SERIAL_NUMBER => rec.serial = Some(value.to_vec()),
        r::PUBLIC_KEY => rec.public_key = Some(value.to_vec()),
        r::SIGNATURE => rec.signature = Some(value.to_vec()),
        r::CERTIFICATE => rec.certificate = Some(value.to_vec()),
        r::IP_ADDRESS => match value {
            [a, b, c, d] => rec.ip = Some(Ipv4Addr::new(*a, *b, *c, *d)),
            _ => {
                return Err(ParseError::new(
                    at,
                    format!("IPADDRESS of 4 bytes, found {}", value.len()),
                ))
            }
        },
        r::CERT_HASH => rec.cert_hash = Some(value.to_vec()),
        r::HASH_ALGORITHM => match value {
            [b] => rec.hash_algorithm = Some(*b),
            _ => {
                return Err(ParseError::new(
                    at,
                    format!("HASHALGORITHM of 1 byte, found {}", value.len()),
                ))
            }
        },
        r::RECORD_LENGTH => {
            return Err(ParseError::new(
                at,
                "no second RECORDLENGTH inside a record",
            ))
        }
        other => rec.unknown.push(UnknownTag {
            tag: other,
            offset: at,
            value: value.to_vec(),
        }),
    }
    Ok(())
}
