//! `cucmsim preflight` on two `pki demo` clusters (10.5 source, 12.5 destination), on the
//! independent ITL vector as a source ITL, and on bad inputs; `pki demo`'s layout and its
//! refusal to overwrite.

use super::support::{run, vector_path};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Two demo clusters, written once per process: `src` (10.5) and `dst` (12.5).
fn clusters() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, version, seed) in [("SRC", "10.5", "21"), ("DST", "12.5", "22")] {
            let out = dir.path().join(name.to_ascii_lowercase());
            let args = [
                "pki",
                "demo",
                "--cluster",
                name,
                "--version",
                version,
                "--seed",
                seed,
            ];
            let (code, o, e) = run(&[&args[..], &["--out", out.to_str().unwrap()]].concat());
            assert_eq!(code, 0, "demo {name}: {o}{e}");
        }
        dir
    })
    .path()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let t = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

fn preflight(src: &Path, dst: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "preflight",
        "--source",
        src.to_str().unwrap(),
        "--destination",
        dst.to_str().unwrap(),
        "--phones",
        "4",
    ];
    if !extra.contains(&"--date") {
        args.extend(["--date", "2026-06-01"]);
    }
    args.extend(extra);
    run(&args)
}

fn json(src: &Path, dst: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let (code, out, err) = preflight(src, dst, &[&["--json"][..], extra].concat());
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, v)
}

fn itl_recovery_serial(cluster: &Path, host: &str) -> String {
    let pem = cluster.join("certs").join(host).join("ITLRecovery.pem");
    let (code, out, _) = run(&["inspect", pem.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["certificates"][0]["serial"]
        .as_str()
        .unwrap()
        .replace(':', "")
        .to_ascii_lowercase()
}

#[test]
fn demo_clusters_fail_as_is_naming_the_itl_signer_and_pass_with_bulk_import() {
    let d = clusters();
    let (src, dst) = (d.join("src"), d.join("dst"));
    let serial = itl_recovery_serial(&dst, "DSTPUB");
    let report = tempfile::tempdir().unwrap();
    let out = report.path().join("fail");
    let (code, v) = json(&src, &dst, &["--out", out.to_str().unwrap()]);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("fail")), "{v}");
    assert_eq!(v["phones"]["Trust List update failed"], 4, "{v}");
    let itl = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["title"]
                .as_str()
                .unwrap()
                .contains("CTL and ITL are signed")
        })
        .unwrap_or_else(|| panic!("no ITL finding: {v}"));
    let title = itl["title"].as_str().unwrap();
    assert!(
        title.contains("ITLRECOVERY_DSTPUB") && title.contains(&serial),
        "{title}"
    );
    assert_eq!(
        itl["id"], "F1",
        "no destination certificate on the source: F1"
    );
    assert!(
        itl["fix"].as_str().unwrap().contains("ITLRecovery"),
        "{itl}"
    );
    // The report forms carry the findings (report.json's; summary.md and report.html show them).
    let rep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert!(rep["findings"].as_array().is_some_and(|f| !f.is_empty()));
    assert!(out.join("summary.md").is_file() && out.join("report.html").is_file());

    let scenario = report.path().join("pass.toml");
    let (code, v) = json(
        &src,
        &dst,
        &[
            "--with-bulk-import",
            "--write-scenario",
            scenario.to_str().unwrap(),
        ],
    );
    assert_eq!((code, v["verdict"].as_str()), (0, Some("pass")), "{v}");
    assert_eq!(v["phones"]["Trust lists installed"], 4, "{v}");
    let timeline = v["runs"][0]["timeline"].as_array().unwrap();
    assert!(
        timeline
            .iter()
            .any(|l| l.as_str().unwrap().contains("CTL via Tvs")),
        "{timeline:?}"
    );
    assert!(!v["source"]["imported"].as_array().unwrap().is_empty());
    assert_eq!(
        run(&["check", scenario.to_str().unwrap()]).0,
        0,
        "the written scenario is valid"
    );
    // Never overwritten.
    let (code, _, err) = preflight(
        &src,
        &dst,
        &["--write-scenario", scenario.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn the_independent_vector_itl_is_accepted_as_a_source_itl() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("lab/tftp/pub");
    std::fs::create_dir_all(&node).unwrap();
    std::fs::copy(vector_path(), node.join("ITLFile.tlv")).unwrap();
    let (code, v) = json(&dir.path().join("lab"), &clusters().join("dst"), &[]);
    assert_eq!(code, 1, "read, then judged: {v}");
    let signers = v["source"]["signers"].as_array().unwrap();
    assert!(
        signers[0].as_str().unwrap().contains("CN=ITLRECOVERY_pub"),
        "{signers:?}"
    );
    assert_eq!(
        v["source"]["version"], "12.5",
        "inferred from the ITLRecovery signer"
    );
    // The vector ITL has no TVS record: the phones have no TVS they could trust.
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "F17"),
        "{v}"
    );
}

