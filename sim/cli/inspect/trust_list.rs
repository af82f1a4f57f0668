//! ITL and CTL files as CUCM's `show itl` / `show ctl` print them (reference §1.8): the
//! checksums, the header's tags, each record's tags, which record signed the file and whether
//! the signature verifies; or the same as one JSON object.
//!
//! ```text
//!  TrustList ──verify_self──► signer record (or why not)
//!            ──text──► "The checksum value of the ITL file: …  Parse ITL File …  ITL Record #:1 …"
//!            ──json──► {"kind": "itl", "signer": …, "records": […], "signature_valid": …}
//! ```

use super::format::{colon_hex, ctime, row, spaced_hex};
use super::Outcome;
use cucmsim_core::digest::{md5_hex, sha1_hex};
use cucmsim_core::pki::Backend;
use cucmsim_core::tlv::content::{exceeds_phone_limit, ITL_MAX_CERTS};
use cucmsim_core::tlv::tags::{header as ht, record as rt};
use cucmsim_core::tlv::{Record, Role, TrustList};
use serde_json::{json, Value};
use std::fmt::Write as _;

fn header_text(list: &TrustList, out: &mut String) {
    let h = &list.header;
    let _ = writeln!(out, "Version:        {}.{}", h.version.0, h.version.1);
    let _ = writeln!(out, "HeaderLength:   {} (BYTES)", h.header_length);
    let _ = writeln!(
        out,
        "BYTEPOS\tTAG\tLENGTH\tVALUE\n-------\t---\t------\t-----"
    );
    for &(tag, len) in h.tag_order.iter().skip(2) {
        let name = ht::name(tag);
        let value = match tag {
            ht::SIGNER_NAME => h.signer_name.clone().unwrap_or_default(),
            ht::SERIAL_NUMBER => colon_hex(h.signer_serial.as_deref().unwrap_or_default()),
            ht::CA_NAME => h.signer_issuer.clone().unwrap_or_default(),
            ht::DIGEST_ALGORITHM => h
                .digest()
                .map(|d| d.name().to_uppercase())
                .unwrap_or_else(|| "?".into()),
            ht::SIGNATURE => h
                .signature
                .as_deref()
                .map(|s| format!("{} ...", spaced_hex(&s[..s.len().min(8)])))
                .unwrap_or_default(),
            ht::FILENAME => h.filename.clone().unwrap_or_default(),
            ht::TIMESTAMP => h.timestamp.map(|t| ctime(t as i64)).unwrap_or_default(),
            ht::SIGNER_VERSION => h
                .signer_version
                .map(|(a, b)| format!("{a}.{b}"))
                .unwrap_or_default(),
            ht::SIGNATURE_ALGORITHM => match h.signature_algorithm {
                Some(0) => "RSA".into(),
                Some(1) => "ECDSA-P256 (cucmsim extension)".into(),
                Some(n) => n.to_string(),
                None => String::new(),
            },
            ht::SIGNATURE_MODULUS => h
                .modulus_index
                .and_then(|i| cucmsim_core::tlv::tags::MODULUS_BYTES.get(i as usize))
                .map(|b| format!("{} bits", b * 8))
                .unwrap_or_default(),
            _ => String::new(),
        };
        if ht::is_container(tag) {
            row(out, tag, name, 2, &len.to_string());
        } else {
            row(out, tag, name, len, &value);
        }
    }
    for u in &h.unknown {
        let _ = writeln!(
            out,
            "UNKNOWN TAG {} at byte {} ({} bytes)",
            u.tag,
            u.offset,
            u.value.len()
        );
    }
}

fn record_text(rec: &Record, out: &mut String) {
    let _ = writeln!(
        out,
        "BYTEPOS\tTAG\tLENGTH\tVALUE\n-------\t---\t------\t-----"
    );
    for &(tag, len) in &rec.tag_order {
        let value = match tag {
            rt::RECORD_LENGTH => rec.length.to_string(),
            rt::DNS_NAME => rec.dns_name.clone().unwrap_or_default(),
            rt::SUBJECT_NAME => rec.subject.clone().unwrap_or_default(),
            rt::FUNCTION => rec.role.map(Role::show_text).unwrap_or_default(),
            rt::ISSUER_NAME => rec.issuer.clone().unwrap_or_default(),
            rt::SERIAL_NUMBER => colon_hex(rec.serial.as_deref().unwrap_or_default()),
            rt::CERTIFICATE => rec
                .certificate
                .as_deref()
                .map(|c| {
                    format!(
                        "{} (SHA1 Hash HEX)",
                        spaced_hex(&hex::decode(sha1_hex(c)).unwrap_or_default())
                    )
                })
                .unwrap_or_default(),
            rt::IP_ADDRESS => rec.ip.map(|ip| ip.to_string()).unwrap_or_default(),
            rt::CERT_HASH => rec.cert_hash.as_deref().map(spaced_hex).unwrap_or_default(),
            rt::HASH_ALGORITHM => rec
                .hash_algorithm
                .map(|c| c.to_string())
                .unwrap_or_default(),
            _ => String::new(),
        };
        row(out, tag, rt::name(tag), len, &value);
    }
    for u in &rec.unknown {
        let _ = writeln!(
            out,
            "UNKNOWN TAG {} at byte {} ({} bytes)",
            u.tag,
            u.offset,
            u.value.len()
        );
    }
}

