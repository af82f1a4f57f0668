//! `cucmsim pki demo`: a small two-node cluster's real artefacts on disk, in the cluster
//! directory layout `cucmsim preflight` reads (README.md, "Preflight") — what an engineer collects
//! from a real cluster — so anyone can look at CUCM-format files within a minute, and two demo
//! clusters (`--cluster SRC`, `--cluster DST`) can be preflighted against each other.
//!
//! ```text
//!  DIR/cluster.toml                   name, version, security mode, nodes, bundle password
//!  DIR/certs/<HOST>/<type>.pem        identity certificates (CallManager, TVS, tomcat, …)
//!  DIR/tftp/<HOST>/ITLFile.tlv        the ITL each TFTP node serves (also as ITLSEP<MAC>.tlv)
//!  DIR/tftp/<HOST>/CTLFile.tlv        the mixed-mode CTL (not with --non-secure)
//!  DIR/tftp/<HOST>/SEP<MAC>.cnf.xml.sgn  a signed phone configuration file
//!  DIR/sftp/<HOST>_<type>.pkcs12      Bulk Certificate Management export
//!  DIR/trust/<store>/<CN>.pem         the trust stores a fresh cluster starts with
//!  DIR/rollback/ITLFile.tlv           the "Prepare Cluster for Rollback" ITL
//!  DIR/mfg/*.pem                      Cisco Root CA 2048, Cisco Manufacturing CA, a phone MIC
//! ```
//! Nothing is overwritten: when a file to write exists, the demo writes nothing and exits 2
//! (unless `--force`).

use crate::preflight::manifest::{Manifest, ManifestNode};
use clap::Args;
use cucmsim_core::digest::DigestAlg;
use cucmsim_core::pkcs12::{bundle_file_name, write_bundle};
use cucmsim_core::pki::cluster::{ClusterPki, ClusterSpec, NodeSpec};
use cucmsim_core::pki::identity::{CertType, Identity, NodeNames};
use cucmsim_core::pki::mic::ManufacturingCa;
use cucmsim_core::pki::{Backend, KeyForge, KeyProfile};
use cucmsim_core::sgn::{
    sign_config, CapfAuthMode, PhoneConfig, SecurityMode, Server, CAPF_PORT, TVS_PORT,
};
use cucmsim_core::tlv::content::{CtlMode, CucmVersion};
use cucmsim_core::tlv::{parse, TrustListBuilder};
use cucmsim_core::WallTime;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// Arguments of `cucmsim pki demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Directory to write into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Seed: same seed, same keys and certificates.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// CUCM version of the cluster (ITL signed by ITLRecovery from 12.0, by CallManager before).
    #[arg(long, alias = "version", default_value = "12.5")]
    pub cucm_version: String,
    /// Cluster name; the nodes are <NAME>PUB and <NAME>SUB (default: cluster "demo" with
    /// nodes CUCMPUB and CUCMSUB).
    #[arg(long)]
    pub cluster: Option<String>,
    /// A non-secure cluster: no CTLFile.tlv.
    #[arg(long)]
    pub non_secure: bool,
    /// Overwrite files that exist (otherwise the demo refuses, exit 2, and writes nothing).
    #[arg(long)]
    pub force: bool,
    /// Digest of the ITL/CTL and config signatures ("TFTP File Signature Algorithm").
    #[arg(long, default_value = "sha1", value_parser = ["sha1", "sha256", "sha512"])]
    pub digest: String,
    /// Key profile of CallManager, Tomcat, TVS, CAPF and ipsec (ITLRecovery is always RSA).
    #[arg(long, default_value = "rsa2048")]
    pub key: String,
    /// Install date of the cluster (the certificates' notBefore), YYYY-MM-DD.
    #[arg(long, default_value = "2025-01-01")]
    pub date: String,
    /// Password of the PKCS#12 bundles.
    #[arg(long, default_value = "cucmsim")]
    pub password: String,
}

