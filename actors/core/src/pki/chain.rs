//! Chain and validity checks at a given wall time, with typed errors.
//!
//! ```text
//!  leaf ──issuer?──► intermediates ──issuer?──► anchors (a trust store)
//!   │ validity at `now` (the host's own clock), signature by the issuer's key, issuer is a CA
//! ```
//! An anchor is trusted as it is: its own validity is still checked, its signature is not.

use super::cert::Certificate;
use super::dn;
use super::keys::Backend;
use crate::error::CertError;
use crate::wall::WallTime;

/// Longest chain accepted (leaf + intermediates + anchor).
pub const MAX_CHAIN: usize = 8;

/// Verifies `leaf` up to one of `anchors` through `intermediates` at `now`, returning the
/// chain from leaf to anchor.
pub fn verify_chain<'a>(
    leaf: &Certificate,
    intermediates: &'a [Certificate],
    anchors: impl IntoIterator<Item = &'a Certificate> + Clone,
    now: WallTime,
    backend: Backend,
) -> Result<Vec<Certificate>, CertError> {
    let mut chain = vec![leaf.clone()];
    let mut current = leaf.clone();
    loop {
        current.check_validity(now)?;
        if anchors.clone().into_iter().any(|a| a == &current) {
            return Ok(chain);
        }
        if chain.len() >= MAX_CHAIN {
            return Err(CertError::ChainTooLong);
        }
        let issuer = find_issuer(&current, intermediates, anchors.clone(), backend)?;
        chain.push(issuer.clone());
        current = issuer;
    }
}

fn find_issuer<'a>(
    cert: &Certificate,
    intermediates: &'a [Certificate],
    anchors: impl IntoIterator<Item = &'a Certificate>,
    backend: Backend,
) -> Result<Certificate, CertError> {
    let want = dn::normalize(&cert.issuer().to_cucm());
    let mut saw_bad_signature = false;
    let mut not_ca = None;
    for candidate in anchors.into_iter().chain(intermediates.iter()) {
        if dn::normalize(&candidate.subject().to_cucm()) != want || candidate == cert {
            continue;
        }
        let Some(key) = candidate.public_key() else {
            continue;
        };
        if cert.check_signed_by(key, backend).is_err() {
            saw_bad_signature = true;
            continue;
        }
        let info = candidate.info();
        if info.ca.is_none() && info.has_basic_constraints {
            not_ca = Some(candidate.subject().to_cucm());
            continue;
        }
        return Ok(candidate.clone());
    }
    let subject = cert.subject().to_cucm();
    if let Some(issuer) = not_ca {
        return Err(CertError::IssuerNotCa { subject, issuer });
    }
    if saw_bad_signature {
        return Err(CertError::BadSignature { subject });
    }
    Err(CertError::UnknownIssuer {
        subject,
        issuer: cert.issuer().to_cucm(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::keys::{KeyForge, KeyProfile};
    use crate::pki::mic::ManufacturingCa;

    fn t(y: i32) -> WallTime {
        WallTime::from_ymd(y, 1, 1).unwrap()
    }

    #[test]
    fn mic_chains_to_root_and_expires() {
        let forge = KeyForge::new(11);
        let ca = ManufacturingCa::new(&forge, t(2020)).unwrap();
        let mic = ca
            .issue_mic(&forge, "8861", "b000b4ba0aee", KeyProfile::EcP256, t(2021))
            .unwrap();
        let anchors = [ca.root.cert.clone()];
        let chain = verify_chain(
            &mic.cert,
            std::slice::from_ref(&ca.issuing.cert),
            &anchors,
            t(2022),
            Backend::Ring,
        )
        .unwrap();
        assert_eq!(chain.len(), 3);
        match verify_chain(
            &mic.cert,
            std::slice::from_ref(&ca.issuing.cert),
            &anchors,
            t(2035),
            Backend::Ring,
        ) {
            Err(CertError::Expired { now, .. }) => assert_eq!(now, t(2035)),
            other => panic!("expected Expired, got {other:?}"),
        }
        match verify_chain(
            &mic.cert,
            std::slice::from_ref(&ca.issuing.cert),
            &anchors,
            t(2020),
            Backend::Ring,
        ) {
            Err(CertError::NotYetValid { .. }) => {}
            other => panic!("expected NotYetValid, got {other:?}"),
        }
        match verify_chain(&mic.cert, &[], &anchors, t(2022), Backend::Ring) {
            Err(CertError::UnknownIssuer { issuer, .. }) => {
                assert!(issuer.contains("Manufacturing"))
            }
            other => panic!("expected UnknownIssuer, got {other:?}"),
        }
    }

    #[test]
    fn forged_issuer_gives_bad_signature() {
        let ca = ManufacturingCa::new(&KeyForge::new(11), t(2020)).unwrap();
        let other = ManufacturingCa::new(&KeyForge::new(12), t(2020)).unwrap();
        let forge = KeyForge::new(11);
        let mic = ca
            .issue_mic(&forge, "8861", "001122334455", KeyProfile::EcP256, t(2021))
            .unwrap();
        let anchors = [other.issuing.cert.clone()];
        match verify_chain(&mic.cert, &[], &anchors, t(2022), Backend::RustCrypto) {
            Err(CertError::BadSignature { .. }) => {}
            other => panic!("expected BadSignature, got {other:?}"),
        }
    }
}