fn bad(src: &Path, extra: &[&str], names: &str) {
    let (code, out, err) = preflight(src, &clusters().join("dst"), extra);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains(names), "message should name {names}: {err}");
}

fn copy_src(tmp: &tempfile::TempDir) -> PathBuf {
    let src = tmp.path().join("src");
    copy_dir(&clusters().join("src"), &src);
    src
}

#[test]
fn bad_inputs_are_exit_2_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    bad(
        &tmp.path().join("missing"),
        &[],
        "missing: no such cluster directory",
    );
    let src = copy_src(&tmp);
    bad(&src, &["--password", "wrong"], ".pkcs12: wrong password");
    bad(&src, &["--date", "2031-01-01"], "expired on");
    // A TVS certificate of the other cluster.
    std::fs::copy(
        clusters().join("dst/certs/DSTSUB/TVS.pem"),
        src.join("certs/SRCSUB/TVS.pem"),
    )
    .unwrap();
    bad(&src, &[], "certs/SRCSUB/TVS.pem");
    // A garbage ITL.
    let src = tmp.path().join("src2");
    copy_dir(&clusters().join("src"), &src);
    std::fs::write(src.join("tftp/SRCPUB/ITLFile.tlv"), b"\x01\x00\x02garbage").unwrap();
    bad(&src, &[], "tftp/SRCPUB/ITLFile.tlv");
    // cluster.toml with an unknown key: file:line:col.
    std::fs::write(
        src.join("cluster.toml"),
        "name = \"SRC\"\nverison = \"10.5\"\n",
    )
    .unwrap();
    bad(&src, &[], "cluster.toml:2:1");
}

#[test]
fn pki_demo_writes_the_layout_and_never_overwrites() {
    let d = clusters().join("src");
    for f in [
        "cluster.toml",
        "tftp/SRCPUB/ITLFile.tlv",
        "tftp/SRCSUB/CTLFile.tlv",
        "sftp/SRCPUB_ITLRecovery.pkcs12",
        "trust/CallManager-trust/SRCSUB.pem",
        "certs/SRCPUB/ITLRecovery.pem",
    ] {
        assert!(d.join(f).is_file(), "{f}");
    }
    let (code, _, err) = run(&[
        "pki",
        "demo",
        "--cluster",
        "SRC",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = run(&[
        "pki",
        "demo",
        "--cluster",
        "bad name",
        "--out",
        "/nonexistent",
    ]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_partial_import_is_f4_naming_the_missing_itl_recovery() {
    // The destination's CallManager certificates imported by hand into Phone-SAST-trust, its
    // ITLRecovery forgotten (reference §4.2, F4).
    let tmp = tempfile::tempdir().unwrap();
    let src = copy_src(&tmp);
    let dst = clusters().join("dst");
    let store = src.join("trust/Phone-SAST-trust");
    std::fs::create_dir_all(&store).unwrap();
    for host in ["DSTPUB", "DSTSUB"] {
        let cm = dst.join("certs").join(host).join("CallManager.pem");
        std::fs::copy(cm, store.join(format!("{host}.pem"))).unwrap();
    }
    let (code, v) = json(&src, &dst, &[]);
    assert_eq!(code, 1, "{v}");
    let f = &v["findings"][0];
    assert_eq!(f["id"], "F4", "{v}");
    assert!(
        f["title"].as_str().unwrap().contains("ITLRECOVERY_DSTPUB"),
        "{f}"
    );
    assert!(f["fix"].as_str().unwrap().contains("ITLRecovery"), "{f}");
}