/// Runs the demo; returns the exit code.
pub fn run(args: &DemoArgs) -> u8 {
    match write_demo(args) {
        Ok(summary) => {
            print!("{summary}");
            0
        }
        Err(DemoError::Input(msg)) => {
            eprintln!("cucmsim pki demo: {msg}");
            2
        }
        Err(DemoError::Failed(msg)) => {
            eprintln!("cucmsim pki demo: {msg}");
            1
        }
    }
}

/// Why the demo stopped: bad arguments (exit 2) or a failure while writing (exit 1).
#[derive(Debug)]
pub enum DemoError {
    Input(String),
    Failed(String),
}

fn failed(e: impl std::fmt::Display) -> DemoError {
    DemoError::Failed(e.to_string())
}

/// `YYYY-MM-DD` as a wall time (midnight UTC).
pub fn parse_date(text: &str) -> Option<WallTime> {
    let mut it = text.split('-');
    let (y, m, d) = (
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    );
    if it.next().is_some() {
        return None;
    }
    // X.509 times run to 9999-12-31 and the demo's certificates last up to 20 years.
    WallTime::from_ymd(y, m, d).filter(|_| (1970..=9979).contains(&y))
}

/// The cluster's name, its two hosts and the second octet of its network.
fn names(args: &DemoArgs) -> Result<(String, [String; 2], u8), DemoError> {
    let Some(name) = &args.cluster else {
        return Ok(("demo".into(), ["CUCMPUB".into(), "CUCMSUB".into()], 10));
    };
    let ok = !name.is_empty()
        && name.len() <= 20
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        return Err(DemoError::Input(format!(
            "bad --cluster {name:?}: 1-20 letters, digits or '-' (it names the hosts)"
        )));
    }
    let up = name.to_ascii_uppercase();
    let net = 20
        + name
            .bytes()
            .fold(0u32, |a, b| (a * 31 + u32::from(b)) % 200) as u8;
    Ok((name.clone(), [format!("{up}PUB"), format!("{up}SUB")], net))
}

fn spec(args: &DemoArgs) -> Result<ClusterSpec, DemoError> {
    let version: CucmVersion = args.cucm_version.parse().map_err(DemoError::Input)?;
    let key: KeyProfile = args.key.parse().map_err(DemoError::Input)?;
    let now = parse_date(&args.date).ok_or_else(|| {
        DemoError::Input(format!(
            "bad --date {:?}: expected YYYY-MM-DD between 1970-01-01 and 9979-12-31",
            args.date
        ))
    })?;
    let (cluster, hosts, net) = names(args)?;
    let node = |host: &str, last: u8| NodeSpec {
        names: NodeNames::lab(&cluster, host),
        ip: Some(Ipv4Addr::new(10, net, 10, last)),
        runs_callmanager: true,
        runs_tftp: true,
        imp: false,
    };
    let profiles: BTreeMap<CertType, KeyProfile> = [
        CertType::CallManager,
        CertType::Tomcat,
        CertType::Tvs,
        CertType::Capf,
        CertType::Ipsec,
    ]
    .into_iter()
    .map(|t| (t, key))
    .collect();
    Ok(ClusterSpec {
        name: cluster.clone(),
        version,
        nodes: vec![node(&hosts[0], 1), node(&hosts[1], 2)],
        profiles,
        now,
        itl_recovery_years: if version >= "12.5".parse().map_err(DemoError::Input)? {
            20
        } else {
            5
        },
    })
}

/// The files to write, gathered first so that an existing file stops the demo before any
/// is written.
struct Plan {
    out: PathBuf,
    files: Vec<(PathBuf, Vec<u8>)>,
}

impl Plan {
    fn add(&mut self, path: PathBuf, bytes: &[u8]) -> Result<(), DemoError> {
        self.files.push((path, bytes.to_vec()));
        Ok(())
    }

    /// Writes every file; refuses (exit 2) when one exists, unless `force`.
    fn write(self, force: bool) -> Result<usize, DemoError> {
        if let (false, Some((p, _))) = (force, self.files.iter().find(|(p, _)| p.exists())) {
            return Err(DemoError::Input(format!(
                "{} already exists: nothing written (--force overwrites, or choose another --out)",
                p.display()
            )));
        }
        for (path, bytes) in &self.files {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
            }
            std::fs::write(path, bytes)
                .map_err(|e| failed(format!("cannot write {}: {e}", path.display())))?;
        }
        Ok(self.files.len())
    }
}

