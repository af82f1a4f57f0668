//! Deterministic RSA key generation at aws-lc's speed: the `rsa` crate's algorithm (0.9,
//! `RsaPrivateKey::new`: two primes, e = 65537, d by Euler's totient) step for step — the same
//! draws from the seeded generator, the same candidates, the same small-prime sieve — with
//! only the primality test of each candidate done by aws-lc (`BN_primality_test`) instead of
//! num-bigint-dig's Miller–Rabin + Lucas, which took ~98% of a small world's build.
//!
//! ```text
//!  rng.fill_bytes ─► candidate (top two bits, odd) ─► + smallest δ clearing 3..53 ─► bits ok?
//!     ─► aws-lc: probably prime? ──no──► next draw        (the `rsa` crate's gen_prime)
//!  p, q ─► n = pq, d = e⁻¹ mod (p−1)(q−1) (aws-lc) ─► rsa::RsaPrivateKey::from_components
//! ```
//! Both tests accept every prime and reject a random composite with probability ≥ 1 − 2⁻⁸⁰,
//! so the candidate accepted — hence the key — is the `rsa` crate's (a test below compares
//! them). Same seed, same keys as before this module existed.

use aws_lc_sys as ffi;
use rand_core::RngCore;
use rsa::{BigUint, RsaPrivateKey};
use std::os::raw::c_int;
use std::ptr::NonNull;

/// Odd primes the candidates are sieved by (num-bigint-dig's `SMALL_PRIMES`).
const SMALL_PRIMES: [u64; 15] = [3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53];
/// Their product.
const SMALL_PRIMES_PRODUCT: u64 = 16_294_579_238_595_022_365;
/// The public exponent.
const E: u64 = 65_537;

/// An aws-lc BIGNUM, freed on drop.
struct Bn(NonNull<ffi::BIGNUM>);

impl Bn {
    fn new() -> Bn {
        // SAFETY: BN_new has no preconditions; a null result (out of memory) aborts below.
        Bn(NonNull::new(unsafe { ffi::BN_new() }).expect("BN_new: out of memory"))
    }

    fn from_be(bytes: &[u8]) -> Bn {
        let bn = Bn::new();
        // SAFETY: `bytes` is valid for its length; `bn` is a live BIGNUM.
        let r = unsafe { ffi::BN_bin2bn(bytes.as_ptr(), bytes.len(), bn.0.as_ptr()) };
        assert!(!r.is_null(), "BN_bin2bn: out of memory");
        bn
    }

    fn bits(&self) -> usize {
        // SAFETY: a live BIGNUM.
        unsafe { ffi::BN_num_bits(self.0.as_ptr()) as usize }
    }

    fn to_be(&self) -> Vec<u8> {
        // SAFETY: a live BIGNUM.
        let len = unsafe { ffi::BN_num_bytes(self.0.as_ptr()) } as usize;
        let mut out = vec![0u8; len];
        // SAFETY: `out` has room for BN_num_bytes bytes.
        unsafe { ffi::BN_bn2bin(self.0.as_ptr(), out.as_mut_ptr()) };
        out
    }

    fn biguint(&self) -> BigUint {
        BigUint::from_bytes_be(&self.to_be())
    }
}

impl Drop for Bn {
    fn drop(&mut self) {
        // SAFETY: allocated by BN_new, freed once.
        unsafe { ffi::BN_free(self.0.as_ptr()) }
    }
}

/// aws-lc's scratch space, freed on drop.
struct Ctx(NonNull<ffi::BN_CTX>);

impl Ctx {
    fn new() -> Ctx {
        // SAFETY: no preconditions.
        Ctx(NonNull::new(unsafe { ffi::BN_CTX_new() }).expect("BN_CTX_new: out of memory"))
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: allocated by BN_CTX_new, freed once.
        unsafe { ffi::BN_CTX_free(self.0.as_ptr()) }
    }
}

