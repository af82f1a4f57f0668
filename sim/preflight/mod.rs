//! `cucmsim preflight`: will *this* migration work? Answered from the files an engineer can
//! pull from the two real clusters (the README's "Preflight" section has the layout), not from a scenario.
//!
//! ```text
//!  --source DIR, --destination DIR
//!    ──layout::ClusterFiles::load──► files, each parsed and verified (bad input: exit 2, naming the file)
//!    ──infer::infer──────────────► Cluster (what cluster.toml does not say, inferred and noted)
//!    ──bulk::bulk_import─────────► (--with-bulk-import) both clusters' stores after the procedure
//!    ──drive::migrate────────────► N phones holding the source's real CTL/ITL, reset onto the
//!                                   destination's real CTL/ITL, asking the source's TVS machines
//!                                   (real store contents, identity mode): each phone's outcome
//!    ──diagnose::findings────────► catalogue entry, evidence, fix
//!    ──report────────────────────► verdict pass/fail, text or --json, report files under --out
//!    ──scenario──────────────────► --write-scenario: the equivalent scenario for `cucmsim run`
//! ```
//! The verdict is `pass` when every phone installed the destination's trust lists and no
//! finding is a failure.

pub mod bulk;
pub mod diagnose;
pub mod drive;
pub mod infer;
pub mod layout;
pub mod manifest;
pub mod report;
pub mod scenario;

use crate::reports::findings::Finding;
use cucmsim_core::machine::Observation;
use cucmsim_core::WallTime;
use drive::{PhoneRun, INSTALLED};
use infer::Cluster;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What a preflight is asked.
#[derive(Clone, Debug)]
pub struct Options {
    pub source: PathBuf,
    pub destination: PathBuf,
    pub phones: u32,
    pub with_bulk_import: bool,
    /// Opens the PKCS#12 bundles; `None`: each cluster.toml's `bundle_password`, else
    /// `cucmsim` (the password `pki demo` and the simulated publishers use).
    pub password: Option<String>,
    /// The migration date: certificate validity is judged at this wall time.
    pub at: WallTime,
    /// Seeds what is not in the files: the phones' MICs and MACs.
    pub seed: u64,
}

/// One cluster as the report shows it.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterSummary {
    pub name: String,
    pub dir: String,
    pub version: String,
    pub security_mode: &'static str,
    pub nodes: Vec<String>,
    pub tftp_nodes: Vec<String>,
    pub tvs_list: Vec<String>,
    /// ITL (and CTL) signer per TFTP node: `"DSTPUB ITL: CN=ITLRECOVERY_DSTPUB… serial …"`.
    pub signers: Vec<String>,
    /// What was inferred rather than read from cluster.toml.
    pub inferred: Vec<String>,
    /// Store certificates added by --with-bulk-import.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub imported: Vec<String>,
}

/// The preflight's answer.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// `"pass"` or `"fail"`.
    pub verdict: &'static str,
    pub source: ClusterSummary,
    pub destination: ClusterSummary,
    pub with_bulk_import: bool,
    pub date: String,
    pub findings: Vec<Finding>,
    /// Phones by outcome.
    pub phones: BTreeMap<String, u64>,
    /// Every phone's run (its timeline included).
    pub runs: Vec<PhoneRun>,
    /// The seed of the phones' MACs and MICs.
    pub seed: u64,
    /// Inputs delivered (messages between the phones, TFTP, DHCP and TVS, and timers).
    pub messages: u64,
    /// Real time the preflight took on this machine (host clock; not part of the verdict).
    pub wall_time_s: f64,
    #[serde(skip)]
    pub trace: Vec<Observation>,
}

