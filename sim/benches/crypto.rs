//! Sign and verify rates per key type and crypto backend, and whole-ITL verification, on this
//! machine: `cargo bench --bench crypto`. Keys are generated once, outside the timed loops.
//! ring cannot sign with SHA-1, so "ring" SHA-1 signing falls back to RustCrypto (labelled).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use cucmsim_core::digest::DigestAlg;
use cucmsim_core::pki::identity::{CertType, IdentityRequest, NodeNames};
use cucmsim_core::pki::keys::EcdsaEncoding;
use cucmsim_core::pki::{Backend, KeyForge, KeyProfile};
use cucmsim_core::tlv::{parse, RecordSpec, Role, TrustListBuilder};
use cucmsim_core::WallTime;
use std::time::Duration;

const MSG: &[u8] = &[0x5a; 4096];

fn profiles() -> [(KeyProfile, &'static str); 4] {
    [
        (KeyProfile::RSA1024, "rsa1024"),
        (KeyProfile::RSA2048, "rsa2048"),
        (KeyProfile::Rsa { bits: 4096 }, "rsa4096"),
        (KeyProfile::EcP256, "ec-p256"),
    ]
}

fn label(backend: Backend, digest: DigestAlg, key: KeyProfile, signing: bool) -> String {
    let fallback = backend == Backend::Ring
        && match key {
            KeyProfile::Rsa { bits } => (signing && digest == DigestAlg::Sha1) || bits < 2048,
            KeyProfile::EcP256 => digest != DigestAlg::Sha256,
        };
    if fallback {
        format!("{}(falls back to rustcrypto)", backend.name())
    } else {
        backend.name().to_string()
    }
}

fn sign_verify(c: &mut Criterion) {
    let forge = KeyForge::new(1);
    for digest in [DigestAlg::Sha256, DigestAlg::Sha1] {
        let mut g = c.benchmark_group(format!("sign-{}", digest.name()));
        g.sample_size(20)
            .measurement_time(Duration::from_secs(2))
            .throughput(Throughput::Elements(1));
        for (profile, name) in profiles() {
            let key = forge.key(&format!("bench/{name}"), profile);
            for backend in Backend::ALL {
                let id = BenchmarkId::new(name, label(backend, digest, profile, true));
                g.bench_function(id, |b| {
                    b.iter(|| {
                        key.sign(backend, digest, MSG, EcdsaEncoding::Fixed)
                            .unwrap()
                    })
                });
            }
        }
        g.finish();
        let mut g = c.benchmark_group(format!("verify-{}", digest.name()));
        g.sample_size(20)
            .measurement_time(Duration::from_secs(2))
            .throughput(Throughput::Elements(1));
        for (profile, name) in profiles() {
            let key = forge.key(&format!("bench/{name}"), profile);
            let public = key.public_key();
            let sig = key
                .sign(Backend::RustCrypto, digest, MSG, EcdsaEncoding::Fixed)
                .unwrap();
            for backend in Backend::ALL {
                let id = BenchmarkId::new(name, label(backend, digest, profile, false));
                g.bench_function(id, |b| {
                    b.iter(|| public.verify(backend, digest, MSG, &sig).unwrap())
                });
            }
        }
        g.finish();
    }
}

fn itl_verify(c: &mut Criterion) {
    // A realistic 12.5 ITL: ITLRecovery signer (RSA-2048, SHA-1), six records.
    let forge = KeyForge::new(1);
    let now = WallTime::from_ymd(2025, 1, 1).unwrap();
    let id = |host: &str, t: CertType| {
        IdentityRequest::new(&NodeNames::lab("b", host), t, now)
            .issue_self_signed(&forge)
            .unwrap()
    };
    let rec = id("pub", CertType::ItlRecovery);
    let records = vec![
        RecordSpec::cert(&rec.cert, Role::Sast, "pub", None),
        RecordSpec::cert(
            &id("pub", CertType::CallManager).cert,
            Role::Sast,
            "pub",
            None,
        ),
        RecordSpec::cert(
            &id("pub", CertType::CallManager).cert,
            Role::CcmTftp,
            "pub",
            None,
        ),
        RecordSpec::cert(&id("pub", CertType::Tvs).cert, Role::Tvs, "pub", None),
        RecordSpec::cert(&id("sub", CertType::Tvs).cert, Role::Tvs, "sub", None),
        RecordSpec::cert(&id("pub", CertType::Capf).cert, Role::Capf, "pub", None),
    ];
    let mut b = TrustListBuilder::new("ITLFile.tlv", now.0 as u32);
    b.records = records;
    let bytes = b.sign(&rec.cert, &rec.key).unwrap();
    let mut g = c.benchmark_group("itl");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(1));
    g.bench_function("parse", |bch| bch.iter(|| parse(&bytes).unwrap()));
    for backend in Backend::ALL {
        g.bench_function(BenchmarkId::new("parse+verify", backend.name()), |bch| {
            bch.iter(|| parse(&bytes).unwrap().verify_self(backend).unwrap())
        });
    }
    g.bench_function("build+sign-sha1", |bch| {
        bch.iter(|| b.sign(&rec.cert, &rec.key).unwrap())
    });
    g.finish();
}

criterion_group!(benches, sign_verify, itl_verify);
criterion_main!(benches);
