//! # cucmsim: the simulator's harness
//!
//! Everything around the pure core (`cucmsim-core`) and its actor shells (`cucmsim-actors`):
//! the scenario language, the engine that builds a world and runs it on virtual time, the
//! checks over its trace, the reports, the benchmarks and the command line.
//!
//! ```text
//!  scenario.toml ──lang──► Compiled { WorldSpec, expectations }
//!                            ──engine──► trace (observations)
//!                                          ──checks──► expectation outcomes, invariant violations
//!                                          ──reports─► report.json, summary.md, report.html, *.hgrm
//!  argv ──cli──► inspect | run | check | preflight | explore | bench (scale, tvs, capf) | pki demo
//! ```
//!
//! ## Layout
//!
//! Dependencies point one way: `cli → bench, preflight, explore → reports → checks → lang → engine`.
//!
//! ```text
//! main.rs        the binary: parse the command line, dispatch, exit with the command's code
//! cli/           the command line: args (clap), run, check, inspect/ (ITL/CTL/.sgn/PEM/DER/
//!                PKCS#12), demo (pki demo), perf (bench scale)
//! lang/          the scenario language: raw (serde), compile/ (context, values, topology,
//!                capf, fleets, timeline, steps/ one file per step family, faults,
//!                expectations), compiled (the `Compiled` output), durations
//! engine/        spec (WorldSpec), world (keys, certificates, actors from the seed), run
//!                (virtual time: the shells spawned, phones powered on), director (steps and
//!                faults delivered at their times)
//! checks/        over the trace: phones (state as of t), expect (expectations), invariants
//! reports/       runner (run + evaluate + measure), report (states, failures, trace hash),
//!                outcome (phones per cluster, failures with timelines), metrics, plots,
//!                wording (steps in the field's words), output (the report files)
//! preflight/     a migration checked from the two clusters' own files: load, infer, bulk
//!                import, phones and TVS machines on the real bytes, findings, reports
//! explore/       fault search: plans (proptest strategies) over a scenario, cases run with the
//!                world built once, failures classified, shrunk (ddmin) and written as scenarios
//! bench/         TVS and CAPF capacity: calibrated costs, a queue model, live workers
//! wire/          wire mode: `serve` (the cluster's TFTP/HTTP/TVS/CAPF on real sockets, the same
//!                machines) and `farm` (the fleet's phones against real servers)
//! benches/       criterion benchmarks of the crypto
//! ```

pub mod bench;
pub mod checks;
pub mod cli;
pub mod cluster;
pub mod engine;
pub mod explore;
pub mod lang;
pub mod pinned;
pub mod preflight;
pub mod reports;
pub mod wire;

/// The version reports and `--version` name: the package version and, when built from a git
/// checkout, the commit (`0.1.0 (git 8f915a1)`; see `build.rs`).
pub fn version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| match env!("CUCMSIM_GIT") {
        "" => env!("CARGO_PKG_VERSION").to_string(),
        commit => format!("{} (git {commit})", env!("CARGO_PKG_VERSION")),
    })
}
