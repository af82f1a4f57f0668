//! Crypto throughput: sign and verify per key type × backend, and a whole-ITL verify.
//!
//! ```text
//! cargo bench --bench crypto                 # everything (~2-3 min on 2 cores)
//! cargo bench --bench crypto -- verify_sha256  # one group
//! ```
//!
//! Groups (every benchmark is one operation, `Throughput::Elements(1)`, so criterion prints
//! ops/s as `elem/s`):
//!
//! - `sign_sha256`, `verify_sha256`: RSA-1024, RSA-2048, RSA-4096, EC P-256 × rustcrypto, ring.
//! - `sign_sha1`, `verify_sha1`: RSA-1024, RSA-2048 (CUCM's default ITL/CTL digest is SHA-1).
//! - `itl`: `tlv::parse` + `verify_self` of a 6-record ITL (CUCM 11.5, RSA-2048 signer, SHA-1),
//!   per backend, and `tlv::parse` alone.
//!
//! The ring backend falls back to RustCrypto for what ring cannot do (see `pki::keys`): every
//! P-256 signature (the project signs ECDSA with the `p256` crate whichever backend is asked
//! for), RSA signing with SHA-1 or with keys under 2048 bits, and RSA verification with keys
//! under 2048 bits. Those benchmarks are labelled `ring_fallback_rustcrypto`, not `ring`.
//!
//! The messages for the sign/verify matrix are 64 bytes, so the numbers are the key operation
//! (plus one short hash and, for ring RSA verify, the PKCS#1 re-encoding of the public key that
//! `PublicKey::verify` does on every call). Keys are generated (and memoised) before any timing.
//!
//! Instruction counts: with `CUCMSIM_BENCH_CALLGRIND=<profile>/<backend>/<digest>` (e.g.
//! `rsa2048/ring/sha1`, or `itl/ring`) the binary makes the key, then calls
//! `callgrind_one_op` once and exits, so
//! `valgrind --tool=callgrind --toggle-collect='*callgrind_one_op*' <bench binary>` counts the
//! instructions of exactly one verification.

use criterion::{BenchmarkId, Criterion, Throughput};
use cucmsim_core::pki::identity::{CertType, IdentityRequest, NodeNames};
use cucmsim_core::pki::keys::{
    Backend, EcdsaEncoding, KeyForge, KeyProfile, PrivateKey, PublicKey,
};
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

/// The implementation that actually runs for `backend`, per `pki::keys`.
fn effective(op: Op, profile: KeyProfile, backend: Backend, digest: DigestAlg) -> Backend {
    let ring_does_it = match (op, profile) {
        // ring's RSA key pairs need a 2048-bit modulus or more; ring has no SHA-1 signing.
        (Op::Sign, KeyProfile::Rsa { bits }) => bits >= 2048 && digest != DigestAlg::Sha1,
        // Signing P-256 always uses the `p256` crate, whatever backend is asked for.
        (Op::Sign, KeyProfile::EcP256) => false,
        (Op::Verify, KeyProfile::Rsa { bits }) => bits >= 2048,
        (Op::Verify, KeyProfile::EcP256) => digest == DigestAlg::Sha256,
    };
    if backend == Backend::Ring && ring_does_it {
        Backend::Ring
    } else {
        Backend::RustCrypto
    }
}

/// `rustcrypto`, `ring`, or `ring_fallback_rustcrypto`.
fn label(op: Op, profile: KeyProfile, backend: Backend, digest: DigestAlg) -> String {
    let actual = effective(op, profile, backend, digest);
    if actual == backend {
        backend.name().to_string()
    } else {
        format!("{}_fallback_{}", backend.name(), actual.name())
    }
}

fn digest_name(digest: DigestAlg) -> &'static str {
    match digest {
        DigestAlg::Sha1 => "sha1",
        DigestAlg::Sha256 => "sha256",
        DigestAlg::Sha512 => "sha512",
    }
}

/// The key for `profile`, generated once (KeyForge memoises process-wide), with ring's lazily
/// parsed RSA key pair initialised by one signature.
fn key(profile: KeyProfile) -> Arc<PrivateKey> {
    let key = KeyForge::new(SEED).key(&format!("bench/{}", profile.name()), profile);
    for backend in Backend::ALL {
        key.sign(backend, DigestAlg::Sha256, MSG, EcdsaEncoding::Fixed)
            .expect("warm-up signature");
    }
    key
}

