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
//!  argv ──cli──► inspect | run | check | explore | bench (scale, tvs, capf) | pki demo
//! ```
//!
//! ## Layout
//!
//! Dependencies point one way: `cli → bench → explore → reports → checks → lang → engine`.
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
//!                metrics, plots, output (the report files)
//! explore/       fault search: plans (proptest strategies) over a scenario, cases run with the
//!                world built once, failures classified, shrunk (ddmin) and written as scenarios
//! bench/         TVS and CAPF capacity: calibrated costs, a queue model, live workers
//! benches/       criterion benchmarks of the crypto
//! ```

pub mod bench;
pub mod checks;
pub mod cli;
pub mod engine;
pub mod explore;
pub mod lang;
pub mod reports;