fn sign_list(
    signer: &Identity,
    filename: &str,
    records: Vec<cucmsim_core::tlv::RecordSpec>,
    digest: DigestAlg,
    now: WallTime,
) -> Result<Vec<u8>, DemoError> {
    let mut b = TrustListBuilder::new(filename, now.0 as u32);
    b.digest = digest;
    b.records = records;
    b.sign(&signer.cert, &signer.key).map_err(failed)
}

/// Writes every artefact and returns the summary to print.
pub fn write_demo(args: &DemoArgs) -> Result<String, DemoError> {
    let spec = spec(args)?;
    let digest = DigestAlg::parse(&args.digest)
        .ok_or_else(|| DemoError::Input(format!("bad --digest {:?}", args.digest)))?;
    let forge = KeyForge::new(args.seed);
    let cluster = spec.generate(&forge).map_err(failed)?;
    let mfg = ManufacturingCa::new(&forge, spec.now).map_err(failed)?;
    let plan = &mut Plan {
        out: args.out.clone(),
        files: vec![],
    };
    let mut summary = format!(
        "cucmsim pki demo: CUCM {} cluster {:?} ({}), seed {}, into {}\n",
        spec.version,
        spec.name,
        if args.non_secure {
            "non-secure"
        } else {
            "mixed mode"
        },
        args.seed,
        args.out.display()
    );
    let mac = "B000B4BA0AEE";
    write_certs(&cluster, &mfg, &forge, mac, spec.now, plan)?;
    let pub_host = cluster.publisher().spec.names.hostname.clone();
    let config = phone_config(&cluster, mac);
    let files = TftpFiles {
        digest,
        now: spec.now,
        ctl: !args.non_secure,
    };
    for ix in 0..cluster.nodes.len() {
        write_tftp(&cluster, ix, &config, files, plan, &mut summary)?;
    }
    let certs = cluster.trust_list_certs();
    let rollback_signer = certs.itl_signer(0).ok_or_else(|| failed("no ITL signer"))?;
    let rollback = sign_list(
        rollback_signer,
        "ITLFile.tlv",
        certs.rollback_itl_records(0),
        digest,
        spec.now,
    )?;
    plan.add(plan.out.join("rollback/ITLFile.tlv"), &rollback)?;
    let bundles = write_bundles(&cluster, plan, &args.password)?;
    let _ = writeln!(
        summary,
        "  sftp/: {bundles} PKCS#12 bundles (password {:?})",
        args.password
    );
    let stores = write_stores(&cluster, &mfg, plan)?;
    plan.add(
        plan.out.join("cluster.toml"),
        manifest(&cluster, args).to_toml().as_bytes(),
    )?;
    let _ = writeln!(
        summary,
        "  certs/, trust/ ({stores} non-empty trust stores), cluster.toml, rollback/ITLFile.tlv, mfg/"
    );
    let _ = writeln!(
        summary,
        "Look inside: cucmsim inspect {}",
        plan.out
            .join("tftp")
            .join(&pub_host)
            .join("ITLFile.tlv")
            .display()
    );
    let plan = std::mem::replace(
        plan,
        Plan {
            out: PathBuf::new(),
            files: vec![],
        },
    );
    let written = plan.write(args.force)?;
    let _ = writeln!(summary, "  {written} files written");
    Ok(summary)
}

/// cluster.toml: what the files cannot say (README.md, "Preflight").
fn manifest(cluster: &ClusterPki, args: &DemoArgs) -> Manifest {
    let nodes = cluster
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| ManifestNode {
            name: n.spec.names.hostname.clone(),
            ip: n.spec.ip,
            services: ["callmanager", "tftp", "tvs", "capf"]
                .iter()
                .filter(|s| i == 0 || **s != "capf")
                .map(|s| s.to_string())
                .collect(),
        })
        .collect();
    Manifest {
        name: Some(cluster.name.clone()),
        version: Some(cluster.version.to_string()),
        security_mode: Some(
            if args.non_secure {
                "non-secure"
            } else {
                "mixed"
            }
            .into(),
        ),
        bundle_password: Some(args.password.clone()),
        nodes,
    }
}

