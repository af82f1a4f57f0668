//! `--workload tvs-query` / `tvs-verify`: one phone's TVS session on a real TLS connection to `--tvs`, as the
//! simulated phone asks it when a file's signer is not in its ITL (reference §2.2–2.3): TLS 1.2
//! pinned to the cluster's TVS certificates (the ITL's TVS records), the MIC as client
//! certificate, one QUERY_CERT_REQ for the cluster's ITLRecovery certificate (subject, issuer,
//! serial) — or, `tvs-verify`, one CERT_VERIFICATION_REQ of the publisher's Tomcat certificate
//! (an HTTPS server) — and the answer checked: status valid and, for a query, the certificate
//! returned byte-identical.
//!
//! ```text
//!  TLS ─► QUERY_CERT_REQ{CP-<model>-SEP<MAC>, subject, issuer, serial} ─► ◄─ QUERY_CERT_RES
//!  ok: STATUS 0 and CERTIFICATE = the ITLRecovery │ failed: "TVS: not found", "TVS: wrong certificate"
//! ```

use super::conn::TlsConn;
use super::Ctx;
use crate::wire::quic::Service;
use cucmsim_core::machine::phone::Phone;
use cucmsim_core::tls::{client_config, SimClock, TlsEnd};
use cucmsim_core::tvs::{TvsBody, TvsMessage};
use std::sync::Arc;
use tokio::time::Instant;

/// Bytes of a whole TVS message at the front of `b`, once complete.
pub fn tvs_frame(b: &[u8]) -> Option<usize> {
    TvsMessage::complete_len(b)
}

/// What a session asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ask {
    /// QUERY_CERT for the ITLRecovery (a file signer).
    Query,
    /// CERT_VERIFICATION of the publisher's Tomcat certificate (an HTTPS server).
    Verify,
}

/// The request of session `n`.
fn request(phone: &Phone, ctx: &Ctx, ask: Ask, n: u64) -> TvsMessage {
    let device_name = format!("CP-{}-{}", phone.model, phone.device);
    let target = &ctx.fleet.query_target;
    let body = match ask {
        Ask::Query => TvsBody::QueryReq {
            device_name,
            subject: target.subject().to_cucm(),
            issuer: target.issuer().to_cucm(),
            serial: target.serial().to_vec(),
        },
        Ask::Verify => TvsBody::VerifyReq {
            device_name,
            certificate: ctx.fleet.verify_target.der().to_vec(),
        },
    };
    // Real phones count up from 1001 [C S5].
    TvsMessage {
        session: 1001 + (n % 1_000_000) as u32,
        body,
    }
}

/// One TVS session of `phone` asking `ask`.
pub async fn query(
    phone: Phone,
    ctx: Arc<Ctx>,
    deadline: Instant,
    n: u64,
    ask: Ask,
) -> Result<(), String> {
    let clock = SimClock::default();
    clock.set(ctx.clock.wall());
    let config = client_config(
        ctx.fleet.tvs_certs.clone(),
        (&phone.cert, &phone.key),
        &phone.chain,
        &clock,
    )?;
    let tls = TlsEnd::client(config, "tvs")?;
    let target = &ctx.fleet.query_target;
    let request = request(&phone, &ctx, ask, n);
    let mut conn = TlsConn::connect(&ctx.transport, Service::Tvs, ctx.tvs, tls, deadline).await?;
    conn.handshake().await?;
    conn.send(&request.encode()).await?;
    let mut pending = vec![];
    let bytes = conn.recv(&mut pending, tvs_frame).await?;
    conn.close().await;
    let answer =
        TvsMessage::decode_with(&bytes, &ctx.tvs_rules).map_err(|e| format!("TVS: {e}"))?;
    if answer.session != request.session {
        return Err("TVS: answer for another session".into());
    }
    match answer.body {
        TvsBody::QueryRes {
            valid: true,
            certificate: Some(der),
            ..
        } if der == target.der() => Ok(()),
        TvsBody::QueryRes { valid: true, .. } => Err("TVS: wrong certificate".into()),
        TvsBody::QueryRes { valid: false, .. } => Err("TVS: not found".into()),
        // usecallmanager's tvsd answers an unknown certificate with STATUS only [OSS].
        TvsBody::VerifyRes { valid: true, .. } => Ok(()),
        TvsBody::VerifyRes { valid: false, .. } => Err("TVS: certificate not trusted".into()),
        _ => Err("TVS: unexpected answer".into()),
    }
}
