//! Counters of the public-key operations the simulated world performs, for the scale
//! benchmark's bound ("verifications performed × single-verify cost ÷ cores"): every
//! [`PublicKey::verify`](super::PublicKey::verify) and [`PrivateKey::sign`](super::PrivateKey::sign)
//! (also those the signature cache answers: within one run it hardly ever does),
//! and each TLS handshake signature (counted by the verifier that checks it, which also counts
//! the peer's matching signature: in TLS 1.2 each handshake signature is checked exactly once).
//!
//! Process-wide relaxed atomics: exact for one run in a process (the benchmark), mixed when
//! runs share a process (the test suite), which only reads them where it runs alone. Counting
//! is not a clock and changes no result.

use std::sync::atomic::{AtomicU64, Ordering};

/// What was done, with which kind of key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    VerifyRsa2048,
    VerifyRsaOther,
    VerifyEc256,
    SignRsa2048Sha1,
    SignRsa2048Sha2,
    SignRsaOther,
    SignEc256,
}

impl Op {
    pub const ALL: [Op; 7] = [
        Op::VerifyRsa2048,
        Op::VerifyRsaOther,
        Op::VerifyEc256,
        Op::SignRsa2048Sha1,
        Op::SignRsa2048Sha2,
        Op::SignRsaOther,
        Op::SignEc256,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::VerifyRsa2048 => "verify RSA-2048",
            Op::VerifyRsaOther => "verify RSA (other sizes)",
            Op::VerifyEc256 => "verify ECDSA P-256",
            Op::SignRsa2048Sha1 => "sign RSA-2048 SHA-1",
            Op::SignRsa2048Sha2 => "sign RSA-2048 SHA-2",
            Op::SignRsaOther => "sign RSA (other sizes)",
            Op::SignEc256 => "sign ECDSA P-256",
        }
    }

    pub fn is_verify(self) -> bool {
        matches!(
            self,
            Op::VerifyRsa2048 | Op::VerifyRsaOther | Op::VerifyEc256
        )
    }
}

static COUNTS: [AtomicU64; 7] = [const { AtomicU64::new(0) }; 7];

/// Counts one operation.
pub fn count(op: Op) {
    COUNTS[op as usize].fetch_add(1, Ordering::Relaxed);
}

/// The counts so far.
pub fn snapshot() -> Vec<(Op, u64)> {
    Op::ALL
        .iter()
        .map(|&op| (op, COUNTS[op as usize].load(Ordering::Relaxed)))
        .collect()
}

/// Sets every count to zero.
pub fn reset() {
    for c in &COUNTS {
        c.store(0, Ordering::Relaxed);
    }
}

/// Counts a verification with a key of `bits` (0 for EC).
pub fn count_verify(rsa_bits: Option<usize>) {
    count(match rsa_bits {
        Some(2048) => Op::VerifyRsa2048,
        Some(_) => Op::VerifyRsaOther,
        None => Op::VerifyEc256,
    });
}
