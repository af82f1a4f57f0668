//! Certificates (PEM or DER, one or many) and PKCS#12 bundles: subject, issuer, serial,
//! validity, key, fingerprints, and whether a self-signed certificate's signature verifies.
//!
//! ```text
//!  bytes ──read_certs──► Vec<Certificate> ──text / json──► one block per certificate
//!  .p12 + --password ──read_bundle──► key + certificate chain ──text / json──►
//! ```

use super::format::colon_hex;
use super::Outcome;
use cucmsim_core::pkcs12::{read_bundle, Pkcs12Error};
use cucmsim_core::pki::{Backend, Certificate};
use serde_json::{json, Value};
use std::fmt::Write as _;

pub(super) fn read_certs(bytes: &[u8]) -> Result<Vec<Certificate>, String> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if text.contains("-----BEGIN") {
            let blocks = ::pem::parse_many(text).map_err(|e| format!("PEM: {e}"))?;
            let certs = blocks
                .iter()
                .filter(|b| b.tag() == "CERTIFICATE")
                .map(|b| Certificate::from_der(b.contents()).map_err(plain))
                .collect::<Result<Vec<_>, _>>()?;
            if certs.is_empty() {
                return Err("no CERTIFICATE block in the PEM file".into());
            }
            return Ok(certs);
        }
    }
    Certificate::from_der(bytes).map(|c| vec![c]).map_err(|e| {
        format!(
            "not an ITL/CTL (starts 01 00 02), PEM, DER certificate or PKCS#12 bundle: {}",
            plain(e)
        )
    })
}

/// A certificate parser's error in words: the DER and nom parsers' debug forms
/// (`NomError(Eof)`, `Der(UnexpectedTag { … })`) become what they mean.
pub(super) fn plain(e: impl std::fmt::Display) -> String {
    let text = e.to_string();
    if text.contains("Eof") || text.contains("Incomplete") {
        "the DER data ends too early (a truncated or non-DER file)".into()
    } else if text.contains("UnexpectedTag") || text.contains("InvalidTag") {
        "an unexpected DER element where an X.509 certificate field belongs".into()
    } else if text.contains("NomError(") || text.contains("Der(") || text.contains('{') {
        "not a valid DER-encoded X.509 certificate".into()
    } else {
        text
    }
}

fn cert_json(c: &Certificate) -> Value {
    let i = c.info();
    json!({
        "subject": c.subject().to_cucm(),
        "issuer": c.issuer().to_cucm(),
        "serial": c.serial_hex(),
        "not_before": i.not_before.to_string(),
        "not_after": i.not_after.to_string(),
        "key": i.public_key.as_ref().map(|k| k.profile().name()),
        "ca": i.ca.is_some(),
        "key_usage": i.key_usage,
        "extended_key_usage": i.ext_key_usage,
        "san_dns": i.san_dns,
        "sha1": c.sha1_hex(),
        "length": c.der().len(),
    })
}

fn cert_text(c: &Certificate, out: &mut String) {
    let i = c.info();
    let _ = writeln!(out, "Subject:      {}", c.subject());
    let _ = writeln!(out, "Issuer:       {}", c.issuer());
    let _ = writeln!(out, "Serial:       {}", colon_hex(c.serial()));
    let _ = writeln!(out, "Validity:     {} to {}", i.not_before, i.not_after);
    let _ = writeln!(
        out,
        "Key:          {}",
        i.public_key
            .as_ref()
            .map(|k| k.profile().name())
            .unwrap_or("unsupported".into())
    );
    let _ = writeln!(
        out,
        "CA:           {}",
        match i.ca {
            Some(Some(n)) => format!("TRUE, pathlen:{n}"),
            Some(None) => "TRUE".into(),
            None => "FALSE".into(),
        }
    );
    let _ = writeln!(out, "Key usage:    {:?}", i.key_usage);
    let _ = writeln!(out, "Ext. usage:   {:?}", i.ext_key_usage);
    let _ = writeln!(out, "SHA1:         {}", c.sha1_hex());
}

pub(super) fn certificates(bytes: &[u8], backend: Backend) -> Result<Outcome, String> {
    let certs = read_certs(bytes)?;
    let mut out = String::new();
    let mut bad = vec![];
    for (n, c) in certs.iter().enumerate() {
        let _ = writeln!(out, "Certificate #{}\n----", n + 1);
        cert_text(c, &mut out);
        if c.is_self_issued() {
            let ok = c
                .public_key()
                .is_some_and(|k| c.check_signed_by(k, backend).is_ok());
            let _ = writeln!(
                out,
                "Self-signature: {}",
                if ok { "valid" } else { "INVALID" }
            );
            if !ok {
                bad.push(n + 1);
            }
        }
    }
    let json = json!({
        "kind": "certificate",
        "certificates": certs.iter().map(cert_json).collect::<Vec<_>>(),
        "signature_valid": bad.is_empty(),
    });
    Ok(Outcome {
        text: out,
        json,
        code: if bad.is_empty() { 0 } else { 1 },
    })
}

pub(super) fn pkcs12(bytes: &[u8], password: &str) -> Result<Outcome, String> {
    let bundle = match read_bundle(bytes, password) {
        Ok(b) => b,
        Err(Pkcs12Error::BadPassword) => {
            return Err(
                "wrong password or corrupted PKCS#12 bundle (MAC check failed): give the right --password"
                    .into(),
            );
        }
        Err(e) => return Err(e.to_string()),
    };
    let mut out = format!(
        "PKCS#12 bundle: {} certificate entries, private key: {}\n",
        bundle.certificates.len(),
        if bundle.key.is_some() { "yes" } else { "no" }
    );
    for (alias, c) in &bundle.certificates {
        let _ = writeln!(out, "Entry {alias:?}\n----");
        cert_text(c, &mut out);
    }
    if let Some((alias, _, chain)) = &bundle.key {
        let _ = writeln!(
            out,
            "Key entry {alias:?} with {} chain certificates",
            chain.len()
        );
        for c in chain {
            cert_text(c, &mut out);
        }
    }
    let json = json!({
        "kind": "pkcs12",
        "mac_valid": true,
        "certificates": bundle.certificates.iter().map(|(a, c)| json!({"alias": a, "certificate": cert_json(c)})).collect::<Vec<_>>(),
        "private_key": bundle.key.as_ref().map(|(a, _, chain)| json!({"alias": a, "chain": chain.iter().map(cert_json).collect::<Vec<_>>()})),
    });
    Ok(Outcome {
        text: out,
        json,
        code: 0,
    })
}
