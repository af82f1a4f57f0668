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

//!
//! `trust_list` shows ITL/CTL files, `config` signed config files, `certs` certificates and
//! PKCS#12 bundles; `format` holds the hex and time formats they share.

mod certs;
mod config;
mod format;
mod trust_list;

use certs::{certificates, pkcs12};
use clap::{Args, ValueEnum};
use config::signed_config;
use cucmsim_core::pki::{Backend, Certificate};
use cucmsim_core::sgn::parse_signed_config;
use cucmsim_core::tlv::parse;
use cucmsim_core::tlv::tags::header as ht;
use serde_json::Value;
use std::path::{Path, PathBuf};
pub use trust_list::trust_list;

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
        Err(msg) if msg.starts_with("--trust ") => {
            eprintln!("cucmsim inspect: {msg}");
            2
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