/// Whether `bytes` (big-endian) is probably prime (error ≤ 2⁻⁸⁰ for a random candidate).
fn probably_prime(bytes: &[u8], ctx: &Ctx) -> bool {
    let bn = Bn::from_be(bytes);
    let mut prime: c_int = 0;
    // SAFETY: live BIGNUM and BN_CTX; checks = 0 asks for the count right for the size
    // (BN_prime_checks_for_generation); trial division first (measured: without it a world
    // builds ~20% slower); no callback.
    let ok = unsafe {
        ffi::BN_primality_test(
            &mut prime,
            bn.0.as_ptr(),
            0,
            ctx.0.as_ptr(),
            1,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(ok, 1, "BN_primality_test failed");
    prime == 1
}

/// Adds `delta` to the big-endian number `bytes` (which has room: the sum keeps its length
/// or its caller sees the extra bit through [`bit_len`]).
fn add_small(bytes: &mut [u8], delta: u64) -> bool {
    let mut carry = delta as u128;
    for b in bytes.iter_mut().rev() {
        if carry == 0 {
            break;
        }
        let s = *b as u128 + (carry & 0xff);
        *b = s as u8;
        carry = (carry >> 8) + (s >> 8);
    }
    carry == 0
}

/// Bits of the big-endian number `bytes`.
fn bit_len(bytes: &[u8]) -> usize {
    match bytes.iter().position(|b| *b != 0) {
        None => 0,
        Some(i) => (bytes.len() - i) * 8 - bytes[i].leading_zeros() as usize,
    }
}

/// A random prime of exactly `bit_size` bits with its top two bits set: num-bigint-dig's
/// `RandPrime::gen_prime` (0.8) with aws-lc's primality test.
fn gen_prime(rng: &mut impl RngCore, bit_size: usize, ctx: &Ctx) -> Vec<u8> {
    let b = match bit_size % 8 {
        0 => 8,
        b => b,
    };
    let len = bit_size.div_ceil(8);
    let mut bytes = vec![0u8; len];
    loop {
        rng.fill_bytes(&mut bytes);
        bytes[0] &= ((1u32 << b) - 1) as u8;
        if b >= 2 {
            bytes[0] |= 3u8.wrapping_shl(b as u32 - 2);
        } else {
            bytes[0] |= 1;
            if len > 1 {
                bytes[1] |= 0x80;
            }
        }
        bytes[len - 1] |= 1;
        let rem = bytes.iter().fold(0u128, |r, x| {
            (r * 256 + *x as u128) % SMALL_PRIMES_PRODUCT as u128
        }) as u64;
        let mut p = bytes.clone();
        let mut fits = true;
        'next: for delta in (0..1u64 << 20).step_by(2) {
            let m = rem + delta;
            for prime in SMALL_PRIMES {
                if m % prime == 0 && (bit_size > 6 || m != prime) {
                    continue 'next;
                }
            }
            if delta > 0 {
                fits = add_small(&mut p, delta);
            }
            break;
        }
        if fits && bit_len(&p) == bit_size && probably_prime(&p, ctx) {
            return p;
        }
    }
}

/// An RSA key of `bits` bits (1,024 to 8,192) from `rng`: the key `rsa::RsaPrivateKey::new`
/// makes from the same generator.
pub fn generate(rng: &mut impl RngCore, bits: usize) -> RsaPrivateKey {
    let ctx = Ctx::new();
    loop {
        let p = gen_prime(rng, bits / 2, &ctx);
        let p_bits = bit_len(&p);
        let q = gen_prime(rng, bits - p_bits, &ctx);
        if p == q {
            continue;
        }
        let (pb, qb) = (Bn::from_be(&p), Bn::from_be(&q));
        let n = Bn::new();
        // SAFETY: live BIGNUMs and context; `n` is distinct from the operands.
        let ok = unsafe { ffi::BN_mul(n.0.as_ptr(), pb.0.as_ptr(), qb.0.as_ptr(), ctx.0.as_ptr()) };
        assert_eq!(ok, 1, "BN_mul failed");
        if n.bits() != bits {
            continue;
        }
        let Some(d) = private_exponent(&pb, &qb, &ctx) else {
            continue;
        };
        let e = BigUint::from(E);
        return RsaPrivateKey::from_components(
            n.biguint(),
            e,
            d.biguint(),
            vec![pb.biguint(), qb.biguint()],
        )
        .expect("a valid key from two distinct primes");
    }
}

/// e⁻¹ mod (p−1)(q−1), if it exists (it does not when e divides p−1 or q−1).
fn private_exponent(p: &Bn, q: &Bn, ctx: &Ctx) -> Option<Bn> {
    let (p1, q1) = (Bn::from_be(&p.to_be()), Bn::from_be(&q.to_be()));
    let (totient, e, d) = (Bn::new(), Bn::new(), Bn::new());
    // SAFETY: live BIGNUMs and context throughout; outputs distinct from inputs.
    unsafe {
        assert_eq!(ffi::BN_sub_word(p1.0.as_ptr(), 1), 1);
        assert_eq!(ffi::BN_sub_word(q1.0.as_ptr(), 1), 1);
        assert_eq!(
            ffi::BN_mul(
                totient.0.as_ptr(),
                p1.0.as_ptr(),
                q1.0.as_ptr(),
                ctx.0.as_ptr()
            ),
            1
        );
        assert_eq!(ffi::BN_set_word(e.0.as_ptr(), E as ffi::BN_ULONG), 1);
        let r = ffi::BN_mod_inverse(
            d.0.as_ptr(),
            e.0.as_ptr(),
            totient.0.as_ptr(),
            ctx.0.as_ptr(),
        );
        if r.is_null() {
            ffi::ERR_clear_error();
            return None;
        }
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn the_keys_are_the_rsa_crates_from_the_same_generator() {
        for (seed, bits) in [(1u8, 1024usize), (2, 1024), (3, 1536), (4, 2048)] {
            let ours = generate(&mut ChaCha20Rng::from_seed([seed; 32]), bits);
            let theirs = RsaPrivateKey::new(&mut ChaCha20Rng::from_seed([seed; 32]), bits).unwrap();
            assert_eq!(ours, theirs, "seed {seed}, {bits} bits");
        }
    }

    #[test]
    fn small_additions_carry_and_bit_lengths_count() {
        let mut x = vec![0x00, 0xff, 0xfe];
        assert!(add_small(&mut x, 4));
        assert_eq!(x, vec![0x01, 0x00, 0x02]);
        assert_eq!(bit_len(&x), 17);
        let mut full = vec![0xff, 0xff];
        assert!(!add_small(&mut full, 1));
        assert_eq!(bit_len(&[0, 0]), 0);
    }
}
