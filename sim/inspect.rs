//! `cucmsim inspect`: read a file a CUCM cluster serves or exports and show what is inside —
//! ITL/CTL in the layout of CUCM's `show itl` / `show ctl` (reference §1.8), `.sgn` config
//! files, PEM/DER certificates, PKCS#12 bundles — or one JSON object with `--json`.
//!
//! ```text
//!  bytes ─detect─► tlv::parse ─► verify_self ─► show-itl text | JSON     exit 0 / 1
//!              ├─► sgn::parse_signed_config (+ --trust) ─► header + config
//!              ├─► Certificate::from_pem / from_der
//!              └─► pkcs12::read_bundle (--password)
//!  unreadable / unparsable ─► one line naming the byte offset and what was expected, exit 2
//! ```

use clap::{Args, ValueEnum};
use cucmsim_core::digest::{md5_hex, sha1_hex};
use cucmsim_core::pkcs12::{read_bundle, Pkcs12Error};
use cucmsim_core::pki::{Backend, Certificate};
use cucmsim_core::sgn::{parse_signed_config, SignedConfig};
use cucmsim_core::tlv::content::{exceeds_phone_limit, ITL_MAX_CERTS};
use cucmsim_core::tlv::tags::{header as ht, record as rt};
use cucmsim_core::tlv::verify::{find_signer, record_key};
use cucmsim_core::tlv::{parse, Record, Role, TrustList};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `cucmsim inspect`.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The file: ITLFile.tlv, CTLFile.tlv, ITLSEP<MAC>.tlv, SEP<MAC>.cnf.xml.sgn, a PEM/DER
    /// certificate, or a PKCS#12 bundle (.p12/.pkcs12/.pfx).
    pub file: PathBuf,
    /// Print one JSON object instead of the `show itl`-style text.
    #[arg(long)]
    pub json: bool,
    /// Password of a PKCS#12 bundle.
    #[arg(long)]
    pub password: Option<String>,
    /// For `.sgn` files: an ITL/CTL or certificate holding the signer, to verify against.
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// What the file is, when the name and content do not tell.
    #[arg(long, value_enum, default_value_t = Kind::Auto)]
    pub kind: Kind,
    /// Crypto backend for verification (both give the same answer).
    #[arg(long, value_enum, default_value_t = BackendArg::Ring)]
    pub backend: BackendArg,
}

/// File kinds `inspect` understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Auto,
    Tlv,
    Sgn,
    Cert,
    Pkcs12,
}

/// `--backend` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    Ring,
    Rustcrypto,
}

impl From<BackendArg> for Backend {
    fn from(b: BackendArg) -> Backend {
        match b {
            BackendArg::Ring => Backend::Ring,
            BackendArg::Rustcrypto => Backend::RustCrypto,
        }
    }
}

/// What inspecting produced: the text or JSON to print and the exit code.
pub struct Outcome {
    pub text: String,
    pub json: Value,
    pub code: u8,
}

/// Runs `inspect`, printing to stdout/stderr, and returns the exit code.
pub fn run(args: &InspectArgs) -> u8 {
    match inspect_file(args) {
        Ok(out) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&out.json).unwrap_or_default()
                );
            } else {
                print!("{}", out.text);
            }
            out.code
        }
        Err(msg) => {
            eprintln!("cucmsim inspect: {}: {msg}", args.file.display());
            2
        }
    }
}

/// Reads and inspects the file; `Err` is a one-line reason for exit code 2.
pub fn inspect_file(args: &InspectArgs) -> Result<Outcome, String> {
    let bytes = std::fs::read(&args.file).map_err(|e| format!("cannot read: {e}"))?;
    let backend = Backend::from(args.backend);
    match detect(&args.file, &bytes, args.kind) {
        Kind::Tlv => {
            let list = parse(&bytes).map_err(|e| e.to_string())?;
            Ok(trust_list(&list, backend))
        }
        Kind::Sgn => {
            let cfg = parse_signed_config(&bytes).map_err(|e| e.to_string())?;
            signed_config(&cfg, args.trust.as_deref(), backend)
        }
        Kind::Pkcs12 => pkcs12(&bytes, args.password.as_deref().unwrap_or("")),
        Kind::Cert | Kind::Auto => certificates(&bytes, backend),
    }
}

