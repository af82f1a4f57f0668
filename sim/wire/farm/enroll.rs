//! `--workload enroll`: one phone's CAPF session on a real TLS connection to `--capf`, with the
//! core's phone-side session ([`CapfClient`]) — the settings the simulated phone builds (device
//! name, CAPF version, the fleet's authentication string, its MIC, its key labels from the seed)
//! and the authentication mode the scenario's `capf_operation` gave the device. The phone
//! trusts exactly the cluster's CAPF certificate (its ITL's CAPF record) and presents its MIC.
//!
//! ```text
//!  TLS (pinned to the CAPF record) ◄── AUTH_REQ ── AUTH_RES ─► … KEY_GEN_REQ ─► key from the seed
//!  ── KEY_GEN_RES ─► ◄── STORE_CERT_REQ (LSC checked: chains to CAPF, carries our key) ── STORE_CERT_RES ─►
//!  ◄── END_SESSION{1} ─► ok: "Installed"   │ END_SESSION 7/9, abort ─► failed with the reason
//! ```

use super::conn::TlsConn;
use super::{Ctx, Fleet};
use crate::wire::quic::Service;
use cucmsim_core::capf::{CapfClient, CapfFlash, CapfMessage, ClientOutcome, ClientSettings};
use cucmsim_core::machine::phone::Phone;
use cucmsim_core::pki::Identity;
use cucmsim_core::tls::{pinned_client_config, SimClock, TlsEnd};
use std::sync::Arc;
use tokio::time::Instant;

/// The label prefix of the phone's generated keys, as the simulated phone names them.
fn key_label(phone: &Phone, fleet: &Fleet) -> String {
    let profile = &fleet.capf_profile;
    if profile.key_pool > 0 {
        format!("lsc-pool/{}", phone.id % profile.key_pool)
    } else {
        format!("phone/{}/lsc", phone.device)
    }
}

/// Derives the key the phone will generate in its next enrollment, before the clock starts:
/// a farm measures the server, and an RSA key costs 65–200 ms to make (the seed's keys are
/// memoised, so the session then finds it made). Both profiles CAPF may ask for are made.
pub fn warm(phone: &Phone, ctx: &Ctx) {
    let label = format!("{}#0", key_label(phone, &ctx.fleet));
    for profile in ctx.fleet.lsc_profiles(&phone.device) {
        let _ = ctx.fleet.capf_profile.forge.key(&label, profile);
    }
}

/// The phone-side CAPF client the simulated phone of `fleet` would build.
pub fn capf_client(phone: &Phone, fleet: &Fleet) -> CapfClient {
    let profile = &fleet.capf_profile;
    let key_label = key_label(phone, fleet);
    let auth_string = if profile.unique_auth_string {
        Some(cucmsim_core::capf::device::unique_auth_string(
            profile.forge.seed(),
            &phone.device,
        ))
    } else {
        profile.auth_string.clone()
    };
    let settings = ClientSettings {
        device_name: phone.device.clone(),
        version: profile.version,
        auth_string,
        mic: Some(Identity {
            cert_type: None,
            cert: phone.cert.clone(),
            key: phone.key.clone(),
        }),
        key_label,
        forge: profile.forge.clone(),
        request_in_progress: true,
    };
    let mut c = CapfClient::new(settings, None, CapfFlash::default());
    c.config_mode = Some(fleet.capf_mode(&phone.device));
    c.capf_cert = Some(fleet.capf_cert.clone());
    c
}

/// Enrolls `phone` at the farm's CAPF.
pub async fn enroll(phone: Phone, ctx: Arc<Ctx>, deadline: Instant) -> Result<(), String> {
    let clock = SimClock::default();
    clock.set(ctx.clock.wall());
    let config = pinned_client_config(
        "CAPF",
        vec![ctx.fleet.capf_cert.clone()],
        (&phone.cert, &phone.key),
        &phone.chain,
        &clock,
    )?;
    // The name is not checked: the phone pins the CAPF record itself.
    let tls = TlsEnd::client(config, "capf")?;
    let mut client = capf_client(&phone, &ctx.fleet);
    let mut conn = TlsConn::connect(&ctx.transport, Service::Capf, ctx.capf, tls, deadline).await?;
    conn.handshake().await?;
    let mut pending = vec![];
    let outcome = loop {
        let bytes = conn
            .recv(&mut pending, |b| match CapfMessage::decode_prefix(b) {
                Ok(Some((_, used))) => Some(used),
                Ok(None) => None,
                Err(_) => Some(b.len()),
            })
            .await?;
        let msg = CapfMessage::decode_prefix(&bytes)
            .ok()
            .flatten()
            .map(|(m, _)| m)
            .ok_or("undecodable CAPF message")?;
        let step = client.handle(&msg, ctx.clock.wall());
        let mut out: Vec<CapfMessage> = step.send;
        if let Some(k) = step.key_gen {
            out.push(k.reply); // a farm phone's key is ready at once
        }
        for m in out {
            let encoded = m.encode().map_err(|e| e.to_string())?;
            conn.send(&encoded).await?;
        }
        if let Some(o) = step.outcome {
            break o;
        }
    };
    conn.close().await;
    match outcome {
        ClientOutcome::Installed { .. } | ClientOutcome::Deleted | ClientOutcome::Fetched => Ok(()),
        ClientOutcome::NothingToDo => Err("END_SESSION: nothing to do".into()),
        ClientOutcome::Refused { reason } => Err(format!("END_SESSION {reason:?}")),
        ClientOutcome::Aborted { text } => Err(format!("aborted: {text}")),
    }
}
