//! How a TVS message body is read (reference §2.2): elements are `tag u8, length u16 BE, value`,
//! the header's version byte is 1. What the reference leaves open is a setting here
//! ([`DecodeRules`], [I]): a header of another version, an element that appears twice, an
//! element whose tag the reference does not list (known: 1 DEVICE_NAME, 2 CERTIFICATE,
//! 3 SUBJECT, 4 ISSUER, 5 SERIAL, 7 STATUS, 8 ROLES, 9 TTL).
//!
//! ```text
//!  default:  version ≠ 1 refused │ repeated element: the first counts │ unknown tag: skipped
//!  TVSD:     version ≠ 1 refused │ repeated element: the last counts  │ unknown tag: refused
//!            (what usecallmanager's tvsd does, observed by running it: its element table is a
//!             dictionary written in order, and any tag but 1 and 2 ends the connection)
//!  STRICT:   version ≠ 1 refused │ repeated element refused           │ unknown tag refused
//! ```

use std::collections::BTreeMap;
use std::fmt;

/// The element tags of §2.2.
pub(crate) mod tag {
    pub const DEVICE_NAME: u8 = 1;
    pub const CERTIFICATE: u8 = 2;
    pub const SUBJECT: u8 = 3;
    pub const ISSUER: u8 = 4;
    pub const SERIAL: u8 = 5;
    pub const STATUS: u8 = 7;
    pub const ROLES: u8 = 8;
    pub const TTL: u8 = 9;
}

/// Why bytes are not a TVS message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TvsDecodeError(pub String);

impl fmt::Display for TvsDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad TVS message: {}", self.0)
    }
}

impl std::error::Error for TvsDecodeError {}

/// What to do with an element whose tag appears twice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Duplicates {
    /// The first occurrence counts, later ones are ignored.
    #[default]
    First,
    /// The last occurrence counts.
    Last,
    /// The message is refused.
    Refuse,
}

/// What to do with an element whose tag §2.2 does not list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UnknownElements {
    /// Skipped (its length is honoured).
    #[default]
    Skip,
    /// The message is refused.
    Refuse,
}

/// The decoder's settings where the reference is silent [I].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeRules {
    /// Refuse a header whose version byte is not [`crate::tvs::VERSION`] (1, §2.2).
    pub require_version: bool,
    pub duplicates: Duplicates,
    pub unknown: UnknownElements,
}

impl Default for DecodeRules {
    fn default() -> Self {
        DecodeRules {
            require_version: true,
            duplicates: Duplicates::First,
            unknown: UnknownElements::Skip,
        }
    }
}

impl DecodeRules {
    /// As usecallmanager's `tvsd` reads a request.
    pub const TVSD: DecodeRules = DecodeRules {
        require_version: true,
        duplicates: Duplicates::Last,
        unknown: UnknownElements::Refuse,
    };
    /// Nothing but one of each listed element.
    pub const STRICT: DecodeRules = DecodeRules {
        require_version: true,
        duplicates: Duplicates::Refuse,
        unknown: UnknownElements::Refuse,
    };
}

/// Whether §2.2 lists `t`.
fn known(t: u8) -> bool {
    matches!(
        t,
        tag::DEVICE_NAME
            | tag::CERTIFICATE
            | tag::SUBJECT
            | tag::ISSUER
            | tag::SERIAL
            | tag::STATUS
            | tag::ROLES
            | tag::TTL
    )
}

/// The elements of a message body by tag, under `rules`.
pub(crate) fn elements<'a>(
    body: &'a [u8],
    rules: &DecodeRules,
) -> Result<BTreeMap<u8, &'a [u8]>, TvsDecodeError> {
    let err = |m: String| TvsDecodeError(m);
    let mut fields: BTreeMap<u8, &[u8]> = BTreeMap::new();
    let mut pos = 0;
    while pos < body.len() {
        let head = body
            .get(pos..pos + 3)
            .ok_or_else(|| err(format!("truncated element at body byte {pos}")))?;
        let t = head[0];
        let l = u16::from_be_bytes([head[1], head[2]]) as usize;
        let value = body
            .get(pos + 3..pos + 3 + l)
            .ok_or_else(|| err(format!("element {t} overruns the body")))?;
        pos += 3 + l;
        if !known(t) {
            match rules.unknown {
                UnknownElements::Skip => continue,
                UnknownElements::Refuse => return Err(err(format!("unknown element tag {t}"))),
            }
        }
        match (fields.contains_key(&t), rules.duplicates) {
            (false, _) | (true, Duplicates::Last) => {
                fields.insert(t, value);
            }
            (true, Duplicates::First) => {}
            (true, Duplicates::Refuse) => return Err(err(format!("element {t} twice"))),
        }
    }
    Ok(fields)
}

