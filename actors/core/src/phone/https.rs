//! HTTPS services verified through TVS (reference §2.3 item 3, §2.4; catalogue F17–F19): the
//! pure decisions a phone takes when it opens an HTTPS service (Corporate Directory, EM, …)
//! whose server presents a certificate, as a function of what the phone holds and `now`.
//!
//! ```text
//!  server certificate ─► in the CTL (or ITL)?             ─► trusted (no TVS)
//!                     ├► in the TVS cache (24 h, exact)?  ─► "Authenticated the HTTPS conn via TVS" (cached)
//!                     ├► no TVS in the config?            ─► fail "Host Not Found"            (F17)
//!                     └► ask TVS #0.. (CERT_VERIFICATION_REQ over TLS 2445)
//!                          TLS fails on every TVS ─► fail "SSL3 alert read:fatal:handshake failure" (F18)
//!                          status 1 (not found)   ─► fail "TVS: certificate not valid"        (F19)
//!                          status 0               ─► cache for the TTL, "Authenticated …"
//! ```
//! [I] A valid TVS status is enough: the reference says status 0 means "Authenticated the
//! HTTPS conn via TVS" and names no role requirement (TVS maps tomcat-trust to APP-SERVER).
//! [I] Unlike a trust-list signer, the cache is checked for the exact certificate (the
//! request carries the whole certificate, not a serial and issuer).

use super::trust::PhoneTrust;
use crate::pki::Certificate;
use crate::tlv::Role;
use crate::wall::WallTime;

/// Phone message of an HTTPS service that could not be verified [C S9].
pub const HOST_NOT_FOUND: &str = "Host Not Found";
/// The phone's log line when the TLS to TVS fails (CSCua65618) [C S9].
pub const HANDSHAKE_FAILURE: &str = "SSL3 alert read:fatal:handshake failure";
/// The phone's log line when TVS vouched for the server [C S9].
pub const AUTHENTICATED: &str = "Authenticated the HTTPS conn via TVS";

/// How the server certificate came to be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpsPath {
    /// The certificate is a record of the held CTL or ITL.
    TrustList,
    /// TVS vouched for it (now, or within the cache's TTL).
    Tvs { cached: bool },
}

/// What the phone does with an HTTPS server certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpsDecision {
    Trusted(HttpsPath),
    /// Send CERT_VERIFICATION_REQ to a TVS of the current config.
    AskTvs,
    /// The service fails with this reason.
    Fail(String),
}

/// Judges the certificate an HTTPS server presented, before any TVS exchange. `tvs_servers`
/// is the number of TVS in the phone's current config.
pub fn judge(
    trust: &PhoneTrust,
    server: &Certificate,
    tvs_servers: usize,
    now: WallTime,
) -> HttpsDecision {
    let in_list = [trust.ctl.as_ref(), trust.itl.as_ref()]
        .into_iter()
        .flatten()
        .flat_map(|l| l.records.iter())
        .any(|r| r.certificate.as_deref() == Some(server.der()));
    if in_list {
        return HttpsDecision::Trusted(HttpsPath::TrustList);
    }
    if trust.cached_vouch(server, now).is_some() {
        return HttpsDecision::Trusted(HttpsPath::Tvs { cached: true });
    }
    if tvs_servers == 0 {
        return HttpsDecision::Fail(format!(
            "{HOST_NOT_FOUND}: the certificate is not in the CTL and the config lists no TVS"
        ));
    }
    HttpsDecision::AskTvs
}

/// Applies a CERT_VERIFICATION_RES: a valid status is cached for its TTL and trusts the server.
pub fn on_verify_answer(
    trust: &mut PhoneTrust,
    server: &Certificate,
    valid: bool,
    roles: &[Role],
    ttl_s: u32,
    now: WallTime,
) -> HttpsDecision {
    if !valid {
        return HttpsDecision::Fail(format!(
            "{HOST_NOT_FOUND}: TVS answered status 1 (not valid) for {}",
            server.subject().to_cucm()
        ));
    }
    trust.cache_vouch(server, roles, ttl_s, now);
    HttpsDecision::Trusted(HttpsPath::Tvs { cached: false })
}

/// The failure after every TVS of the config was tried and none completed the exchange:
/// the handshake failure if any TVS refused the TLS, else "Host Not Found".
pub fn exhausted(handshake_failed: bool) -> String {
    if handshake_failed {
        format!("{HOST_NOT_FOUND}: {HANDSHAKE_FAILURE}")
    } else {
        format!("{HOST_NOT_FOUND}: no TVS answered")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pki::cluster::{ClusterSpec, NodeSpec};
    use crate::pki::identity::{CertType, NodeNames};
    use crate::pki::KeyForge;
    use std::collections::BTreeMap;

    #[test]
    fn no_tvs_is_host_not_found_and_a_valid_answer_is_cached() {
        let node = NodeSpec {
            names: NodeNames::lab("h", "hpub"),
            ip: None,
            runs_callmanager: true,
            runs_tftp: true,
            imp: false,
        };
        let pki = ClusterSpec {
            name: "h".into(),
            version: "12.5".parse().unwrap(),
            nodes: vec![node],
            profiles: BTreeMap::new(),
            now: WallTime::from_ymd(2024, 1, 1).unwrap(),
            itl_recovery_years: 5,
        }
        .generate(&KeyForge::new(7))
        .unwrap();
        let tomcat = pki.nodes[0]
            .identity(CertType::Tomcat)
            .unwrap()
            .cert
            .clone();
        let mut trust = PhoneTrust::new();
        let now = WallTime::from_ymd(2025, 6, 1).unwrap();
        let d = judge(&trust, &tomcat, 0, now);
        assert!(matches!(d, HttpsDecision::Fail(r) if r.starts_with(HOST_NOT_FOUND)));
        assert_eq!(judge(&trust, &tomcat, 1, now), HttpsDecision::AskTvs);
        let d = on_verify_answer(&mut trust, &tomcat, false, &[], 86_400, now);
        assert!(matches!(d, HttpsDecision::Fail(_)));
        let d = on_verify_answer(&mut trust, &tomcat, true, &[Role::AppServer], 86_400, now);
        assert_eq!(d, HttpsDecision::Trusted(HttpsPath::Tvs { cached: false }));
        assert_eq!(
            judge(&trust, &tomcat, 1, now.plus_s(3600)),
            HttpsDecision::Trusted(HttpsPath::Tvs { cached: true })
        );
        assert_eq!(
            judge(&trust, &tomcat, 1, now.plus_s(86_401)),
            HttpsDecision::AskTvs
        );
    }
}
