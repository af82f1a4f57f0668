//! The CAPF wire format (reference §3.2): an 8-byte header and a body of TLV elements.
//!
//! ```text
//!  offset 0   1        2..6              6..8           8..
//!         55 │ command │ session id u32 BE │ body len u16 BE │ tag u8 │ len u16 BE │ value │ …
//!
//!  CERTIFICATE value:       01 │ len16 = DER + 2 │ 00 │ cert type │ DER
//!  SHA2_SIGNED_DATA value:  hash alg (3 = SHA-512) │ len16 │ signature
//!  PASSWORD, DEVICE_NAME:   text 00            KEY_SIZE: u16 BE            one-byte codes: 1 byte
//! ```
//! [`CapfMessage::decode`] never panics: every failure is a [`DecodeError`] naming the byte
//! offset (from the start of the message) and what was wrong there. Elements outside the tag
//! table are kept as [`Element::Unknown`], in order, so a decoded message encodes back to the
//! same bytes. Fixed-size elements must have their exact size and strings their terminating NUL
//! (and no other, and UTF-8); REASON_INFO, RETRY_DELAY, DIGEST_TYPE, CERTIFICATE_ID,
//! SIGNED_DATA, SUDI_DATA and PUBLIC_KEY are kept as bytes (their inner formats are not
//! described by any source, or are parsed a layer up).
//!
//! Send a message in one write: splitting header and body "causes the phone's CAPF client to
//! stall" [OSS S2]; [`CapfMessage::encode`] returns them in one buffer.

use super::codes::{tag, AuthType, CertKind, Command, Curve, KeyType, Reason, PROTOCOL_ID};
use thiserror::Error;

/// Header length in bytes.
pub const HEADER_LEN: usize = 8;

/// One body element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Element {
    Reason(Reason),
    ReasonInfo(Vec<u8>),
    CertType(CertKind),
    /// `01 <len16 = DER + 2> 00 <kind> <DER>` on the wire.
    Certificate {
        kind: CertKind,
        der: Vec<u8>,
    },
    CertificateId(Vec<u8>),
    SignedData(Vec<u8>),
    Version(u8),
    AuthType(AuthType),
    /// SubjectPublicKeyInfo DER.
    PublicKey(Vec<u8>),
    KeySize(u16),
    /// NUL-terminated on the wire; the text here has no NUL.
    Password(String),
    RetryDelay(Vec<u8>),
    /// NUL-terminated on the wire (`SEP001122334455\0`, Jabber `CSF123\0`).
    DeviceName(String),
    SudiData(Vec<u8>),
    KeyType(KeyType),
    Curve(Curve),
    DigestType(Vec<u8>),
    /// `<digest code> <len16> <signature>`; digest 3 = SHA-512.
    Sha2SignedData {
        digest: u8,
        signature: Vec<u8>,
    },
    /// A tag outside the table, kept as read.
    Unknown {
        tag: u8,
        value: Vec<u8>,
    },
}

/// One CAPF message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapfMessage {
    pub command: Command,
    /// Assigned by the server per connection; the phone echoes it.
    pub session: u32,
    pub elements: Vec<Element>,
}

/// Why bytes are not a CAPF message: what, and at which byte of the message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("byte {offset}: {kind}")]
pub struct DecodeError {
    pub offset: usize,
    pub kind: DecodeErrorKind,
}

