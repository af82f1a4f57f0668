//! `cucmsim inspect` and `cucmsim pki demo` as a user runs them: output, JSON shape, exit codes.

use super::support::{demo_dir, run, scratch, vector_path};
use serde_json::Value;

fn json(args: &[&str]) -> (i32, Value) {
    let (code, stdout, stderr) = run(args);
    let value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}{stderr}"));
    (code, value)
}

#[test]
fn inspect_vector_json_has_every_documented_field() {
    let path = vector_path();
    let (code, v) = json(&["inspect", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    assert_eq!(v["kind"], "itl");
    assert_eq!(v["version"], "1.2");
    assert_eq!(v["header_length"], 404);
    assert_eq!(v["signer"]["name"], "CN=ITLRECOVERY_pub;OU=TAC;O=Lab");
    assert_eq!(v["signer"]["serial"], "70caf64e090751b9df22f49f754fc5bb");
    assert_eq!(v["signer"]["issuer"], "CN=ITLRECOVERY_pub;OU=TAC;O=Lab");
    assert_eq!(v["digest"], "sha1");
    assert_eq!(v["filename"], "ITLFile.tlv");
    assert_eq!(v["timestamp"], 1_700_000_000u64);
    assert_eq!(v["signature_valid"], true);
    let records = v["records"].as_array().unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["length"], 1412);
    assert_eq!(records[0]["dns_name"], "pub.lab");
    assert_eq!(records[0]["role"], "SAST");
    assert_eq!(records[1]["role"], "CCM+TFTP");
    assert_eq!(records[1]["subject"], "CN=pub.lab;OU=TAC;O=Lab");
    assert_eq!(records[1]["serial"], "1234567890abcdef1234567890abcdef");
    assert_eq!(
        records[0]["certificate_sha1"],
        "5cc5ca63af723d566d76061425d59aecf442826c"
    );
    assert!(records[0]["issuer"].is_string());
}

#[test]
fn inspect_vector_text_looks_like_show_itl() {
    let path = vector_path();
    let (code, text, _) = run(&["inspect", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(text.contains("(MD5)") && text.contains("(SHA1)"), "{text}");
    assert!(text.contains("Length of ITL file: 4576"));
    assert!(text.contains("HeaderLength:   404 (BYTES)"));
    assert!(text.contains("ITL Record #:3"));
    assert!(text.contains("System Administrator Security Token"));
    assert!(text.contains("This etoken was used to sign the ITL file."));
    assert!(text.contains("The ITL file was verified successfully."));
}

#[test]
fn inspect_exit_codes() {
    let vector = std::fs::read(vector_path()).unwrap();
    // A flipped signature byte: parses, does not verify → 1.
    let mut bad_sig = vector.clone();
    bad_sig[200] ^= 0x40;
    let (_g1, p1) = scratch("ITLFile.tlv", &bad_sig);
    let (code, v) = json(&["inspect", p1.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    assert_eq!(v["signature_valid"], false);
    // Truncated: cannot parse → 2 with the byte offset named.
    let (_g2, p2) = scratch("ITLFile.tlv", &vector[..1000]);
    let (code, stdout, stderr) = run(&["inspect", p2.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.contains("at byte") && stderr.contains("expected"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // Missing file and garbage → 2.
    assert_eq!(run(&["inspect", "/nonexistent/ITLFile.tlv"]).0, 2);
    let (_g3, p3) = scratch("thing.bin", b"hello world, not a certificate");
    assert_eq!(run(&["inspect", p3.to_str().unwrap()]).0, 2);
    // Bad arguments → 2.
    assert_eq!(run(&["inspect"]).0, 2);
    assert_eq!(run(&["frobnicate"]).0, 2);
}

#[test]
fn inspect_never_panics_on_mangled_files() {
    let vector = std::fs::read(vector_path()).unwrap();
    for cut in [0usize, 1, 2, 5, 9, 10, 100, 403, 404, 405, 1816, 4575] {
        let (_g, p) = scratch("ITLFile.tlv", &vector[..cut]);
        let (code, _, stderr) = run(&["inspect", p.to_str().unwrap()]);
        assert!(code == 1 || code == 2, "cut {cut}: {code}");
        assert!(!stderr.contains("panicked"), "cut {cut}: {stderr}");
    }
}

#[test]
fn demo_files_all_inspect_cleanly() {
    let dir = demo_dir();
    for host in ["CUCMPUB", "CUCMSUB"] {
        let itl = dir.join("tftp").join(host).join("ITLFile.tlv");
        let (code, v) = json(&["inspect", itl.to_str().unwrap(), "--json"]);
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["digest"], "sha1", "CUCM's default file digest");
        let roles: Vec<&str> = v["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["SAST", "SAST", "CCM+TFTP", "TVS", "TVS", "CAPF"]);
        let ctl = dir.join("tftp").join(host).join("CTLFile.tlv");
        let (code, v) = json(&["inspect", ctl.to_str().unwrap(), "--json"]);
        assert_eq!((code, v["kind"].as_str()), (0, Some("ctl")));
        let sgn = dir
            .join("tftp")
            .join(host)
            .join("SEPB000B4BA0AEE.cnf.xml.sgn");
        let (code, v) = json(&[
            "inspect",
            sgn.to_str().unwrap(),
            "--json",
            "--trust",
            itl.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["config"]["tvs"].as_array().unwrap().len(), 2);
        // Without a trust file the signature cannot be checked: parsed, not verified.
        assert_eq!(run(&["inspect", sgn.to_str().unwrap()]).0, 1);
    }
    let rollback = dir.join("rollback/ITLFile.tlv");
    let (code, v) = json(&["inspect", rollback.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    assert!(v["records"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["blank"] == true && r["role"] == "TVS"));
    let pem = dir.join("certs/CUCMPUB/CAPF.pem");
    let (code, v) = json(&["inspect", pem.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    assert!(v["certificates"][0]["subject"]
        .as_str()
        .unwrap()
        .starts_with("CN=CAPF-"));
}

#[test]
fn demo_pkcs12_needs_its_password() {
    let dir = demo_dir();
    let p12 = dir.join("sftp/CUCMPUB_tomcat.pkcs12");
    let (code, v) = json(&[
        "inspect",
        p12.to_str().unwrap(),
        "--json",
        "--password",
        "cucmsim",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["certificates"].as_array().unwrap().len(), 1);
    assert!(v["certificates"][0]["certificate"]["subject"]
        .as_str()
        .unwrap()
        .starts_with("CN=CUCMPUB.lab.local"));
    let (code, out, err) = run(&[
        "inspect",
        p12.to_str().unwrap(),
        "--json",
        "--password",
        "wrong",
    ]);
    assert_eq!(code, 2, "a wrong password is bad input: {out}{err}");
    assert!(out.is_empty() && err.contains("wrong password"), "{err}");
    let recovery = dir.join("tftp/CUCMPUB/ITLRecovery.p12");
    let (code, v) = json(&[
        "inspect",
        recovery.to_str().unwrap(),
        "--json",
        "--password",
        "cucmsim",
    ]);
    assert_eq!(code, 0);
    assert!(v["private_key"]["chain"][0]["subject"]
        .as_str()
        .unwrap()
        .starts_with("CN=ITLRECOVERY_"));
}

#[test]
fn demo_is_deterministic_and_digest_selectable() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for d in [&a, &b] {
        let out = d.path().to_str().unwrap();
        assert_eq!(
            run(&["pki", "demo", "--out", out, "--seed", "9", "--digest", "sha512"]).0,
            0
        );
    }
    let itl =
        |d: &tempfile::TempDir| std::fs::read(d.path().join("tftp/CUCMPUB/ITLFile.tlv")).unwrap();
    assert_eq!(itl(&a), itl(&b), "same seed, same bytes");
    let path = a.path().join("tftp/CUCMPUB/ITLFile.tlv");
    let (code, v) = json(&["inspect", path.to_str().unwrap(), "--json"]);
    assert_eq!((code, v["digest"].as_str()), (0, Some("sha512")));
    // Pre-12.0: the ITL is signed by the TFTP node's CallManager.
    let out = a.path().join("v11");
    assert_eq!(
        run(&[
            "pki",
            "demo",
            "--out",
            out.to_str().unwrap(),
            "--cucm-version",
            "11.5"
        ])
        .0,
        0
    );
    let (_, v) = json(&[
        "inspect",
        out.join("tftp/CUCMSUB/ITLFile.tlv").to_str().unwrap(),
        "--json",
    ]);
    assert!(v["signer"]["name"]
        .as_str()
        .unwrap()
        .starts_with("CN=CUCMSUB;"));
    // Bad arguments are exit 2.
    assert_eq!(
        run(&[
            "pki",
            "demo",
            "--out",
            out.to_str().unwrap(),
            "--cucm-version",
            "banana"
        ])
        .0,
        2
    );
    assert_eq!(
        run(&[
            "pki",
            "demo",
            "--out",
            out.to_str().unwrap(),
            "--key",
            "rsa777"
        ])
        .0,
        2
    );
}

#[test]
fn bench_scale_counts_operations_and_compares_wall_time_with_the_bounds() {
    let (code, v) = json(&[
        "bench",
        "scale",
        "--phones",
        "40",
        "--baseline-phones",
        "20",
        "--calibrate",
        "5",
        "--threads",
        "2",
        "--json",
    ]);
    assert_eq!(code, 0, "{v}");
    // The measured size ran at 2 threads and at 1, with the same trace.
    assert_eq!(v["threads"], 2);
    assert_eq!(v["one_thread"]["threads"], 1);
    assert_eq!(v["one_thread"]["trace_hash"], v["run"]["trace_hash"]);
    let (w1, w2) = (
        v["wall_s_one_thread"].as_f64().unwrap(),
        v["wall_s"].as_f64().unwrap(),
    );
    assert!(
        (v["speedup"].as_f64().unwrap() - w1 / w2).abs() < 1e-9,
        "{v}"
    );
    assert!(v["crypto_floor_s"].as_f64().unwrap() > 0.0);
    assert!(v["run"]["windows"].as_u64().unwrap() > 0);
    let run = &v["run"];
    assert_eq!(run["phones"], 40);
    assert_eq!(run["expectations_failed"], 0);
    // Each phone verifies its ITL and config files on two clusters and a TVS handshake: the
    // counters see at least 4 RSA-2048 verifications a phone, and every TLS handshake's
    // signatures.
    let verifies = run["ops"]["verify RSA-2048"].as_u64().unwrap();
    assert!(verifies >= 4 * 40, "{run}");
    assert!(run["ops"]["verify ECDSA P-256"].as_u64().unwrap() >= 40);
    assert!(run["ops"]["sign RSA-2048 SHA-1"].as_u64().unwrap() >= 2 * 40);
    let cost = v["op_cost_us"]["verify RSA-2048"].as_f64().unwrap();
    assert!(cost > 0.0);
    let bound = v["verify_bound_s"].as_f64().unwrap();
    assert!(bound >= verifies as f64 * cost / 1e6 / 2.0 * 0.99, "{v}");
    assert!(v["crypto_bound_s"].as_f64().unwrap() > bound);
    let ratio = v["wall_over_verify_bound"].as_f64().unwrap();
    assert!((ratio - run["wall_s"].as_f64().unwrap() / bound).abs() < 1e-6 * ratio.max(1.0));
    assert_eq!(v["baseline"]["phones"], 20);
}

#[test]
fn bench_scale_rejects_a_missing_scenario_with_exit_2() {
    let (code, _, stderr) = run(&["bench", "scale", "--scenario", "/nonexistent.toml"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("/nonexistent.toml"), "{stderr}");
}
