//! The RSA signature cache: PKCS#1 v1.5 is deterministic and depends on the message only through
//! its digest, so a signature is kept by (key fingerprint, digest algorithm, digest of the
//! signed bytes) and handed out again when the same key signs the same bytes again.
//!
//! ```text
//!  sign_cached(key, alg, msg) ──alg.hash(msg)──► (SHA-256(n), alg, digest) ──hit──► kept signature
//!                                                                └─miss─► sign, keep (bounded)
//! ```
//!
//! Bounded: 16 shards (one lock each, so threads rarely wait on each other), each with a young
//! and an old generation of at most `capacity / 16` entries; when the young one is full it
//! becomes the old one and the previous old one is dropped; a hit in the old generation moves
//! the entry to the young one. So at most 2 × capacity signatures are held (≈ 0.4 KB each for
//! RSA-2048), and what is signed again soon stays. Each run starts empty ([`new_run`]) unless
//! the cache is kept across runs (`explore`). The counters are process-wide, for the reports'
//! hit rate; like [`super::ops`], they are exact for one run in a process.

use crate::digest::DigestAlg;
use crate::error::SigError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

/// Signatures held per generation by default (two generations: at most twice this).
pub const DEFAULT_CAPACITY: usize = 8192;

const SHARDS: usize = 16;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct CacheKey {
    key: [u8; 32],
    alg: DigestAlg,
    /// The digest, zero-padded (its length follows from `alg`).
    hashed: [u8; 64],
}

#[derive(Default)]
struct Shard {
    young: HashMap<CacheKey, Arc<[u8]>>,
    old: HashMap<CacheKey, Arc<[u8]>>,
}

static CACHE: LazyLock<Vec<Mutex<Shard>>> =
    LazyLock::new(|| (0..SHARDS).map(|_| Mutex::default()).collect());
static CAPACITY: AtomicUsize = AtomicUsize::new(DEFAULT_CAPACITY);
static HITS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);

/// What the cache did since the last [`reset_stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Signatures handed out again.
    pub hits: u64,
    /// Signatures computed (and kept).
    pub misses: u64,
}

impl CacheStats {
    /// hits ÷ (hits + misses), 0 when nothing was signed.
    pub fn hit_rate(&self) -> f64 {
        let all = self.hits + self.misses;
        if all == 0 {
            0.0
        } else {
            self.hits as f64 / all as f64
        }
    }
}

/// The counters.
pub fn stats() -> CacheStats {
    CacheStats {
        hits: HITS.load(Ordering::Relaxed),
        misses: MISSES.load(Ordering::Relaxed),
    }
}

/// Zeroes the counters (the kept signatures stay).
pub fn reset_stats() {
    HITS.store(0, Ordering::Relaxed);
    MISSES.store(0, Ordering::Relaxed);
}

/// Kept across runs ([`keep_across_runs`]) rather than emptied by [`new_run`].
static ACROSS_RUNS: AtomicBool = AtomicBool::new(false);

/// From now on [`new_run`] keeps the signatures (for many runs of one world: `explore`).
pub fn keep_across_runs() {
    ACROSS_RUNS.store(true, Ordering::Relaxed);
}

/// A run starts: zeroes the counters and, unless [`keep_across_runs`] was called, empties the
/// cache, so one run's speed and counts do not depend on the runs before it in the process
/// (`bench scale` runs a baseline size first).
pub fn new_run() {
    reset_stats();
    if !ACROSS_RUNS.load(Ordering::Relaxed) {
        for shard in CACHE.iter() {
            if let Ok(mut s) = shard.lock() {
                *s = Shard::default();
            }
        }
    }
}

/// Signatures kept per generation from now on; 0 turns the cache off (and empties it).
pub fn set_capacity(entries: usize) {
    CAPACITY.store(entries, Ordering::Relaxed);
    if entries == 0 {
        for shard in CACHE.iter() {
            if let Ok(mut s) = shard.lock() {
                *s = Shard::default();
            }
        }
    }
}