/// certs/: every node's identity certificates, the manufacturing CA's and one phone's MIC.
fn write_certs(
    cluster: &ClusterPki,
    mfg: &ManufacturingCa,
    forge: &KeyForge,
    mac: &str,
    now: WallTime,
    plan: &mut Plan,
) -> Result<(), DemoError> {
    for (host, id) in cluster.identities() {
        let t = id.cert_type.map(|t| t.cucm_name()).unwrap_or("cert");
        plan.add(
            plan.out.join("certs").join(host).join(format!("{t}.pem")),
            id.cert.to_pem().as_bytes(),
        )?;
    }
    let mic = mfg
        .issue_mic(forge, "8861", mac, KeyProfile::EcP256, now)
        .map_err(failed)?;
    for (name, id) in [
        ("Cisco_Root_CA_2048", &mfg.root),
        ("Cisco_Manufacturing_CA", &mfg.issuing),
        (&format!("CP-8861-SEP{mac}-MIC") as &str, &mic),
    ] {
        plan.add(
            plan.out.join("mfg").join(format!("{name}.pem")),
            id.cert.to_pem().as_bytes(),
        )?;
    }
    Ok(())
}

/// The phone's configuration: every node a CallManager and TVS, CAPF on the publisher.
fn phone_config(cluster: &ClusterPki, mac: &str) -> PhoneConfig {
    let pub_host = cluster.publisher().spec.names.hostname.clone();
    let hosts: Vec<String> = cluster
        .nodes
        .iter()
        .map(|n| n.spec.names.hostname.clone())
        .collect();
    PhoneConfig {
        device_name: format!("SEP{mac}"),
        callmanagers: hosts.clone(),
        tvs: hosts
            .iter()
            .map(|h| Server {
                address: h.clone(),
                port: TVS_PORT,
            })
            .collect(),
        capf: vec![Server {
            address: pub_host.clone(),
            port: CAPF_PORT,
        }],
        security_mode: SecurityMode::NonSecure,
        capf_auth_mode: CapfAuthMode::None,
        cert_hash: None,
        encr_config: false,
    }
}

/// How the TFTP files are made: their digest, their time, and whether a CTL is served.
#[derive(Clone, Copy)]
struct TftpFiles {
    digest: DigestAlg,
    now: WallTime,
    ctl: bool,
}

/// tftp/<host>/: the node's ITL (and ITLSEP<MAC>), the CTL and the signed config file.
fn write_tftp(
    cluster: &ClusterPki,
    ix: usize,
    config: &PhoneConfig,
    files: TftpFiles,
    plan: &mut Plan,
    summary: &mut String,
) -> Result<(), DemoError> {
    let TftpFiles {
        digest,
        now,
        ctl: with_ctl,
    } = files;
    let certs = cluster.trust_list_certs();
    let host = &cluster.nodes[ix].spec.names.hostname;
    let dir = plan.out.join("tftp").join(host);
    let signer = certs
        .itl_signer(ix)
        .ok_or_else(|| failed("no ITL signer"))?;
    let itl = sign_list(signer, "ITLFile.tlv", certs.itl_records(ix), digest, now)?;
    plan.add(dir.join("ITLFile.tlv"), &itl)?;
    plan.add(dir.join(format!("ITL{}.tlv", config.device_name)), &itl)?;
    let mut ctl_len = 0;
    if with_ctl {
        let ctl_signer = certs.ctl_signer().ok_or_else(|| failed("no CTL signer"))?;
        let ctl = sign_list(
            ctl_signer,
            "CTLFile.tlv",
            certs.ctl_records(CtlMode::Mixed),
            digest,
            now,
        )?;
        ctl_len = ctl.len();
        plan.add(dir.join("CTLFile.tlv"), &ctl)?;
    }
    let node = &cluster.nodes[ix];
    let cm = node
        .identity(CertType::CallManager)
        .ok_or_else(|| failed("no CallManager"))?;
    let sgn = sign_config(
        config.to_xml().as_bytes(),
        &config.signed_file_name(),
        &cm.cert,
        &cm.key,
        digest,
        now.0 as u32,
        Backend::default(),
    )
    .map_err(failed)?;
    plan.add(dir.join(config.signed_file_name()), &sgn)?;
    let list = parse(&itl).map_err(failed)?;
    let verdict = match list.verify_self(Backend::default()) {
        Ok(i) => format!("verified (signer record {})", i + 1),
        Err(e) => format!("NOT verified: {e}"),
    };
    let _ = writeln!(
        summary,
        "  tftp/{host}/ITLFile.tlv  {} bytes, {} records, signer {}, {} {verdict}",
        itl.len(),
        list.records.len(),
        list.header.signer_name.as_deref().unwrap_or("?"),
        digest
    );
    let _ = writeln!(
        summary,
        "  tftp/{host}/CTLFile.tlv  {ctl_len} bytes; {}  {} bytes",
        config.signed_file_name(),
        sgn.len()
    );
    Ok(())
}

