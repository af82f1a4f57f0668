//! Crypto throughput: sign and verify per key type × implementation, and whole ITLs.
//!
//! ```text
//! cargo bench --bench crypto                 # everything (~3-4 min on 2 cores)
//! cargo bench --bench crypto -- sign_sha1    # one group
//! ```
//!
//! Groups (every benchmark is one operation, `Throughput::Elements(1)`, so criterion prints
//! ops/s as `elem/s`):
//!
//! - `sign_sha256`, `verify_sha256`: RSA-1024, RSA-2048, RSA-4096 × the RSA backends (`aws-lc`,
//!   `ring`, `rsa`: `pki::signer`), EC P-256 × the backends (`rustcrypto`, `ring`).
//! - `sign_sha1`, `verify_sha1`: RSA-1024, RSA-2048 (CUCM's default ITL/CTL digest is SHA-1).
//! - `itl`: `tlv::parse` + `verify_self` of a 6-record ITL (CUCM 11.5, RSA-2048 signer, SHA-1)
//!   per RSA backend, `tlv::parse` alone, and `sign` (building and signing that ITL, as the
//!   TFTP does) per RSA backend.
//!
//! Each RSA benchmark forces its backend on the benchmark thread (`with_rsa_backend`, which
//! also bypasses the signature cache, so every iteration computes a signature). Where a backend
//! hands an operation to the `rsa` crate (see `pki::signer`: aws-lc outside 1024-8192 bits;
//! ring for SHA-1 signing and keys under 2048 bits) the benchmark is labelled
//! `<backend>_fallback_rsa`; P-256 signing always uses the `p256` crate
//! (`ring_fallback_rustcrypto`).
//!
//! The messages for the sign/verify matrix are 64 bytes, so the numbers are the key operation
//! (plus one short hash and, for RSA verify with ring or aws-lc, the PKCS#1 re-encoding and
//! parsing of the public key that `PublicKey::verify` does on every call). Keys are generated
//! (and memoised) and their native forms parsed before any timing.
//!
//! Instruction counts: with `CUCMSIM_BENCH_CALLGRIND=<profile>/<impl>/<digest>` (e.g.
//! `rsa2048/aws-lc/sha1`, or `itl/ring`) the binary makes the key, then calls
//! `callgrind_one_op` once and exits, so
//! `valgrind --tool=callgrind --toggle-collect='*callgrind_one_op*' <bench binary>` counts the
//! instructions of exactly one verification.

use criterion::{BenchmarkId, Criterion, Throughput};
use cucmsim_core::pki::identity::{CertType, Identity, IdentityRequest, NodeNames};
use cucmsim_core::pki::keys::{
    Backend, EcdsaEncoding, KeyForge, KeyProfile, PrivateKey, PublicKey,
};
use cucmsim_core::pki::signer::{with_rsa_backend, RsaBackend};
use cucmsim_core::tlv::content::{ClusterCerts, CucmVersion, NodeCerts};
use cucmsim_core::tlv::{self, TrustListBuilder};
use cucmsim_core::{DigestAlg, WallTime};
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

const SEED: u64 = 0xC0C5_B3AC;
const MSG: &[u8; 64] = b"cucmsim crypto bench: a 64-byte message to sign and to verify...";
const RSA4096: KeyProfile = KeyProfile::Rsa { bits: 4096 };

/// Signing and verification.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Sign,
    Verify,
}

/// What computes: an RSA backend (forced on the thread), or a backend for P-256.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Impl {
    Rsa(RsaBackend),
    Ec(Backend),
}

impl Impl {
    /// The implementations measured for keys of `profile`.
    fn all(profile: KeyProfile) -> Vec<Impl> {
        match profile {
            KeyProfile::Rsa { .. } => RsaBackend::ALL.iter().map(|&b| Impl::Rsa(b)).collect(),
            KeyProfile::EcP256 => Backend::ALL.iter().map(|&b| Impl::Ec(b)).collect(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Impl::Rsa(b) => b.name(),
            Impl::Ec(b) => b.name(),
        }
    }

    /// Runs `f` with this implementation: the `Backend` to pass, the RSA backend forced.
    fn run<T>(self, f: impl FnOnce(Backend) -> T) -> T {
        match self {
            Impl::Rsa(b) => with_rsa_backend(b, || f(Backend::Ring)),
            Impl::Ec(b) => f(b),
        }
    }

    /// From a callgrind spec: `aws-lc`, `ring`, `rsa` (RSA) or `ring`, `rustcrypto` (P-256).
    fn parse(name: &str, profile: KeyProfile) -> Impl {
        match profile {
            KeyProfile::Rsa { .. } => Impl::Rsa(name.parse().expect("RSA backend")),
            KeyProfile::EcP256 => Impl::Ec(match name {
                "ring" => Backend::Ring,
                "rustcrypto" => Backend::RustCrypto,
                other => panic!("unknown backend {other:?}"),
            }),
        }
    }
}

/// The name of the implementation that actually runs for `imp`, per `pki::signer`.
fn effective(op: Op, profile: KeyProfile, imp: Impl, digest: DigestAlg) -> &'static str {
    match (imp, profile) {
        (Impl::Rsa(RsaBackend::AwsLc), KeyProfile::Rsa { bits })
            if (1024..=8192).contains(&bits) =>
        {
            "aws-lc"
        }
        // ring's RSA key pairs need a 2048-bit modulus or more; ring has no SHA-1 signing.
        (Impl::Rsa(RsaBackend::Ring), KeyProfile::Rsa { bits })
            if bits >= 2048 && (op == Op::Verify || digest != DigestAlg::Sha1) =>
        {
            "ring"
        }
        (Impl::Rsa(_), _) => "rsa",
        (Impl::Ec(Backend::Ring), _) if op == Op::Verify && digest == DigestAlg::Sha256 => "ring",
        (Impl::Ec(_), _) => "rustcrypto",
    }
}

