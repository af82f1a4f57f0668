//! `cucmsim explore` end to end, on the small working migration with a few phones: it finds
//! a failure and shrinks it to a reproducer of at most 3 faults or perturbations that
//! `check` accepts and `run` replays with exit 1 and the same trace hash every time; with
//! `--canary` it finds the planted TVS defect through invariant `tvs_vouches_from_stores`;
//! bad input exits 2.

use crate::support::run;
use serde_json::Value;
use std::path::Path;

const SMALL: &str = "scenarios/explore/small_migration.toml";

fn scenario() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(SMALL)
        .display()
        .to_string()
}

/// Runs explore with `extra` arguments into a fresh directory; returns its JSON summary.
fn explore(dir: &Path, extra: &[&str]) -> Value {
    let out = dir.join("out");
    let s = scenario();
    let mut args = vec![
        "explore",
        s.as_str(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 1, "explore should find failures: {stdout}{stderr}");
    let summary: Value = serde_json::from_str(&stdout).expect("JSON summary");
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("index.json")).expect("index.json"))
            .expect("index JSON");
    assert_eq!(index["failures"], summary["failures"]);
    summary
}

/// The `trace hash …` line of `cucmsim run`'s summary.
fn hash_of(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("trace hash "))
        .expect("a trace hash line")
        .trim()
        .to_string()
}

#[test]
fn explore_finds_a_failure_and_shrinks_it_to_a_replayable_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let s = explore(
        dir.path(),
        &["--cases", "10", "--phones", "4", "--seed", "1"],
    );
    assert_eq!(s["cases"], 10);
    for key in ["cases", "elapsed_s", "failures"] {
        assert!(s.get(key).is_some(), "summary lacks {key}");
    }
    let failures = s["failures"].as_array().unwrap();
    assert!(!failures.is_empty());
    // Every failure is distinct, and each reproducer is small.
    let mut ids: Vec<&str> = failures.iter().map(|f| f["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), failures.len());
    let f = failures
        .iter()
        .find(|f| f["original_faults"].as_u64().unwrap() > f["faults"].as_u64().unwrap())
        .unwrap_or(&failures[0]);
    let faults = f["faults"].as_u64().unwrap();
    assert!((1..=3).contains(&faults), "not shrunk: {f}");
    assert_eq!(f["needs_canary"], false);
    let file = f["file"].as_str().unwrap();
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.starts_with("# Reproducer written by cucmsim explore."));
    assert!(text.contains(f["trace_hash"].as_str().unwrap()));
    assert!(text.contains(&format!("cucmsim run {file}")));
    let (code, out, err) = run(&["check", file]);
    assert_eq!(code, 0, "check refused the reproducer: {out}{err}");
    for i in 0..2 {
        let report = dir.path().join(format!("run{i}"));
        let (code, out, err) = run(&["run", file, "--out", report.to_str().unwrap(), "-q"]);
        assert_eq!(code, 1, "the reproducer should fail: {out}{err}");
        assert_eq!(hash_of(&out), f["trace_hash"].as_str().unwrap());
    }
}

#[test]
fn explore_finds_and_shrinks_the_canary() {
    let dir = tempfile::tempdir().unwrap();
    let s = explore(dir.path(), &["--cases", "10", "--phones", "4", "--canary"]);
    let failures = s["failures"].as_array().unwrap();
    let canary = failures
        .iter()
        .find(|f| f["id"] == "tvs_vouches_from_stores")
        .unwrap_or_else(|| panic!("the canary was not found: {s}"));
    assert_eq!(canary["kind"], "invariant");
    assert_eq!(canary["needs_canary"], true);
    assert!(canary["faults"].as_u64().unwrap() <= 3);
    assert!(canary["who"].as_str().unwrap().starts_with("tvs@"));
    // Its reproducer replays with the canary (and is a valid scenario without it).
    let file = canary["file"].as_str().unwrap();
    assert_eq!(run(&["check", file]).0, 0);
    let (code, out, _) = run(&["explore", file, "--replay", "--canary"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("invariant:tvs_vouches_from_stores"));
    assert!(out.contains(canary["trace_hash"].as_str().unwrap()));
    let (_, out, _) = run(&["explore", file, "--replay"]);
    assert!(
        !out.contains("invariant:tvs_vouches_from_stores"),
        "canary on without --canary: {out}"
    );
}

#[test]
fn explore_refuses_bad_input_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario();
    let out = dir.path().join("o");
    let o = out.to_str().unwrap();
    assert_eq!(run(&["explore", "no/such.toml", "--out", o]).0, 2);
    assert_eq!(run(&["explore", &s, "--budget", "soon", "--out", o]).0, 2);
    assert_eq!(run(&["explore", &s, "--threads", "0", "--out", o]).0, 2);
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let (code, _, err) = run(&["explore", &s, "--cases", "1", "--out", o]);
    assert_eq!(code, 2);
    assert!(err.contains("never overwrites"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "mine"
    );
    let (bad, _) = crate::support::scratch("bad.toml", b"[scenario]\nname = \"x\"\n");
    let b = bad.path().join("bad.toml");
    let fresh = dir.path().join("fresh");
    let f = fresh.to_str().unwrap();
    let (code, _, err) = run(&["explore", b.to_str().unwrap(), "--cases", "1", "--out", f]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(
        !fresh.exists(),
        "a bad scenario must not leave a directory behind"
    );
}
