//! Distributed runs (`cucmsim worker`, `run --workers`): real worker processes on loopback,
//! real QUIC and TLS between them. The trace hash is the one-process run's; a killed worker
//! ends the run with an error naming it, in seconds; a wrong secret, another scenario or a
//! scenario a distributed run cannot keep are refused.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cucmsim");
const MIGRATION: &str = "scenarios/migration/itl_no_import.toml";

/// A worker process, killed when dropped; `lines` carries what it prints after its first line.
struct Worker {
    child: Child,
    addr: String,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn worker(secret: &Path, extra: &[&str]) -> Worker {
    let mut child = Command::new(BIN)
        .args([
            "worker",
            "--listen",
            "127.0.0.1:0",
            "--threads",
            "1",
            "--secret",
        ])
        .arg(secret)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("worker starts");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    out.read_line(&mut line).expect("first line");
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in out.lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let addr = line
        .split_whitespace()
        .find(|w| w.starts_with("127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Worker { child, addr, lines }
}

fn secret(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn trace_hash(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    v["trace_hash"].as_str().unwrap().to_string()
}

fn run(args: &[&str], out: &Path) -> std::process::Output {
    Command::new(BIN)
        .args([
            "run", MIGRATION, "--phones", "40", "--quiet", "--json", "--force", "--out",
        ])
        .arg(out)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn two_workers_give_the_one_process_trace_and_report_per_node_figures() {
    let dir = tempfile::tempdir().unwrap();
    let key = secret(
        dir.path(),
        "secret",
        "a cluster secret of more than 16 bytes\n",
    );
    let (a, b) = (worker(&key, &[]), worker(&key, &[]));
    let workers = format!("{},{}", a.addr, b.addr);
    let spread = run(
        &["--workers", &workers, "--secret", key.to_str().unwrap()],
        &dir.path().join("spread"),
    );
    assert!(
        spread.status.code() == Some(0) || spread.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&spread.stderr)
    );
    let alone = run(&["--threads", "1"], &dir.path().join("alone"));
    let spread_json = String::from_utf8_lossy(&spread.stdout);
    assert_eq!(
        trace_hash(&spread_json),
        trace_hash(&String::from_utf8_lossy(&alone.stdout))
    );
    let v: serde_json::Value = serde_json::from_str(&spread_json).unwrap();
    let nodes = v["execution"]["nodes"]
        .as_array()
        .expect("per-node figures");
    assert_eq!(nodes.len(), 2);
    let phones: u64 = nodes.iter().map(|n| n["phones"].as_u64().unwrap()).sum();
    assert_eq!(phones, 40);
    for n in nodes {
        assert!(n["windows"].as_u64().unwrap() > 0);
        assert!(n["bytes_out"].as_u64().unwrap() > 0 && n["bytes_in"].as_u64().unwrap() > 0);
    }
    // The same files as a one-process run.
    for f in ["report.json", "summary.md", "report.html"] {
        assert!(dir.path().join("spread").join(f).is_file(), "{f}");
    }
}

#[test]
fn a_killed_worker_ends_the_run_in_seconds_naming_it() {
    interrupted("KILL");
}

#[test]
fn a_frozen_worker_ends_the_run_in_seconds_naming_it() {
    interrupted("STOP");
}

/// A worker sent `signal` mid-run.
fn interrupted(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let key = secret(
        dir.path(),
        "secret",
        "a cluster secret of more than 16 bytes\n",
    );
    let w = worker(&key, &[]);
    // A long run: a week of keepalives, so the kill lands mid-run.
    let started = Instant::now();
    let mut coordinator = Command::new(BIN)
        .args([
            "run",
            "scenarios/perf/keepalive_week.toml",
            "--phones",
            "20",
            "--quiet",
        ])
        .args([
            "--out",
            dir.path().join("out").to_str().unwrap(),
            "--workers",
            &w.addr,
        ])
        .args(["--secret", key.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Killed once its phones are built and the run is under way.
    let hosting = w
        .lines
        .recv_timeout(Duration::from_secs(120))
        .expect("the worker loads");
    assert!(hosting.contains("hosting 20 phones"), "{hosting}");
    std::thread::sleep(Duration::from_millis(500));
    let pid = w.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-s", signal, &pid])
        .status()
        .unwrap()
        .success());
    let killed = Instant::now();
    let out = loop {
        if let Some(status) = coordinator.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut coordinator.stderr.take().unwrap(), &mut err)
                .unwrap();
            break (status, err);
        }
        assert!(killed.elapsed() < Duration::from_secs(30), "the run hung");
        std::thread::sleep(Duration::from_millis(100));
    };
    let (status, err) = out;
    assert_ne!(status.code(), Some(0), "{err}");
    assert!(err.contains(&w.addr), "the error names the worker: {err}");
    assert!(
        err.contains("virtual"),
        "the error names the virtual time: {err}"
    );
    eprintln!(
        "{signal} after {:?}, run ended {:?} later: {err}",
        killed - started,
        killed.elapsed()
    );
}

#[test]
fn a_wrong_secret_another_scenario_and_an_unkeepable_one_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = secret(
        dir.path(),
        "secret",
        "a cluster secret of more than 16 bytes\n",
    );
    let other = secret(dir.path(), "other", "another secret, also long enough\n");
    let w = worker(&key, &[]);
    let refused = run(
        &["--workers", &w.addr, "--secret", other.to_str().unwrap()],
        &dir.path().join("x"),
    );
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(err.contains(&w.addr) && err.contains("secret"), "{err}");

    let bound = worker(&key, &["--scenario", "scenarios/default.toml"]);
    let refused = run(
        &["--workers", &bound.addr, "--secret", key.to_str().unwrap()],
        &dir.path().join("y"),
    );
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_ne!(refused.status.code(), Some(0), "{err}");
    assert!(err.contains("runs only the scenario"), "{err}");

    let firewall = Command::new(BIN)
        .args([
            "run",
            "scenarios/enrollment/firewall_keepalive.toml",
            "--quiet",
        ])
        .args(["--out", dir.path().join("z").to_str().unwrap()])
        .args(["--workers", &w.addr, "--secret", key.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&firewall.stderr);
    assert_eq!(firewall.status.code(), Some(2), "{err}");
    assert!(err.contains("idle timeout"), "{err}");

    let short = secret(dir.path(), "short", "tiny");
    let bad = Command::new(BIN)
        .args(["worker", "--listen", "127.0.0.1:0", "--secret"])
        .arg(&short)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("at least 16"));
}