/// Signatures kept per generation.
pub fn capacity() -> usize {
    CAPACITY.load(Ordering::Relaxed)
}

/// The signature of `hashed` (the `alg` digest of the signed bytes) by the key named `key`:
/// kept, or made by `sign` and kept.
pub fn get_or_sign(
    key: [u8; 32],
    alg: DigestAlg,
    hashed: &[u8],
    sign: impl FnOnce() -> Result<Vec<u8>, SigError>,
) -> Result<Vec<u8>, SigError> {
    let capacity = capacity();
    if capacity == 0 || hashed.len() > 64 {
        return sign();
    }
    let mut id = CacheKey {
        key,
        alg,
        hashed: [0; 64],
    };
    id.hashed[..hashed.len()].copy_from_slice(hashed);
    // The digest's first byte spreads the entries evenly over the shards.
    let shard = &CACHE[usize::from(hashed.first().copied().unwrap_or(0)) % SHARDS];
    if let Some(sig) = shard.lock().ok().and_then(|mut s| s.get(&id)) {
        HITS.fetch_add(1, Ordering::Relaxed);
        return Ok(sig.to_vec());
    }
    MISSES.fetch_add(1, Ordering::Relaxed);
    let sig = sign()?;
    if let Ok(mut s) = shard.lock() {
        s.insert(id, Arc::from(sig.as_slice()), (capacity / SHARDS).max(1));
    }
    Ok(sig)
}

impl Shard {
    fn get(&mut self, id: &CacheKey) -> Option<Arc<[u8]>> {
        if let Some(sig) = self.young.get(id) {
            return Some(Arc::clone(sig));
        }
        let sig = self.old.remove(id)?;
        self.young.insert(*id, Arc::clone(&sig));
        Some(sig)
    }

    fn insert(&mut self, id: CacheKey, sig: Arc<[u8]>, per_generation: usize) {
        if self.young.len() >= per_generation {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(id, sig);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_keep_what_is_used_and_stay_bounded() {
        let mut shard = Shard::default();
        let id = |n: u8| CacheKey {
            key: [n; 32],
            alg: DigestAlg::Sha1,
            hashed: [n; 64],
        };
        let sig = |n: u8| Arc::from(vec![n; 4].as_slice());
        for n in 0..4 {
            shard.insert(id(n), sig(n), 2);
        }
        // young {2, 3}, old {0, 1}
        assert_eq!(shard.get(&id(0)).as_deref(), Some(&[0u8; 4][..]));
        assert!(shard.young.len() + shard.old.len() <= 4);
        for n in 4..10 {
            shard.insert(id(n), sig(n), 2);
        }
        assert!(shard.get(&id(1)).is_none(), "old entries go");
        assert!(shard.get(&id(9)).is_some());
        assert!(shard.young.len() <= 2 && shard.old.len() <= 2);
    }

    #[test]
    fn signs_once_per_key_digest_and_bytes() {
        let calls = std::cell::Cell::new(0);
        let sign = || {
            calls.set(calls.get() + 1);
            Ok(vec![7u8; 8])
        };
        let key = [0xA5; 32];
        let h1 = DigestAlg::Sha256.hash(b"sigcache test bytes");
        let h2 = DigestAlg::Sha256.hash(b"other bytes");
        assert_eq!(
            get_or_sign(key, DigestAlg::Sha256, &h1, sign),
            Ok(vec![7u8; 8])
        );
        assert_eq!(
            get_or_sign(key, DigestAlg::Sha256, &h1, sign),
            Ok(vec![7u8; 8])
        );
        assert_eq!(calls.get(), 1);
        get_or_sign(key, DigestAlg::Sha256, &h2, sign).unwrap();
        get_or_sign([0x5A; 32], DigestAlg::Sha256, &h1, sign).unwrap();
        let mut padded = h1.clone();
        padded.extend([0u8; 32]); // same leading bytes, another algorithm: another entry
        get_or_sign(key, DigestAlg::Sha512, &padded, sign).unwrap();
        assert_eq!(calls.get(), 4);
    }
}
