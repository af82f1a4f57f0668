//! Cross-checks of the RSA backends: aws-lc, ring and the `rsa` crate give byte-identical
//! PKCS#1 v1.5 signatures — on messages, on ITL and CTL files built with SHA-1, SHA-256 and
//! SHA-512, and on signed configuration files — and the same verdicts.

use super::keys::{Backend, EcdsaEncoding, KeyForge, KeyProfile, PrivateKey};
use super::signer::{forced_rsa_backend, rsa_backend, signer, with_rsa_backend, RsaBackend};
use super::{CertType, NodeNames};
use crate::digest::DigestAlg;
use crate::error::SigError;
use crate::pki::identity::IdentityRequest;
use crate::sgn::sign_config;
use crate::tlv::content::{ClusterCerts, CtlMode, CucmVersion, NodeCerts};
use crate::tlv::{parse, TrustListBuilder};
use crate::wall::WallTime;
use std::net::Ipv4Addr;

fn now() -> WallTime {
    WallTime::from_ymd(2025, 3, 1).unwrap()
}

/// Signs `msg` with `backend` forced (no cache), through the key's public API.
fn sign_with(backend: RsaBackend, key: &PrivateKey, digest: DigestAlg, msg: &[u8]) -> Vec<u8> {
    with_rsa_backend(backend, || {
        key.sign(Backend::Ring, digest, msg, EcdsaEncoding::Fixed)
            .unwrap()
    })
}

#[test]
fn every_backend_signs_the_same_bytes_and_accepts_the_same() {
    let forge = KeyForge::new(13);
    // 512 bits: aws-lc and ring hand it to `rsa`; 1024: aws-lc signs, ring hands over.
    for bits in [512, 1024, 2048] {
        let key = forge.key("signer/x", KeyProfile::Rsa { bits });
        let public = key.public_key();
        for digest in DigestAlg::ALL {
            let msg = format!("{bits} {digest} cross-check").into_bytes();
            if bits == 512 && digest == DigestAlg::Sha512 {
                // An 83-byte DigestInfo does not fit a 64-byte modulus: every backend refuses.
                for backend in RsaBackend::ALL {
                    let r = with_rsa_backend(backend, || {
                        key.sign(Backend::Ring, digest, &msg, EcdsaEncoding::Fixed)
                    });
                    assert!(r.is_err(), "{backend}");
                }
                continue;
            }
            let reference = key
                .sign(Backend::RustCrypto, digest, &msg, EcdsaEncoding::Fixed)
                .unwrap();
            assert_eq!(reference.len(), bits as usize / 8);
            let mut tampered = reference.clone();
            tampered[bits as usize / 16] ^= 0x10;
            for backend in RsaBackend::ALL {
                let sig = sign_with(backend, &key, digest, &msg);
                assert_eq!(sig, reference, "rsa{bits} {digest} {backend}");
                with_rsa_backend(backend, || {
                    assert_eq!(public.verify(Backend::Ring, digest, &msg, &sig), Ok(()));
                    let verdict = |m: &[u8], s: &[u8]| public.verify(Backend::Ring, digest, m, s);
                    assert_eq!(verdict(b"other", &sig), Err(SigError::Mismatch));
                    assert_eq!(verdict(&msg, &tampered), Err(SigError::Mismatch));
                    assert_eq!(verdict(&msg, &sig[1..]), Err(SigError::Mismatch));
                });
            }
        }
    }
}

#[test]
fn signers_report_their_backend_and_selection_parses() {
    for backend in RsaBackend::ALL {
        assert_eq!(signer(backend).backend(), backend);
        assert_eq!(backend.name().parse::<RsaBackend>(), Ok(backend));
        assert_eq!(with_rsa_backend(backend, rsa_backend), backend);
    }
    assert_eq!(forced_rsa_backend(), None, "restored after the closure");
    assert_eq!("AWS_LC".parse::<RsaBackend>(), Ok(RsaBackend::AwsLc));
    assert_eq!("rustcrypto".parse::<RsaBackend>(), Ok(RsaBackend::Rsa));
    let err = "openssl".parse::<RsaBackend>().unwrap_err();
    assert!(err.contains("aws-lc, ring or rsa"), "{err}");
    assert_eq!(RsaBackend::default(), RsaBackend::AwsLc);
}

fn cluster() -> ClusterCerts {
    let forge = KeyForge::new(14);
    let mk = |host: &str, t: CertType| {
        IdentityRequest::new(&NodeNames::lab("x1", host), t, now())
            .issue_self_signed(&forge)
            .unwrap()
    };
    let node = |host: &str, last: u8| NodeCerts {
        hostname: host.to_string(),
        ip: Some(Ipv4Addr::new(10, 0, 0, last)),
        callmanager: mk(host, CertType::CallManager),
        tvs: mk(host, CertType::Tvs),
        runs_callmanager: true,
        runs_tftp: true,
    };
    ClusterCerts {
        version: "12.5".parse::<CucmVersion>().unwrap(),
        nodes: vec![node("pub", 1), node("sub", 2)],
        itl_recovery: Some(mk("pub", CertType::ItlRecovery)),
        capf: Some(mk("pub", CertType::Capf)),
        ctl_provider: false,
    }
}

/// The ITL of TFTP node 0, the CTL and a signed configuration, signed with `digest`.
fn files(c: &ClusterCerts, digest: DigestAlg, backend: Backend) -> [Vec<u8>; 3] {
    let build = |name: &str, records, signer: &super::Identity| {
        let mut b = TrustListBuilder::new(name, now().0 as u32);
        b.digest = digest;
        b.backend = backend;
        b.records = records;
        b.sign(&signer.cert, &signer.key).unwrap()
    };
    let itl = build("ITLFile.tlv", c.itl_records(0), c.itl_signer(0).unwrap());
    let ctl = build(
        "CTLFile.tlv",
        c.ctl_records(CtlMode::Mixed),
        c.ctl_signer().unwrap(),
    );
    let tftp = &c.nodes[0].callmanager;
    let xml = b"<device><deviceProtocol>SIP</deviceProtocol><loadInformation/></device>";
    let config = sign_config(
        xml,
        "SEP00AABBCCDDEE.cnf.xml.sgn",
        &tftp.cert,
        &tftp.key,
        digest,
        now().0 as u32,
        backend,
    )
    .unwrap();
    [itl, ctl, config]
}

#[test]
fn trust_lists_and_configs_are_byte_identical_with_every_backend() {
    let c = cluster();
    for digest in DigestAlg::ALL {
        let reference = files(&c, digest, Backend::RustCrypto);
        let list = parse(&reference[0]).unwrap();
        assert_eq!(list.header.digest_code, Some(digest.code()));
        assert_eq!(list.verify_self(Backend::RustCrypto), Ok(0));
        for backend in RsaBackend::ALL {
            let made = with_rsa_backend(backend, || files(&c, digest, Backend::Ring));
            for (i, name) in ["ITL", "CTL", "signed config"].iter().enumerate() {
                assert_eq!(made[i], reference[i], "{name} {digest} {backend}");
            }
            with_rsa_backend(backend, || {
                assert_eq!(parse(&made[0]).unwrap().verify_self(Backend::Ring), Ok(0));
                assert_eq!(parse(&made[1]).unwrap().verify_self(Backend::Ring), Ok(0));
            });
        }
        // And through the signature cache (the process's backend): the same bytes again.
        let cached = files(&c, digest, Backend::Ring);
        assert_eq!(cached, reference, "{digest} cached");
        assert_eq!(files(&c, digest, Backend::Ring), reference);
    }
}
