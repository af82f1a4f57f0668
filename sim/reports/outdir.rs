//! Where a run's reports go, decided and checked before the simulation starts, so that a run
//! never silently replaces an earlier run's reports and an unwritable place is refused before
//! minutes of work are lost.
//!
//! ```text
//!  --out DIR given ──► DIR holds reports? ──no──► use it
//!                                        └─yes─► --force? ──yes──► remove those reports, use it
//!                                                        └─no───► refuse (exit 2)
//!  no --out ──► results/<scenario>/<seed>/, or the first free <seed>-2, <seed>-3, …
//!  then: create it and write a probe file (exit 2 if that fails)
//! ```

use std::path::{Path, PathBuf};

/// The files and folders a run writes into its directory.
pub const REPORT_FILES: [&str; 6] = [
    "report.json",
    "summary.md",
    "report.html",
    "trace.jsonl",
    "latency",
    "cpu",
];

/// Whether `dir` holds any report a run writes.
pub fn holds_reports(dir: &Path) -> bool {
    REPORT_FILES.iter().any(|f| dir.join(f).exists())
}

/// The directory this run writes into, created and known to be writable.
pub fn prepare(
    out: Option<&Path>,
    scenario: &str,
    seed: u64,
    force: bool,
) -> Result<PathBuf, String> {
    let dir = match out {
        Some(dir) => {
            if holds_reports(dir) {
                if !force {
                    return Err(format!(
                        "{} already holds a run's reports; choose another --out, or add --force to replace them",
                        dir.display()
                    ));
                }
                remove_reports(dir)?;
            }
            dir.to_path_buf()
        }
        None => default_dir(Path::new("results"), scenario, seed)?,
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let probe = dir.join(".cucmsim-write-probe");
    std::fs::write(&probe, b"").map_err(|e| format!("cannot write into {}: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(dir)
}

/// `root/<scenario>/<seed>/`, or the first of `<seed>-2`, `<seed>-3`, … that holds no reports.
pub fn default_dir(root: &Path, scenario: &str, seed: u64) -> Result<PathBuf, String> {
    let safe = !scenario.is_empty()
        && scenario != "."
        && scenario != ".."
        && !scenario.contains(['/', '\\', '\0'])
        && scenario.len() <= 128;
    if !safe {
        return Err(format!(
            "scenario name {scenario:?} cannot name a directory; give --out"
        ));
    }
    let base = root.join(scenario);
    let first = base.join(seed.to_string());
    if !holds_reports(&first) {
        return Ok(first);
    }
    (2..10_000)
        .map(|n| base.join(format!("{seed}-{n}")))
        .find(|d| !holds_reports(d))
        .ok_or_else(|| format!("{} holds 10,000 runs already; give --out", base.display()))
}

/// Removes the reports an earlier run left in `dir` (and nothing else).
fn remove_reports(dir: &Path) -> Result<(), String> {
    for f in REPORT_FILES {
        let p = dir.join(f);
        let r = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else if p.exists() {
            std::fs::remove_file(&p)
        } else {
            Ok(())
        };
        r.map_err(|e| format!("cannot replace {}: {e}", p.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("cucmsim-outdir-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_second_run_gets_its_own_directory() {
        let root = scratch("default");
        let first = default_dir(&root, "mig", 7).unwrap();
        assert_eq!(first, root.join("mig").join("7"));
        std::fs::create_dir_all(&first).unwrap();
        std::fs::write(first.join("report.json"), "{}").unwrap();
        assert_eq!(
            default_dir(&root, "mig", 7).unwrap(),
            root.join("mig").join("7-2")
        );
        assert!(default_dir(&root, "../x", 7).is_err());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn an_explicit_directory_with_reports_needs_force_and_loses_stale_files() {
        let dir = scratch("explicit");
        std::fs::create_dir_all(dir.join("latency")).unwrap();
        std::fs::write(dir.join("report.json"), "{}").unwrap();
        std::fs::write(dir.join("trace.jsonl"), "old").unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        let err = prepare(Some(&dir), "mig", 1, false).unwrap_err();
        assert!(err.contains("--force"), "{err}");
        assert!(dir.join("trace.jsonl").exists());
        prepare(Some(&dir), "mig", 1, true).unwrap();
        assert!(!dir.join("trace.jsonl").exists() && !dir.join("latency").exists());
        assert!(dir.join("notes.txt").exists(), "only reports are removed");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unwritable_place_is_refused_before_the_run() {
        let file = scratch("file");
        std::fs::write(&file, "a file, not a directory").unwrap();
        let err = prepare(Some(&file.join("sub")), "mig", 1, false).unwrap_err();
        assert!(err.contains("cannot create"), "{err}");
        let _ = std::fs::remove_file(&file);
    }
}