/// The `show itl` / `show ctl` view and the JSON object of a trust list.
pub fn trust_list(list: &TrustList, backend: Backend) -> Outcome {
    let kind = list.kind();
    let verdict = list.verify_self(backend);
    let cert_count = list
        .records
        .iter()
        .filter(|r| r.certificate.is_some())
        .count();
    let over_limit = kind == "itl" && exceeds_phone_limit(list.raw.len(), cert_count);
    let out = text(list, &verdict, cert_count, over_limit);
    let json = json(list, &verdict, cert_count, over_limit);
    Outcome {
        text: out,
        json,
        code: if verdict.is_ok() { 0 } else { 1 },
    }
}

/// The `show itl` text: checksums, header, records (marking the signer's), the verdict.
fn text<E: std::fmt::Display>(
    list: &TrustList,
    verdict: &Result<usize, E>,
    cert_count: usize,
    over_limit: bool,
) -> String {
    let upper = list.kind().to_uppercase();
    let mut out = String::new();
    let _ = writeln!(out, "The checksum value of the {upper} file:");
    let _ = writeln!(
        out,
        "{}(MD5)\n{}(SHA1)",
        md5_hex(&list.raw),
        sha1_hex(&list.raw)
    );
    let _ = writeln!(out, "Length of {upper} file: {}", list.raw.len());
    if let Some(ts) = list.header.timestamp {
        let _ = writeln!(
            out,
            "The {upper} File was last modified on {}",
            ctime(ts as i64)
        );
    }
    let _ = writeln!(out, "Parse {upper} File\n----------------");
    header_text(list, &mut out);
    for (i, rec) in list.records.iter().enumerate() {
        let _ = writeln!(out, "{upper} Record #:{}\n----", i + 1);
        record_text(rec, &mut out);
        if verdict.as_ref().ok() == Some(&i) {
            let _ = writeln!(out, "This etoken was used to sign the {upper} file.");
        }
    }
    if over_limit {
        let _ = writeln!(
            out,
            "WARNING: {cert_count} certificates, {} bytes: over the phone's {ITL_MAX_CERTS}-certificate / 64 KB ITL limit; registration fails (F9).",
            list.raw.len()
        );
    }
    match verdict {
        Ok(_) => {
            let _ = writeln!(out, "The {upper} file was verified successfully.");
        }
        Err(e) => {
            let _ = writeln!(out, "The {upper} file could not be verified: {e}.");
        }
    }
    out
}

/// The JSON object of a trust list.
fn json<E: std::fmt::Display>(
    list: &TrustList,
    verdict: &Result<usize, E>,
    cert_count: usize,
    over_limit: bool,
) -> Value {
    let h = &list.header;
    json!({
        "kind": list.kind(),
        "version": format!("{}.{}", h.version.0, h.version.1),
        "header_length": h.header_length,
        "length": list.raw.len(),
        "checksum": {"md5": md5_hex(&list.raw), "sha1": sha1_hex(&list.raw)},
        "signer": {
            "name": h.signer_name,
            "serial": h.signer_serial.as_deref().map(hex::encode),
            "issuer": h.signer_issuer,
        },
        "digest": h.digest().map(|d| d.name()),
        "signature_algorithm": h.signature_algorithm,
        "filename": h.filename,
        "timestamp": h.timestamp,
        "signer_version": h.signer_version.map(|(a, b)| format!("{a}.{b}")),
        "records": list.records.iter().map(record_json).collect::<Vec<_>>(),
        "unknown_tags": h.unknown.iter().map(|u| json!({"tag": u.tag, "offset": u.offset, "length": u.value.len()})).collect::<Vec<_>>(),
        "certificates": cert_count,
        "phone_limit_exceeded": over_limit,
        "signature_valid": verdict.is_ok(),
        "signer_record": verdict.as_ref().ok().map(|i| i + 1),
        "verify_error": verdict.as_ref().err().map(|e| e.to_string()),
    })
}

fn record_json(rec: &Record) -> Value {
    json!({
        "length": rec.length,
        "dns_name": rec.dns_name,
        "subject": rec.subject,
        "role": rec.role,
        "issuer": rec.issuer,
        "serial": rec.serial.as_deref().map(hex::encode),
        "ip_address": rec.ip.map(|ip| ip.to_string()),
        "certificate_sha1": rec.certificate.as_deref().map(sha1_hex),
        "public_key_length": rec.public_key.as_ref().map(Vec::len),
        "has_signature": rec.signature.is_some(),
        "blank": rec.is_blank(),
        "unknown_tags": rec.unknown.iter().map(|u| json!({"tag": u.tag, "offset": u.offset, "length": u.value.len()})).collect::<Vec<_>>(),
    })
}