fn detect(path: &Path, bytes: &[u8], forced: Kind) -> Kind {
    if forced != Kind::Auto {
        return forced;
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if name.ends_with(".p12") || name.ends_with(".pkcs12") || name.ends_with(".pfx") {
        return Kind::Pkcs12;
    }
    if bytes.starts_with(&[ht::VERSION, 0, 2]) {
        return if name.ends_with(".sgn") {
            Kind::Sgn
        } else {
            Kind::Tlv
        };
    }
    if name.ends_with(".tlv") {
        return Kind::Tlv;
    }
    if name.ends_with(".sgn") {
        return Kind::Sgn;
    }
    if bytes.first() == Some(&0x30) && Certificate::from_der(bytes).is_err() {
        return Kind::Pkcs12;
    }
    Kind::Cert
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn spaced_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn ctime(ts: i64) -> String {
    let fmt = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day] [hour]:[minute]:[second] UTC [year]"
    );
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_else(|| ts.to_string())
}

fn row(out: &mut String, tag: u8, name: &str, len: impl std::fmt::Display, value: &str) {
    // Cisco's `show ctl` separates the columns with tabs.
    let _ = writeln!(out, "{tag}\t{name}\t{len}\t{value}");
}

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
    let upper = kind.to_uppercase();
    let verdict = list.verify_self(backend);
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
    let cert_count = list
        .records
        .iter()
        .filter(|r| r.certificate.is_some())
        .count();
    let over_limit = kind == "itl" && exceeds_phone_limit(list.raw.len(), cert_count);
    if over_limit {
        let _ = writeln!(
            out,
            "WARNING: {cert_count} certificates, {} bytes: over the phone's {ITL_MAX_CERTS}-certificate / 64 KB ITL limit; registration fails (F9).",
            list.raw.len()
        );
    }
    match &verdict {
        Ok(_) => {
            let _ = writeln!(out, "The {upper} file was verified successfully.");
        }
        Err(e) => {
            let _ = writeln!(out, "The {upper} file could not be verified: {e}.");
        }
    }
    let h = &list.header;
    let json = json!({
        "kind": kind,
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
    });
    Outcome {
        text: out,
        json,
        code: if verdict.is_ok() { 0 } else { 1 },
    }
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

fn signed_config(
    cfg: &SignedConfig,
    trust: Option<&Path>,
    backend: Backend,
) -> Result<Outcome, String> {
    let h = &cfg.header;
    let verdict: Result<String, String> = match trust {
        None => Err(
            "signature not checked: give --trust ITLFile.tlv (or the signer's certificate)".into(),
        ),
        Some(path) => verify_sgn(cfg, path, backend)?,
    };
    let config = cfg.config();
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
    match &config {
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

fn read_certs(bytes: &[u8]) -> Result<Vec<Certificate>, String> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if text.contains("-----BEGIN") {
            let blocks = ::pem::parse_many(text).map_err(|e| format!("PEM: {e}"))?;
            let certs = blocks
                .iter()
                .filter(|b| b.tag() == "CERTIFICATE")
                .map(|b| Certificate::from_der(b.contents()).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()?;
            if certs.is_empty() {
                return Err("no CERTIFICATE block in the PEM file".into());
            }
            return Ok(certs);
        }
    }
    Certificate::from_der(bytes).map(|c| vec![c]).map_err(|e| {
        format!("not an ITL/CTL (starts 01 00 02), PEM, DER certificate or PKCS#12 bundle: {e}")
    })
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

fn certificates(bytes: &[u8], backend: Backend) -> Result<Outcome, String> {
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

fn pkcs12(bytes: &[u8], password: &str) -> Result<Outcome, String> {
    let bundle = match read_bundle(bytes, password) {
        Ok(b) => b,
        Err(Pkcs12Error::BadPassword) => {
            let msg = "wrong password or corrupted bundle (MAC check failed); give --password";
            return Ok(Outcome {
                text: format!("PKCS#12 bundle: {msg}\n"),
                json: json!({"kind": "pkcs12", "mac_valid": false, "error": msg}),
                code: 1,
            });
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
