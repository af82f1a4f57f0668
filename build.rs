//! Build script: records the git commit the binary was built from (`CUCMSIM_GIT`, e.g.
//! `8f915a1`; uncommitted changes are not tracked) so reports and `--version` can name it.
//! Without git, or outside a checkout (`cargo install` from a tarball), it records nothing and
//! the version is the package version alone. It reruns when HEAD moves.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let Some(commit) = git(&["rev-parse", "--short=7", "HEAD"]) else {
        println!("cargo:rustc-env=CUCMSIM_GIT=");
        return;
    };
    // Rebuild when HEAD moves: HEAD itself, the branch it points to, packed refs.
    for path in ["HEAD", "packed-refs"] {
        if let Some(p) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(p) = git(&["rev-parse", "--git-path", &branch]) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    println!("cargo:rustc-env=CUCMSIM_GIT={commit}");
}