fn summary(c: &Cluster, imported: Vec<String>) -> ClusterSummary {
    let mut signers = vec![];
    for n in c.tftp_nodes() {
        for (kind, l) in [("CTL", &n.files.ctl), ("ITL", &n.files.itl)] {
            if let Some(l) = l {
                let h = &l.value.header;
                signers.push(format!(
                    "{} {kind}: {} serial {}",
                    n.name,
                    h.signer_name.as_deref().unwrap_or("?"),
                    hex::encode(h.signer_serial.as_deref().unwrap_or_default())
                ));
            }
        }
    }
    ClusterSummary {
        name: c.name.clone(),
        dir: c.dir.display().to_string(),
        version: c.version.to_string(),
        security_mode: if c.mixed { "mixed" } else { "non-secure" },
        nodes: c.nodes.iter().map(|n| n.name.clone()).collect(),
        tftp_nodes: c.tftp_nodes().iter().map(|n| n.name.clone()).collect(),
        tvs_list: c.tvs_list.clone(),
        signers,
        inferred: c.notes.clone(),
        imported,
    }
}

/// Whether the source's stores hold any of the destination's own certificates (its nodes'
/// identity certificates, or those its ITL/CTL records carry): a trust exchange happened, if
/// incompletely (F4 rather than F1). Certificates both clusters trust anyway (Cisco's
/// manufacturing CAs, a shared enterprise CA) are not the destination's own and do not count.
fn exchanged(src: &Cluster, dst: &Cluster) -> bool {
    let mut ders: Vec<&[u8]> = dst
        .nodes
        .iter()
        .flat_map(|n| n.files.certs.values().map(|c| c.value.der()))
        .collect();
    for n in dst.tftp_nodes() {
        for l in [&n.files.itl, &n.files.ctl].into_iter().flatten() {
            ders.extend(
                l.value
                    .records
                    .iter()
                    .filter_map(|r| r.certificate.as_deref()),
            );
        }
    }
    src.stores
        .values()
        .flat_map(|s| s.iter())
        .any(|c| ders.contains(&c.der()))
}

/// Loads both clusters (exit-2 errors name the file), and infers what is missing.
pub fn load(opts: &Options) -> Result<(Cluster, Cluster), String> {
    let src = layout::ClusterFiles::load(&opts.source, opts.password.as_deref())?;
    let dst = layout::ClusterFiles::load(&opts.destination, opts.password.as_deref())?;
    let (src, dst) = (infer::infer(src, opts.at)?, infer::infer(dst, opts.at)?);
    if src.dir.canonicalize().ok() == dst.dir.canonicalize().ok() {
        return Err(format!(
            "{}: source and destination are the same directory",
            src.dir.display()
        ));
    }
    Ok((src, dst))
}

/// Runs a preflight; `Err` is bad input (exit 2).
pub fn preflight(opts: &Options) -> Result<(Outcome, Cluster, Cluster), String> {
    let (mut src, mut dst) = load(opts)?;
    let (imported_src, imported_dst) = if opts.with_bulk_import {
        bulk::bulk_import(&mut src, &mut dst)?
    } else {
        (vec![], vec![])
    };
    let started = std::time::Instant::now();
    let (runs, trace, messages) = drive::migrate(&src, &dst, opts.phones, opts.at, opts.seed)?;
    let findings = diagnose::findings(&src, &dst, &runs, exchanged(&src, &dst));
    let mut phones = BTreeMap::new();
    for r in &runs {
        *phones.entry(r.outcome.clone()).or_insert(0) += 1;
    }
    let pass = runs.iter().all(|r| r.outcome == INSTALLED)
        && !findings.iter().any(|f| f.severity == "fail");
    let outcome = Outcome {
        verdict: if pass { "pass" } else { "fail" },
        source: summary(&src, imported_src),
        destination: summary(&dst, imported_dst),
        with_bulk_import: opts.with_bulk_import,
        date: opts.at.to_string(),
        findings,
        phones,
        runs,
        seed: opts.seed,
        messages,
        wall_time_s: started.elapsed().as_secs_f64(),
        trace,
    };
    Ok((outcome, src, dst))
}
