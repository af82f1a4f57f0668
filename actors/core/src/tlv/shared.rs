//! Parsed trust lists shared between phones: thousands of phones download byte-identical
//! ITL/CTL files, and each holding its own parse (every record's certificate, key and names)
//! cost ~45 KB a phone. Parsing is a pure function of the bytes, so one parse per distinct
//! file is shared through `Arc`; each phone still *verifies* the file itself, against its own
//! trust state (`phone::trust`), so sharing changes memory and nothing else.
//!
//! The memo is process-wide and holds weak references: a file no phone holds any more is
//! freed, and a hash collision only costs a byte comparison (entries are matched by content).

use super::parse::{parse, TrustList};
use super::wire::ParseError;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, Weak};

static MEMO: Mutex<Option<HashMap<u64, Vec<Weak<TrustList>>>>> = Mutex::new(None);

/// Entries kept before dead ones are swept.
const SWEEP_AT: usize = 4096;

fn key(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Parses `bytes`, or returns the parse another holder already made of the same bytes.
pub fn parse_shared(bytes: &[u8]) -> Result<Arc<TrustList>, ParseError> {
    let k = key(bytes);
    let found = {
        let mut memo = MEMO.lock().unwrap_or_else(|e| e.into_inner());
        memo.get_or_insert_with(HashMap::new).get(&k).and_then(|v| {
            v.iter()
                .filter_map(Weak::upgrade)
                .find(|l| l.raw[..] == bytes[..])
        })
    };
    if let Some(list) = found {
        return Ok(list);
    }
    let list = Arc::new(parse(bytes)?);
    let mut memo = MEMO.lock().unwrap_or_else(|e| e.into_inner());
    let map = memo.get_or_insert_with(HashMap::new);
    if map.len() >= SWEEP_AT {
        map.retain(|_, v| {
            v.retain(|w| w.strong_count() > 0);
            !v.is_empty()
        });
    }
    map.entry(k).or_default().push(Arc::downgrade(&list));
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_bytes_share_one_parse_and_other_bytes_do_not() {
        let bytes = include_bytes!("../../testdata/ITLFile.tlv");
        let a = parse_shared(bytes).unwrap();
        let copy = bytes.to_vec(); // other memory, same content
        let b = parse_shared(&copy).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(*a, parse(bytes).unwrap());
        let mut other = bytes.to_vec();
        let last = other.len() - 1;
        other[last] ^= 1;
        let c = parse_shared(&other).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        assert!(parse_shared(&bytes[..10]).is_err());
    }

    #[test]
    fn a_parse_nobody_holds_is_freed() {
        let bytes = include_bytes!("../../testdata/ITLFile.tlv");
        let mut mine = bytes.to_vec();
        let at = mine.len() - 2;
        mine[at] ^= 0x55; // bytes no other test uses
        let weak = Arc::downgrade(&parse_shared(&mine).unwrap());
        assert!(weak.upgrade().is_none());
    }
}
