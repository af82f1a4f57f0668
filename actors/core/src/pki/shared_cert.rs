//! Parsed certificates shared between phones: every phone that asks a TVS about the same
//! signer receives the same certificate, and each keeping its own parse (names, serial,
//! public key) cost ~3 KB a phone. Parsing is a pure function of the DER, so one parse per
//! distinct certificate is shared (as `tlv::shared` does for trust lists); each phone still
//! checks the certificate against its own trust state, so sharing changes memory only.
//!
//! The memo is process-wide and holds weak references: a certificate no phone holds any more
//! is freed; entries are matched by content, so a hash collision costs a byte comparison.

use super::cert::Certificate;
use crate::error::CertError;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

type Entry = (
    std::sync::Weak<[u8]>,
    std::sync::Weak<super::cert::CertInfo>,
);

static MEMO: Mutex<Option<HashMap<u64, Vec<Entry>>>> = Mutex::new(None);

/// Entries kept before dead ones are swept.
const SWEEP_AT: usize = 4096;

fn key(der: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    der.hash(&mut h);
    h.finish()
}

/// Parses `der`, or returns the parse another holder already made of the same bytes.
pub fn from_der_shared(der: &[u8]) -> Result<Certificate, CertError> {
    let k = key(der);
    {
        let mut memo = MEMO.lock().unwrap_or_else(|e| e.into_inner());
        let found = memo.get_or_insert_with(HashMap::new).get(&k).and_then(|v| {
            v.iter().find_map(|(d, i)| {
                let (d, i) = (d.upgrade()?, i.upgrade()?);
                (d[..] == der[..]).then(|| Certificate::from_parts(d, i))
            })
        });
        if let Some(cert) = found {
            return Ok(cert);
        }
    }
    let cert = Certificate::from_der(der)?;
    let mut memo = MEMO.lock().unwrap_or_else(|e| e.into_inner());
    let map = memo.get_or_insert_with(HashMap::new);
    if map.len() >= SWEEP_AT {
        map.retain(|_, v| {
            v.retain(|(d, _)| d.strong_count() > 0);
            !v.is_empty()
        });
    }
    map.entry(k).or_default().push(cert.downgrade());
    Ok(cert)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_der_shares_one_parse_and_it_is_the_plain_parse() {
        let cert = Certificate::from_pem(include_str!("../../testdata/sast.pem")).unwrap();
        let copy = cert.der().to_vec();
        let a = from_der_shared(&copy).unwrap();
        let b = from_der_shared(cert.der()).unwrap();
        assert!(a.same_parse(&b));
        assert_eq!(a.der(), cert.der());
        assert_eq!(a.serial(), cert.serial());
        assert!(from_der_shared(&copy[..10]).is_err());
    }
}