/// trust/<store>/<CN>.pem: each non-empty trust store, one PEM per certificate named after
/// its common name as OS Administration lists them; returns how many stores.
fn write_stores(
    cluster: &ClusterPki,
    mfg: &ManufacturingCa,
    plan: &mut Plan,
) -> Result<usize, DemoError> {
    let stores = cluster.initial_stores(Some(mfg));
    for (name, store) in &stores {
        let mut used = std::collections::BTreeSet::new();
        for c in store.iter() {
            let cn: String = c
                .subject()
                .common_name()
                .chars()
                .map(|ch| {
                    if ch.is_ascii_alphanumeric() || "-_.".contains(ch) {
                        ch
                    } else {
                        '_'
                    }
                })
                .collect();
            let mut file = format!("{cn}.pem");
            if !used.insert(file.clone()) {
                file = format!(
                    "{cn}_{}.pem",
                    &c.serial_hex()[..8.min(c.serial_hex().len())]
                );
            }
            let path = plan.out.join("trust").join(name.cucm_name()).join(file);
            plan.add(path, c.to_pem().as_bytes())?;
        }
    }
    Ok(stores.values().filter(|s| !s.is_empty()).count())
}

fn write_bundles(
    cluster: &ClusterPki,
    plan: &mut Plan,
    password: &str,
) -> Result<usize, DemoError> {
    let mut count = 0;
    for node in &cluster.nodes {
        let host = &node.spec.names.hostname;
        for t in [CertType::Tomcat, CertType::CallManager] {
            if let Some(id) = node.identity(t) {
                let bytes =
                    write_bundle(&[(t.cucm_name(), &id.cert)], None, password).map_err(failed)?;
                plan.add(
                    plan.out.join("sftp").join(bundle_file_name(host, t)),
                    &bytes,
                )?;
                count += 1;
            }
        }
    }
    let pub_host = &cluster.publisher().spec.names.hostname;
    for id in [&cluster.capf, &cluster.itl_recovery] {
        let t = id.cert_type.unwrap_or(CertType::Capf);
        let bytes = write_bundle(&[(t.cucm_name(), &id.cert)], None, password).map_err(failed)?;
        plan.add(
            plan.out.join("sftp").join(bundle_file_name(pub_host, t)),
            &bytes,
        )?;
        count += 1;
    }
    // `file get tftp ITLRecovery.p12`: the recovery key itself, for `utils itl reset remotekey`.
    let rec = &cluster.itl_recovery;
    let bytes = write_bundle(
        &[],
        Some(("ITLRecovery", &rec.key, std::slice::from_ref(&rec.cert))),
        password,
    )
    .map_err(failed)?;
    plan.add(
        plan.out.join("tftp").join(pub_host).join("ITLRecovery.p12"),
        &bytes,
    )?;
    Ok(count)
}
