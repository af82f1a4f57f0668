//! The RSA backend as a user picks it (`--rsa-backend`, `CUCMSIM_RSA`): every backend gives the
//! same trace hash and verdicts on bundled scenarios (PKCS#1 v1.5 is deterministic), the report
//! names the backend, and a bad name is refused with exit 2.

use serde_json::Value;
use std::process::Command;

/// `cucmsim run FILE --json` with `CUCMSIM_RSA` set to `env` (or unset) and `flag` before
/// the subcommand; exit code and report.
fn run(file: &str, env: Option<&str>, flag: Option<&str>) -> (i32, Value) {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cucmsim"));
    cmd.env_remove("CUCMSIM_RSA");
    if let Some(v) = env {
        cmd.env("CUCMSIM_RSA", v);
    }
    if let Some(b) = flag {
        cmd.args(["--rsa-backend", b]);
    }
    let out = cmd
        .args(["run", file, "--json", "--quiet", "--force", "--out"])
        .arg(out_dir.path())
        .output()
        .expect("run cucmsim");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

#[test]
fn every_backend_gives_the_same_trace_hash() {
    // F10: an RSA-1024 ITLRecovery signer, SHA-1 files. F28: SHA-512 file signatures.
    let f10 = "scenarios/catalogue/f10_itlrecovery_1024_bits.toml";
    let (code, reference) = run(f10, None, None);
    assert_eq!(code, 0);
    assert_eq!(reference["rsa_backend"], "aws-lc", "the default");
    let hash = &reference["trace_hash"];
    for (env, flag, name) in [
        (None, Some("ring"), "ring"),
        (Some("rsa"), None, "rsa"),
        (Some("ring"), Some("aws-lc"), "aws-lc"),
    ] {
        let (c, r) = run(f10, env, flag);
        assert_eq!((c, &r["rsa_backend"]), (code, &Value::from(name)));
        assert_eq!(&r["trace_hash"], hash, "{name}");
        assert_eq!(r["expectations"], reference["expectations"], "{name}");
    }
    let f28 = "scenarios/catalogue/f28_sha512_file_signature.toml";
    let (code, fast) = run(f28, None, Some("aws-lc"));
    let (c, pure) = run(f28, None, Some("rsa"));
    assert_eq!((code, c), (0, 0));
    assert_eq!(fast["trace_hash"], pure["trace_hash"]);
    let cache = &fast["signature_cache"];
    assert!(cache["misses"].as_u64().unwrap() > 0, "{cache}");
}

#[test]
fn a_bad_backend_name_is_refused_with_exit_2() {
    let check = |env: Option<&str>, flag: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cucmsim"));
        cmd.env_remove("CUCMSIM_RSA");
        if let Some(v) = env {
            cmd.env("CUCMSIM_RSA", v);
        }
        if let Some(b) = flag {
            cmd.args(["--rsa-backend", b]);
        }
        let out = cmd
            .args(["check", "scenarios/default.toml"])
            .output()
            .expect("run cucmsim");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = check(Some("openssl"), None);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("CUCMSIM_RSA") && err.contains("aws-lc, ring or rsa"),
        "{err}"
    );
    let (code, err) = check(None, Some("openssl"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("aws-lc, ring or rsa"), "{err}");
    // The flag wins over the variable.
    let (code, err) = check(Some("openssl"), Some("rsa"));
    assert_eq!(code, 0, "{err}");
}
