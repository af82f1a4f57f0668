//! Helpers shared by the integration tests: running the built `cucmsim` binary, and a demo
//! cluster written once per test process.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The independent ITL test vector, copied into the project's test data.
pub fn vector_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("actors/core/testdata/ITLFile.tlv")
}

/// Runs `cucmsim` with `args`.
pub fn cucmsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cucmsim"))
        .args(args)
        .output()
        .expect("run cucmsim")
}

/// Exit code, stdout and stderr of a run.
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = cucmsim(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A demo cluster written by `cucmsim pki demo` (once per process).
pub fn demo_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().to_str().unwrap().to_string();
        let (code, stdout, stderr) = run(&["pki", "demo", "--out", &out, "--seed", "3"]);
        assert_eq!(code, 0, "demo failed: {stdout}{stderr}");
        dir
    })
    .path()
}

/// A scratch file with `bytes`, kept alive by the returned guard.
pub fn scratch(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write scratch");
    (dir, path)
}