/// A signature over `MSG` and the public key, checked with both backends.
fn signed(key: &PrivateKey, digest: DigestAlg) -> (PublicKey, Vec<u8>) {
    let public = key.public_key();
    let sig = key
        .sign(Backend::RustCrypto, digest, MSG, EcdsaEncoding::Fixed)
        .expect("sign");
    for backend in Backend::ALL {
        public
            .verify(backend, digest, MSG, &sig)
            .expect("a fresh signature verifies");
    }
    (public, sig)
}

fn sign_verify(c: &mut Criterion, digest: DigestAlg, profiles: &[KeyProfile]) {
    let keys: Vec<(KeyProfile, Arc<PrivateKey>)> = profiles.iter().map(|&p| (p, key(p))).collect();
    let mut group = c.benchmark_group(format!("sign_{}", digest_name(digest)));
    group.throughput(Throughput::Elements(1));
    for (profile, key) in &keys {
        for backend in Backend::ALL {
            let id = BenchmarkId::new(profile.name(), label(Op::Sign, *profile, backend, digest));
            group.bench_function(id, |b| {
                b.iter(|| {
                    key.sign(backend, digest, black_box(MSG), EcdsaEncoding::Fixed)
                        .expect("sign")
                })
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group(format!("verify_{}", digest_name(digest)));
    group.throughput(Throughput::Elements(1));
    for (profile, key) in &keys {
        let (public, sig) = signed(key, digest);
        for backend in Backend::ALL {
            let id = BenchmarkId::new(profile.name(), label(Op::Verify, *profile, backend, digest));
            group.bench_function(id, |b| {
                b.iter(|| {
                    public
                        .verify(backend, digest, black_box(MSG), black_box(&sig))
                        .expect("verify")
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
    builder.sign(&signer.cert, &signer.key).expect("sign ITL")
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
    for backend in Backend::ALL {
        assert_eq!(parse_and_verify(&bytes, backend), 1, "signer is record 1");
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
    for backend in Backend::ALL {
        group.bench_function(BenchmarkId::new("parse+verify_self", backend.name()), |b| {
            b.iter(|| parse_and_verify(black_box(&bytes), backend))
        });
    }
    group.bench_function("parse_only", |b| {
        b.iter(|| tlv::parse(black_box(&bytes)).expect("parse"))
    });
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

/// `CUCMSIM_BENCH_CALLGRIND=<profile>/<backend>/<digest>` or `itl/<backend>`.
fn callgrind(spec: &str) {
    let parts: Vec<&str> = spec.split('/').collect();
    let backend = |name: &str| match name {
        "ring" => Backend::Ring,
        "rustcrypto" => Backend::RustCrypto,
        other => panic!("unknown backend {other:?}"),
    };
    match parts.as_slice() {
        ["itl", b] => {
            let bytes = realistic_itl();
            let backend = backend(b);
            parse_and_verify(&bytes, backend);
            callgrind_one_op(&|| {
                black_box(parse_and_verify(black_box(&bytes), backend));
            });
        }
        [profile, b, d] => {
            let profile: KeyProfile = profile.parse().expect("key profile");
            let digest = match *d {
                "sha1" => DigestAlg::Sha1,
                "sha256" => DigestAlg::Sha256,
                other => panic!("unknown digest {other:?}"),
            };
            let backend = backend(b);
            let (public, sig) = signed(&key(profile), digest);
            // Any one-time setup inside the backend happens outside the counted call.
            public.verify(backend, digest, MSG, &sig).expect("verify");
            callgrind_one_op(&|| {
                public
                    .verify(backend, digest, black_box(MSG), black_box(&sig))
                    .expect("verify");
            });
            eprintln!(
                "counted one verify: {profile} {} {}",
                label(Op::Verify, profile, backend, digest),
                digest_name(digest)
            );
        }
        _ => panic!("expected <profile>/<backend>/<digest> or itl/<backend>, got {spec:?}"),
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