/// `aws-lc`, `ring`, `rsa`, `rustcrypto`, or `<asked>_fallback_<actual>`.
fn label(op: Op, profile: KeyProfile, imp: Impl, digest: DigestAlg) -> String {
    let actual = effective(op, profile, imp, digest);
    if actual == imp.name() {
        actual.to_string()
    } else {
        format!("{}_fallback_{actual}", imp.name())
    }
}

fn digest_name(digest: DigestAlg) -> &'static str {
    match digest {
        DigestAlg::Sha1 => "sha1",
        DigestAlg::Sha256 => "sha256",
        DigestAlg::Sha512 => "sha512",
    }
}

/// The key for `profile`, generated once (KeyForge memoises process-wide), with its lazily
/// parsed native forms (aws-lc, ring) initialised by one signature each.
fn key(profile: KeyProfile) -> Arc<PrivateKey> {
    let key = KeyForge::new(SEED).key(&format!("bench/{}", profile.name()), profile);
    for imp in Impl::all(profile) {
        imp.run(|b| key.sign(b, DigestAlg::Sha256, MSG, EcdsaEncoding::Fixed))
            .expect("warm-up signature");
    }
    key
}

/// A signature over `MSG` and the public key, checked with every implementation.
fn signed(key: &PrivateKey, digest: DigestAlg) -> (PublicKey, Vec<u8>) {
    let public = key.public_key();
    let sig = key
        .sign(Backend::RustCrypto, digest, MSG, EcdsaEncoding::Fixed)
        .expect("sign");
    for imp in Impl::all(key.profile()) {
        imp.run(|b| public.verify(b, digest, MSG, &sig))
            .expect("a fresh signature verifies");
    }
    (public, sig)
}