/// Bytes of a whole message at the front of `b`, once the header and body are there.
pub(crate) fn frame_len(b: &[u8]) -> Option<usize> {
    if b.len() < 10 {
        return None;
    }
    let n = 10 + u16::from_be_bytes([b[8], b[9]]) as usize;
    (b.len() >= n).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tvs::{TvsBody, TvsMessage};

    /// A CERT_VERIFICATION_REQ with the given body elements.
    fn req(version: u8, elements: &[(u8, &[u8])]) -> Vec<u8> {
        let mut body = vec![];
        for (t, v) in elements {
            body.push(*t);
            body.extend_from_slice(&(v.len() as u16).to_be_bytes());
            body.extend_from_slice(v);
        }
        let mut out = vec![0x57, version, 1, 0, 0, 0, 0x03, 0xe9];
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend(body);
        out
    }

    fn cert_of(m: &TvsMessage) -> Vec<u8> {
        match &m.body {
            TvsBody::VerifyReq { certificate, .. } => certificate.clone(),
            b => panic!("{b:?}"),
        }
    }

    const NAME: &[u8] = b"\x01CP-8861-SEP001122334455";

    #[test]
    fn the_version_byte_is_checked_unless_told_not_to() {
        let bytes = req(2, &[(1, NAME), (2, b"A")]);
        let e = TvsMessage::decode(&bytes).unwrap_err();
        assert!(e.to_string().contains("version 2"), "{e}");
        let lax = DecodeRules {
            require_version: false,
            ..DecodeRules::default()
        };
        assert_eq!(
            cert_of(&TvsMessage::decode_with(&bytes, &lax).unwrap()),
            b"A"
        );
        assert!(TvsMessage::decode(&req(1, &[(1, NAME), (2, b"A")])).is_ok());
    }

    #[test]
    fn a_repeated_element_counts_first_last_or_refuses() {
        let bytes = req(1, &[(1, NAME), (2, b"first"), (2, b"last")]);
        assert_eq!(cert_of(&TvsMessage::decode(&bytes).unwrap()), b"first");
        let tvsd = TvsMessage::decode_with(&bytes, &DecodeRules::TVSD).unwrap();
        assert_eq!(cert_of(&tvsd), b"last");
        let e = TvsMessage::decode_with(&bytes, &DecodeRules::STRICT).unwrap_err();
        assert!(e.to_string().contains("element 2 twice"), "{e}");
    }

    #[test]
    fn an_unknown_element_is_skipped_or_refuses() {
        let bytes = req(1, &[(1, NAME), (6, b"??"), (2, b"A"), (200, b"")]);
        assert_eq!(cert_of(&TvsMessage::decode(&bytes).unwrap()), b"A");
        let e = TvsMessage::decode_with(&bytes, &DecodeRules::TVSD).unwrap_err();
        assert!(e.to_string().contains("unknown element tag 6"), "{e}");
        // A skipped element still has to fit in the body.
        let mut cut = req(1, &[(1, NAME), (6, b"??")]);
        cut[9] -= 1;
        cut.pop();
        assert!(TvsMessage::decode(&cut).is_err());
    }

    #[test]
    fn complete_len_waits_for_the_whole_body() {
        let bytes = req(1, &[(1, NAME), (2, b"A")]);
        assert_eq!(TvsMessage::complete_len(&bytes), Some(bytes.len()));
        assert_eq!(TvsMessage::complete_len(&bytes[..bytes.len() - 1]), None);
        assert_eq!(TvsMessage::complete_len(&bytes[..9]), None);
    }
}