/// What was wrong at [`DecodeError::offset`].
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DecodeErrorKind {
    #[error("a header needs {HEADER_LEN} bytes, only {have} present")]
    ShortHeader { have: usize },
    #[error("protocol id 0x{found:02x}, expected 0x55")]
    ProtocolId { found: u8 },
    #[error("unknown command {code} (commands are 1..=23)")]
    UnknownCommand { code: u8 },
    #[error("body length {declared} but {available} bytes follow the header")]
    BodyTruncated { declared: usize, available: usize },
    #[error("{count} bytes after the declared body")]
    TrailingBytes { count: usize },
    #[error("element header needs 3 bytes, {available} left in the body")]
    ElementHeader { available: usize },
    #[error("{name} (tag {tag}) length {declared} overruns the body ({available} bytes left)")]
    ElementOverrun {
        tag: u8,
        name: &'static str,
        declared: usize,
        available: usize,
    },
    #[error("{name} has length {len}, expected {expected}")]
    ElementLength {
        name: &'static str,
        len: usize,
        expected: usize,
    },
    #[error("{name}: {why}")]
    BadValue { name: &'static str, why: String },
}

/// Why a message cannot be written.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("{name} value of {len} bytes does not fit a 16-bit length")]
    ElementTooLong { name: &'static str, len: usize },
    #[error("body of {len} bytes does not fit a 16-bit length")]
    BodyTooLong { len: usize },
    #[error("{name} text contains a NUL byte")]
    InteriorNul { name: &'static str },
}

impl Element {
    /// The element's tag.
    pub fn tag(&self) -> u8 {
        match self {
            Element::Reason(_) => tag::REASON,
            Element::ReasonInfo(_) => tag::REASON_INFO,
            Element::CertType(_) => tag::CERT_TYPE,
            Element::Certificate { .. } => tag::CERTIFICATE,
            Element::CertificateId(_) => tag::CERTIFICATE_ID,
            Element::SignedData(_) => tag::SIGNED_DATA,
            Element::Version(_) => tag::VERSION,
            Element::AuthType(_) => tag::AUTH_TYPE,
            Element::PublicKey(_) => tag::PUBLIC_KEY,
            Element::KeySize(_) => tag::KEY_SIZE,
            Element::Password(_) => tag::PASSWORD,
            Element::RetryDelay(_) => tag::RETRY_DELAY,
            Element::DeviceName(_) => tag::DEVICE_NAME,
            Element::SudiData(_) => tag::SUDI_DATA,
            Element::KeyType(_) => tag::KEY_TYPE,
            Element::Curve(_) => tag::CURVE,
            Element::DigestType(_) => tag::DIGEST_TYPE,
            Element::Sha2SignedData { .. } => tag::SHA2_SIGNED_DATA,
            Element::Unknown { tag, .. } => *tag,
        }
    }

    fn value(&self) -> Result<Vec<u8>, EncodeError> {
        let name = tag::name(self.tag());
        let len16 = |n: usize| {
            u16::try_from(n)
                .map(u16::to_be_bytes)
                .map_err(|_| EncodeError::ElementTooLong { name, len: n })
        };
        let text = |s: &str| {
            if s.as_bytes().contains(&0) {
                return Err(EncodeError::InteriorNul { name });
            }
            Ok([s.as_bytes(), &[0]].concat())
        };
        Ok(match self {
            Element::Reason(r) => vec![r.code()],
            Element::CertType(k) => vec![k.code()],
            Element::Version(v) => vec![*v],
            Element::AuthType(a) => vec![a.code()],
            Element::KeyType(k) => vec![k.code()],
            Element::Curve(c) => vec![c.code()],
            Element::KeySize(n) => n.to_be_bytes().to_vec(),
            Element::Password(s) | Element::DeviceName(s) => text(s)?,
            Element::Certificate { kind, der } => {
                let mut v = vec![1];
                v.extend_from_slice(&len16(der.len() + 2)?);
                v.extend_from_slice(&[0, kind.code()]);
                v.extend_from_slice(der);
                v
            }
            Element::Sha2SignedData { digest, signature } => {
                let mut v = vec![*digest];
                v.extend_from_slice(&len16(signature.len())?);
                v.extend_from_slice(signature);
                v
            }
            Element::ReasonInfo(v)
            | Element::CertificateId(v)
            | Element::SignedData(v)
            | Element::PublicKey(v)
            | Element::RetryDelay(v)
            | Element::SudiData(v)
            | Element::DigestType(v)
            | Element::Unknown { value: v, .. } => v.clone(),
        })
    }

    /// Reads the value of an element with `tag`; `at` is the value's offset in the message.
    fn decode(tag: u8, v: &[u8], at: usize) -> Result<Element, DecodeError> {
        let name = tag::name(tag);
        let exact = |n: usize| -> Result<(), DecodeError> {
            if v.len() == n {
                return Ok(());
            }
            let kind = DecodeErrorKind::ElementLength {
                name,
                len: v.len(),
                expected: n,
            };
            Err(DecodeError { offset: at, kind })
        };
        let byte = || exact(1).map(|_| v[0]);
        Ok(match tag {
            tag::REASON => Element::Reason(Reason::from_code(byte()?)),
            tag::CERT_TYPE => Element::CertType(CertKind::from_code(byte()?)),
            tag::VERSION => Element::Version(byte()?),
            tag::AUTH_TYPE => Element::AuthType(AuthType::from_code(byte()?)),
            tag::KEY_TYPE => Element::KeyType(KeyType::from_code(byte()?)),
            tag::CURVE => Element::Curve(Curve::from_code(byte()?)),
            tag::KEY_SIZE => {
                exact(2)?;
                Element::KeySize(u16::from_be_bytes([v[0], v[1]]))
            }
            tag::PASSWORD => Element::Password(nul_text(name, v, at)?),
            tag::DEVICE_NAME => Element::DeviceName(nul_text(name, v, at)?),
            tag::CERTIFICATE => certificate(v, at)?,
            tag::SHA2_SIGNED_DATA => {
                let (digest, signature) = prefixed(name, v, at)?;
                Element::Sha2SignedData { digest, signature }
            }
            tag::REASON_INFO => Element::ReasonInfo(v.to_vec()),
            tag::CERTIFICATE_ID => Element::CertificateId(v.to_vec()),
            tag::SIGNED_DATA => Element::SignedData(v.to_vec()),
            tag::PUBLIC_KEY => Element::PublicKey(v.to_vec()),
            tag::RETRY_DELAY => Element::RetryDelay(v.to_vec()),
            tag::SUDI_DATA => Element::SudiData(v.to_vec()),
            tag::DIGEST_TYPE => Element::DigestType(v.to_vec()),
            _ => Element::Unknown {
                tag,
                value: v.to_vec(),
            },
        })
    }
}

fn bad(offset: usize, name: &'static str, why: String) -> DecodeError {
    let kind = DecodeErrorKind::BadValue { name, why };
    DecodeError { offset, kind }
}

fn nul_text(name: &'static str, v: &[u8], at: usize) -> Result<String, DecodeError> {
    let Some((&0, text)) = v.split_last() else {
        return Err(bad(at + v.len(), name, "no terminating NUL".into()));
    };
    if let Some(i) = text.iter().position(|&b| b == 0) {
        return Err(bad(at + i, name, "NUL before the end of the text".into()));
    }
    String::from_utf8(text.to_vec())
        .map_err(|e| bad(at + e.utf8_error().valid_up_to(), name, "not UTF-8".into()))
}

/// `<byte> <len16> <data>` with len16 = the rest: SHA2_SIGNED_DATA, and the CERTIFICATE
/// element after its leading 01.
fn prefixed(name: &'static str, v: &[u8], at: usize) -> Result<(u8, Vec<u8>), DecodeError> {
    let [first, hi, lo, rest @ ..] = v else {
        return Err(bad(
            at,
            name,
            format!("{} bytes, at least 3 needed", v.len()),
        ));
    };
    let declared = usize::from(u16::from_be_bytes([*hi, *lo]));
    if declared != rest.len() {
        let why = format!("inner length {declared}, but {} bytes follow", rest.len());
        return Err(bad(at + 1, name, why));
    }
    Ok((*first, rest.to_vec()))
}

fn certificate(v: &[u8], at: usize) -> Result<Element, DecodeError> {
    let name = tag::name(tag::CERTIFICATE);
    let (lead, inner) = prefixed(name, v, at)?;
    if lead != 1 {
        return Err(bad(
            at,
            name,
            format!("starts with {lead:#04x}, expected 0x01"),
        ));
    }
    match inner.as_slice() {
        [0, kind, der @ ..] => Ok(Element::Certificate {
            kind: CertKind::from_code(*kind),
            der: der.to_vec(),
        }),
        [_, _, ..] => Err(bad(
            at + 3,
            name,
            "pad byte before the type is not 00".into(),
        )),
        _ => Err(bad(
            at + 3,
            name,
            "too short for the 00 <type> prefix".into(),
        )),
    }
}

impl CapfMessage {
    /// A message with no elements.
    pub fn new(command: Command, session: u32) -> CapfMessage {
        CapfMessage {
            command,
            session,
            elements: vec![],
        }
    }

    /// This message with `element` appended.
    pub fn with(mut self, element: Element) -> CapfMessage {
        self.elements.push(element);
        self
    }

    /// Header and body in one buffer.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut body = vec![];
        for e in &self.elements {
            let value = e.value()?;
            let name = tag::name(e.tag());
            let len = u16::try_from(value.len()).map_err(|_| EncodeError::ElementTooLong {
                name,
                len: value.len(),
            })?;
            body.push(e.tag());
            body.extend_from_slice(&len.to_be_bytes());
            body.extend_from_slice(&value);
        }
        let len =
            u16::try_from(body.len()).map_err(|_| EncodeError::BodyTooLong { len: body.len() })?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(&[PROTOCOL_ID, self.command.code()]);
        out.extend_from_slice(&self.session.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decodes exactly one message; bytes after the declared body are an error.
    pub fn decode(bytes: &[u8]) -> Result<CapfMessage, DecodeError> {
        match CapfMessage::decode_prefix(bytes)? {
            Some((msg, used)) if used == bytes.len() => Ok(msg),
            Some((_, used)) => Err(DecodeError {
                offset: used,
                kind: DecodeErrorKind::TrailingBytes {
                    count: bytes.len() - used,
                },
            }),
            None => Err(incomplete(bytes)),
        }
    }

    /// Decodes the first message of a byte stream: `Ok(None)` while it is incomplete, else the
    /// message and the number of bytes it used.
    pub fn decode_prefix(bytes: &[u8]) -> Result<Option<(CapfMessage, usize)>, DecodeError> {
        let Some(total) = frame_len(bytes)? else {
            return Ok(None);
        };
        let Some(frame) = bytes.get(..total) else {
            return Ok(None);
        };
        let command = Command::from_code(frame[1]).ok_or(DecodeError {
            offset: 1,
            kind: DecodeErrorKind::UnknownCommand { code: frame[1] },
        })?;
        let session = u32::from_be_bytes([frame[2], frame[3], frame[4], frame[5]]);
        let elements = decode_body(&frame[HEADER_LEN..])?;
        let msg = CapfMessage {
            command,
            session,
            elements,
        };
        Ok(Some((msg, total)))
    }
}

/// The length of the first message in `buf` once its header is there (`None` before), after
/// checking the protocol id. Use it to cut messages out of a TLS byte stream.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    if let Some(&first) = buf.first() {
        if first != PROTOCOL_ID {
            let kind = DecodeErrorKind::ProtocolId { found: first };
            return Err(DecodeError { offset: 0, kind });
        }
    }
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    Ok(Some(
        HEADER_LEN + usize::from(u16::from_be_bytes([header[6], header[7]])),
    ))
}

/// The error for a buffer that ends before its message does.
fn incomplete(bytes: &[u8]) -> DecodeError {
    match bytes.get(6..HEADER_LEN) {
        None => DecodeError {
            offset: bytes.len(),
            kind: DecodeErrorKind::ShortHeader { have: bytes.len() },
        },
        Some(len) => DecodeError {
            offset: 6,
            kind: DecodeErrorKind::BodyTruncated {
                declared: usize::from(u16::from_be_bytes([len[0], len[1]])),
                available: bytes.len() - HEADER_LEN,
            },
        },
    }
}

fn decode_body(body: &[u8]) -> Result<Vec<Element>, DecodeError> {
    let mut elements = vec![];
    let mut pos = 0;
    while pos < body.len() {
        let at = HEADER_LEN + pos;
        let rest = &body[pos..];
        let [t, hi, lo, after @ ..] = rest else {
            let kind = DecodeErrorKind::ElementHeader {
                available: rest.len(),
            };
            return Err(DecodeError { offset: at, kind });
        };
        let declared = usize::from(u16::from_be_bytes([*hi, *lo]));
        let Some(value) = after.get(..declared) else {
            let kind = DecodeErrorKind::ElementOverrun {
                tag: *t,
                name: tag::name(*t),
                declared,
                available: after.len(),
            };
            return Err(DecodeError {
                offset: at + 1,
                kind,
            });
        };
        elements.push(Element::decode(*t, value, at + 3)?);
        pos += 3 + declared;
    }
    Ok(elements)
}