fn sign_verify(c: &mut Criterion, digest: DigestAlg, profiles: &[KeyProfile]) {
    let keys: Vec<(KeyProfile, Arc<PrivateKey>)> = profiles.iter().map(|&p| (p, key(p))).collect();
    let mut group = c.benchmark_group(format!("sign_{}", digest_name(digest)));
    group.throughput(Throughput::Elements(1));
    for (profile, key) in &keys {
        for imp in Impl::all(*profile) {
            let id = BenchmarkId::new(profile.name(), label(Op::Sign, *profile, imp, digest));
            group.bench_function(id, |b| {
                imp.run(|backend| {
                    b.iter(|| {
                        key.sign(backend, digest, black_box(MSG), EcdsaEncoding::Fixed)
                            .expect("sign")
                    })
                })
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group(format!("verify_{}", digest_name(digest)));
    group.throughput(Throughput::Elements(1));
    for (profile, key) in &keys {
        let (public, sig) = signed(key, digest);
        for imp in Impl::all(*profile) {
            let id = BenchmarkId::new(profile.name(), label(Op::Verify, *profile, imp, digest));
            group.bench_function(id, |b| {
                imp.run(|backend| {
                    b.iter(|| {
                        public
                            .verify(backend, digest, black_box(MSG), black_box(&sig))
                            .expect("verify")
                    })
                })
            });
        }
    }
    group.finish();
}

fn bench_sha256(c: &mut Criterion) {
    sign_verify(
        c,
        DigestAlg::Sha256,
        &[
            KeyProfile::RSA1024,
            KeyProfile::RSA2048,
            RSA4096,
            KeyProfile::EcP256,
        ],
    );
}

fn bench_sha1(c: &mut Criterion) {
    sign_verify(
        c,
        DigestAlg::Sha1,
        &[KeyProfile::RSA1024, KeyProfile::RSA2048],
    );
}

/// A CUCM 11.5 two-node cluster's ITL as served by the subscriber: ITLRecovery (SAST), the
/// TFTP node's CallManager as SAST and as CCM+TFTP, two TVS, CAPF — six RSA-2048 records,
/// signed by the CallManager key with SHA-1 (CUCM's default).
fn realistic_itl() -> Vec<u8> {
    let (builder, signer) = realistic_itl_parts();
    builder.sign(&signer.cert, &signer.key).expect("sign ITL")
}

/// The builder of [`realistic_itl`] and its signer.
fn realistic_itl_parts() -> (TrustListBuilder, Identity) {
    let now = WallTime::from_ymd(2025, 3, 1).expect("date");
    let forge = KeyForge::new(SEED);
    let mk = |host: &str, t: CertType| {
        let names = NodeNames::lab("bench", host);
        IdentityRequest::new(&names, t, now)
            .issue_self_signed(&forge)
            .expect("identity")
    };
    let node = |host: &str, last: u8| NodeCerts {
        hostname: host.to_string(),
        ip: Some(Ipv4Addr::new(10, 0, 0, last)),
        callmanager: mk(host, CertType::CallManager),
        tvs: mk(host, CertType::Tvs),
        runs_callmanager: true,
        runs_tftp: true,
    };
    let cluster = ClusterCerts {
        version: "11.5".parse::<CucmVersion>().expect("version"),
        nodes: vec![node("pub", 1), node("sub", 2)],
        itl_recovery: Some(mk("pub", CertType::ItlRecovery)),
        capf: Some(mk("pub", CertType::Capf)),
        ctl_provider: false,
    };
    let tftp = 1;
    let mut builder = TrustListBuilder::new("ITLFile.tlv", now.unix_s() as u32);
    builder.digest = DigestAlg::Sha1;
    builder.records = cluster.itl_records(tftp);
    let signer = cluster.itl_signer(tftp).expect("signer");
    (builder, signer.clone())
}

fn parse_and_verify(bytes: &[u8], backend: Backend) -> usize {
    tlv::parse(bytes)
        .expect("parse")
        .verify_self(backend)
        .expect("verify")
}

fn bench_itl(c: &mut Criterion) {
    let bytes = realistic_itl();
    let list = tlv::parse(&bytes).expect("parse");
    for backend in RsaBackend::ALL {
        let n = with_rsa_backend(backend, || parse_and_verify(&bytes, Backend::Ring));
        assert_eq!(n, 1, "signer is record 1");
    }
    eprintln!(
        "itl: {} bytes, {} records, signer {:?}, digest SHA-1, RSA-2048",
        bytes.len(),
        list.records.len(),
        list.header.signer_name.as_deref().unwrap_or("?"),
    );
    let mut group = c.benchmark_group("itl");
    group.throughput(Throughput::Elements(1));
    // The signer is RSA-2048, so ring verifies it itself (SHA-1 verification is allowed).
    for backend in RsaBackend::ALL {
        group.bench_function(BenchmarkId::new("parse+verify_self", backend.name()), |b| {
            with_rsa_backend(backend, || {
                b.iter(|| parse_and_verify(black_box(&bytes), Backend::Ring))
            })
        });
    }
    group.bench_function("parse_only", |b| {
        b.iter(|| tlv::parse(black_box(&bytes)).expect("parse"))
    });
    // Building and signing it (SHA-1: ring hands the signature to `rsa`).
    let (builder, signer) = realistic_itl_parts();
    for backend in RsaBackend::ALL {
        let name = match backend {
            RsaBackend::Ring => "ring_fallback_rsa",
            other => other.name(),
        };
        group.bench_function(BenchmarkId::new("sign", name), |b| {
            with_rsa_backend(backend, || {
                b.iter(|| {
                    let made = builder.sign(&signer.cert, &signer.key).expect("sign");
                    assert_eq!(made, bytes);
                })
            })
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

/// One verification, for `valgrind --tool=callgrind --toggle-collect='*callgrind_one_op*'`.
#[inline(never)]
fn callgrind_one_op(f: &dyn Fn()) {
    f();
}

/// `CUCMSIM_BENCH_CALLGRIND=<profile>/<impl>/<digest>` or `itl/<rsa backend>`.
fn callgrind(spec: &str) {
    let parts: Vec<&str> = spec.split('/').collect();
    match parts.as_slice() {
        ["itl", b] => {
            let bytes = realistic_itl();
            let backend: RsaBackend = b.parse().expect("RSA backend");
            with_rsa_backend(backend, || {
                parse_and_verify(&bytes, Backend::Ring);
                callgrind_one_op(&|| {
                    black_box(parse_and_verify(black_box(&bytes), Backend::Ring));
                });
            });
        }
        [profile, b, d] => {
            let profile: KeyProfile = profile.parse().expect("key profile");
            let digest = DigestAlg::parse(d).expect("digest");
            let imp = Impl::parse(b, profile);
            let (public, sig) = signed(&key(profile), digest);
            imp.run(|backend| {
                // Any one-time setup inside the backend happens outside the counted call.
                public.verify(backend, digest, MSG, &sig).expect("verify");
                callgrind_one_op(&|| {
                    public
                        .verify(backend, digest, black_box(MSG), black_box(&sig))
                        .expect("verify");
                });
            });
            eprintln!(
                "counted one verify: {profile} {} {}",
                label(Op::Verify, profile, imp, digest),
                digest_name(digest)
            );
        }
        _ => panic!("expected <profile>/<impl>/<digest> or itl/<backend>, got {spec:?}"),
    }
}

fn main() {
    if let Ok(spec) = std::env::var("CUCMSIM_BENCH_CALLGRIND") {
        callgrind(&spec);
        return;
    }
    let mut c = config();
    bench_sha256(&mut c);
    bench_sha1(&mut c);
    bench_itl(&mut c);
    c.final_summary();
}
