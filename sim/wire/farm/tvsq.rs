//! `--workload tvs-query`: one phone's TVS session on a real TLS connection to `--tvs`, as the
//! simulated phone asks it when a file's signer is not in its ITL (reference §2.2–2.3): TLS 1.2
//! pinned to the cluster's TVS certificates (the ITL's TVS records), the MIC as client
//! certificate, one QUERY_CERT_REQ for the cluster's ITLRecovery certificate (subject, issuer,
//! serial), and the answer checked: status valid and the certificate returned byte-identical.
//!
//! ```text
//!  TLS ─► QUERY_CERT_REQ{CP-<model>-SEP<MAC>, subject, issuer, serial} ─► ◄─ QUERY_CERT_RES
//!  ok: STATUS 0 and CERTIFICATE = the ITLRecovery │ failed: "TVS: not found", "TVS: wrong certificate"
//! ```

use super::conn::TlsConn;
use super::Ctx;
use cucmsim_core::machine::phone::Phone;
use cucmsim_core::tls::{client_config, SimClock, TlsEnd};
use cucmsim_core::tvs::{TvsBody, TvsMessage};
use std::sync::Arc;
use tokio::time::Instant;

/// Bytes of a whole TVS message at the front of `b`, once complete.
pub fn tvs_frame(b: &[u8]) -> Option<usize> {
    if b.len() < 10 {
        return None;
    }
    let n = 10 + u16::from_be_bytes([b[8], b[9]]) as usize;
    (b.len() >= n).then_some(n)
}

/// One QUERY_CERT session of `phone`.
pub async fn query(phone: Phone, ctx: Arc<Ctx>, deadline: Instant, n: u64) -> Result<(), String> {
    let addr = ctx.tvs.ok_or("no --tvs address")?;
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
    let request = TvsMessage {
        // Real phones count up from 1001 [C S5].
        session: 1001 + (n % 1_000_000) as u32,
        body: TvsBody::QueryReq {
            device_name: format!("CP-{}-{}", phone.model, phone.device),
            subject: target.subject().to_cucm(),
            issuer: target.issuer().to_cucm(),
            serial: target.serial().to_vec(),
        },
    };
    let mut conn = TlsConn::connect(addr, tls, deadline).await?;
    conn.handshake().await?;
    conn.send(&request.encode()).await?;
    let mut pending = vec![];
    let bytes = conn.recv(&mut pending, tvs_frame).await?;
    conn.close().await;
    let answer = TvsMessage::decode(&bytes).map_err(|e| format!("TVS: {e}"))?;
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
        _ => Err("TVS: unexpected answer".into()),
    }
}
