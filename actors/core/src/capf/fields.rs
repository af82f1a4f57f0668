//! Typed reads of a [`CapfMessage`]'s elements. The first element with a tag wins (usecallmanager
//! keeps the last one of a dict; no source shows a message with a repeated tag, except
//! FETCH_CERT_RES here, which may carry the LSC and the MIC: see [`CapfMessage::certificates`]).

use super::codes::{AuthType, CertKind, Curve, KeyType, Reason};
use super::wire::{CapfMessage, Element};

impl CapfMessage {
    fn find<'a, T>(&'a self, f: impl Fn(&'a Element) -> Option<T>) -> Option<T> {
        self.elements.iter().find_map(f)
    }

    pub fn reason(&self) -> Option<Reason> {
        self.find(|e| match e {
            Element::Reason(r) => Some(*r),
            _ => None,
        })
    }

    pub fn version(&self) -> Option<u8> {
        self.find(|e| match e {
            Element::Version(v) => Some(*v),
            _ => None,
        })
    }

    pub fn auth_type(&self) -> Option<AuthType> {
        self.find(|e| match e {
            Element::AuthType(a) => Some(*a),
            _ => None,
        })
    }

    pub fn device_name(&self) -> Option<&str> {
        self.find(|e| match e {
            Element::DeviceName(s) => Some(s.as_str()),
            _ => None,
        })
    }

    pub fn password(&self) -> Option<&str> {
        self.find(|e| match e {
            Element::Password(s) => Some(s.as_str()),
            _ => None,
        })
    }

    pub fn cert_type(&self) -> Option<CertKind> {
        self.find(|e| match e {
            Element::CertType(k) => Some(*k),
            _ => None,
        })
    }

    /// Every CERTIFICATE element, in order: (type byte inside the element, DER).
    pub fn certificates(&self) -> impl Iterator<Item = (CertKind, &[u8])> {
        self.elements.iter().filter_map(|e| match e {
            Element::Certificate { kind, der } => Some((*kind, der.as_slice())),
            _ => None,
        })
    }

    /// The first CERTIFICATE element.
    pub fn certificate(&self) -> Option<(CertKind, &[u8])> {
        self.certificates().next()
    }

    pub fn signed_data(&self) -> Option<&[u8]> {
        self.find(|e| match e {
            Element::SignedData(v) => Some(v.as_slice()),
            _ => None,
        })
    }

    /// SHA2_SIGNED_DATA: (digest code, signature).
    pub fn sha2_signed_data(&self) -> Option<(u8, &[u8])> {
        self.find(|e| match e {
            Element::Sha2SignedData { digest, signature } => Some((*digest, signature.as_slice())),
            _ => None,
        })
    }

    /// PUBLIC_KEY: SubjectPublicKeyInfo DER.
    pub fn public_key(&self) -> Option<&[u8]> {
        self.find(|e| match e {
            Element::PublicKey(v) => Some(v.as_slice()),
            _ => None,
        })
    }

    pub fn key_type(&self) -> Option<KeyType> {
        self.find(|e| match e {
            Element::KeyType(k) => Some(*k),
            _ => None,
        })
    }

    pub fn key_size(&self) -> Option<u16> {
        self.find(|e| match e {
            Element::KeySize(n) => Some(*n),
            _ => None,
        })
    }

    pub fn curve(&self) -> Option<Curve> {
        self.find(|e| match e {
            Element::Curve(c) => Some(*c),
            _ => None,
        })
    }
}
