//! Signed configuration files (`SEP<MAC>.cnf.xml.sgn`): the signature header, the device's
//! security settings from the payload, and the signature checked against `--trust` (an ITL/CTL
//! whose SAST/TFTP/CCM+TFTP record holds the signer, or the signer's certificate).
//!
//! ```text
//!  SignedConfig ──verify_sgn(--trust)──► "verified with <record or subject>" | why not
//!               ──text / json──► header, device, security mode, TVS and CAPF addresses
//! ```

use super::certs::read_certs;
use super::format::{colon_hex, ctime};
use super::Outcome;
use cucmsim_core::digest::{md5_hex, sha1_hex};
use cucmsim_core::pki::Backend;
use cucmsim_core::sgn::{PhoneConfig, SignedConfig};
use cucmsim_core::tlv::tags::header as ht;
use cucmsim_core::tlv::verify::{find_signer, record_key};
use cucmsim_core::tlv::{parse, Role};
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

pub(super) fn signed_config(
    cfg: &SignedConfig,
    trust: Option<&Path>,
    backend: Backend,
) -> Result<Outcome, String> {
    let h = &cfg.header;
    let verdict: Result<String, String> = match trust {
        None => Err(
            "signature not checked: give --trust ITLFile.tlv (or the signer's certificate)".into(),
        ),
        Some(path) => verify_sgn(cfg, path, backend).map_err(|e| {
            let shown = format!("--trust {}", path.display());
            if e.starts_with(&shown) {
                e
            } else {
                format!("{shown}: {e}")
            }
        })?,
    };
    let config = cfg.config();
    let mut out = header_text(cfg);
    config_text(&config, &mut out);
    match &verdict {
        Ok(who) => {
            let _ = writeln!(out, "The signed file was verified successfully with {who}.");
        }
        Err(e) => {
            let _ = writeln!(out, "The signed file could not be verified: {e}.");
        }
    }
    let json = json!({
        "kind": "sgn",
        "version": format!("{}.{}", h.version.0, h.version.1),
        "header_length": h.header_length,
        "length": cfg.raw.len(),
        "checksum": {"md5": md5_hex(&cfg.raw), "sha1": sha1_hex(&cfg.raw)},
        "signer": {"name": h.signer_name, "serial": h.signer_serial.as_deref().map(hex::encode), "issuer": h.signer_issuer},
        "digest": h.digest().map(|d| d.name()),
        "filename": h.filename,
        "timestamp": h.timestamp,
        "config": config.as_ref().ok(),
        "config_error": config.as_ref().err(),
        "signature_valid": verdict.is_ok(),
        "verify_error": verdict.as_ref().err(),
    });
    Ok(Outcome {
        text: out,
        json,
        code: if verdict.is_ok() { 0 } else { 1 },
    })
}

/// The signature header: file, checksums, version, signer, digest, timestamp.
fn header_text(cfg: &SignedConfig) -> String {
    let h = &cfg.header;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Signed file {} ({} bytes)",
        h.filename.as_deref().unwrap_or("?"),
        cfg.raw.len()
    );
    let _ = writeln!(
        out,
        "{}(MD5)\n{}(SHA1)",
        md5_hex(&cfg.raw),
        sha1_hex(&cfg.raw)
    );
    let _ = writeln!(
        out,
        "Version:        {}.{}\nHeaderLength:   {} (BYTES)",
        h.version.0, h.version.1, h.header_length
    );
    let _ = writeln!(
        out,
        "Signer:         {}",
        h.signer_name.as_deref().unwrap_or("?")
    );
    let _ = writeln!(
        out,
        "Serial:         {}",
        colon_hex(h.signer_serial.as_deref().unwrap_or_default())
    );
    let _ = writeln!(
        out,
        "Issuer:         {}",
        h.signer_issuer.as_deref().unwrap_or("?")
    );
    let _ = writeln!(
        out,
        "Digest:         {}",
        h.digest().map(|d| d.name()).unwrap_or("?")
    );
    if let Some(ts) = h.timestamp {
        let _ = writeln!(out, "Timestamp:      {}", ctime(ts as i64));
    }
    out
}

/// The device's security settings read from the payload (or why it is not readable).
fn config_text(config: &Result<PhoneConfig, String>, out: &mut String) {
    match config {
        Ok(c) => {
            let _ = writeln!(out, "Device:         {}", c.device_name);
            let _ = writeln!(
                out,
                "Security mode:  {:?} ({})",
                c.security_mode,
                c.security_mode.code()
            );
            let _ = writeln!(
                out,
                "capfAuthMode:   {:?} ({})",
                c.capf_auth_mode,
                c.capf_auth_mode.code()
            );
            for (i, t) in c.tvs.iter().enumerate() {
                let _ = writeln!(out, "TVS {i}:          {}:{}", t.address, t.port);
            }
            for (i, t) in c.capf.iter().enumerate() {
                let _ = writeln!(out, "CAPF {i}:         {}:{}", t.address, t.port);
            }
        }
        Err(e) => {
            let _ = writeln!(out, "Payload:        not a readable config ({e})");
        }
    }
}

/// Verifies a `.sgn` against a trust file: an ITL/CTL (signer looked up among its SAST, TFTP
/// and CCM+TFTP records) or a certificate. `Err` of the outer result is unreadable input.
fn verify_sgn(
    cfg: &SignedConfig,
    path: &Path,
    backend: Backend,
) -> Result<Result<String, String>, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read --trust {}: {e}", path.display()))?;
    if bytes.starts_with(&[ht::VERSION, 0, 2]) {
        let list = parse(&bytes).map_err(|e| format!("--trust {}: {e}", path.display()))?;
        let roles = [Role::Sast, Role::Tftp, Role::CcmTftp];
        let Some(rec) = find_signer(&cfg.header, &list.records, &roles) else {
            return Ok(Err(format!(
                "no SAST/TFTP/CCM+TFTP record of {} matches the signer",
                path.display()
            )));
        };
        let key = record_key(rec).map_err(|e| e.to_string())?;
        return Ok(cfg
            .verify_with(&key, backend)
            .map(|_| {
                format!(
                    "{} record {}",
                    path.display(),
                    rec.subject.as_deref().unwrap_or("?")
                )
            })
            .map_err(|e| e.to_string()));
    }
    let cert = read_certs(&bytes)?
        .into_iter()
        .next()
        .ok_or("no certificate in --trust file")?;
    let key = cert
        .public_key()
        .ok_or("--trust certificate has an unsupported key")?;
    Ok(cfg
        .verify_with(key, backend)
        .map(|_| cert.subject().to_cucm())
        .map_err(|e| e.to_string()))
}
