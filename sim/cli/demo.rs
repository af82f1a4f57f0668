//! `cucmsim pki demo`: a small two-node cluster's real artefacts on disk, so anyone can look
//! at CUCM-format files within a minute.
//!
//! ```text
//!  DIR/certs/<HOST>/<type>.pem        identity certificates (CallManager, TVS, tomcat, …)
//!  DIR/certs/mfg/*.pem                Cisco Root CA 2048, Cisco Manufacturing CA, a phone MIC
//!  DIR/tftp/<HOST>/ITLFile.tlv        the ITL each TFTP node serves (also as ITLSEP<MAC>.tlv)
//!  DIR/tftp/<HOST>/CTLFile.tlv        the mixed-mode CTL
//!  DIR/tftp/<HOST>/SEP<MAC>.cnf.xml.sgn  a signed phone configuration file
//!  DIR/rollback/ITLFile.tlv           the "Prepare Cluster for Rollback" ITL
//!  DIR/sftp/<HOST>_<type>.pkcs12      Bulk Certificate Management export
//!  DIR/stores/<store>.txt             the trust stores a fresh cluster starts with
//! ```

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
use std::path::{Path, PathBuf};

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
    #[arg(long, default_value = "12.5")]
    pub cucm_version: String,
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

fn parse_date(text: &str) -> Option<WallTime> {
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

fn spec(args: &DemoArgs) -> Result<ClusterSpec, DemoError> {
    let version: CucmVersion = args.cucm_version.parse().map_err(DemoError::Input)?;
    let key: KeyProfile = args.key.parse().map_err(DemoError::Input)?;
    let now = parse_date(&args.date).ok_or_else(|| {
        DemoError::Input(format!(
            "bad --date {:?}: expected YYYY-MM-DD between 1970-01-01 and 9979-12-31",
            args.date
        ))
    })?;
    let node = |host: &str, last: u8| NodeSpec {
        names: NodeNames::lab("demo", host),
        ip: Some(Ipv4Addr::new(10, 10, 10, last)),
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
        name: "demo".into(),
        version,
        nodes: vec![node("CUCMPUB", 1), node("CUCMSUB", 2)],
        profiles,
        now,
        itl_recovery_years: if version >= "12.5".parse().map_err(DemoError::Input)? {
            20
        } else {
            5
        },
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), DemoError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, bytes).map_err(|e| failed(format!("cannot write {}: {e}", path.display())))
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
    let out = &args.out;
    let mut summary = format!(
        "cucmsim pki demo: CUCM {} cluster \"demo\", seed {}, into {}\n",
        spec.version,
        args.seed,
        out.display()
    );
    let mac = "B000B4BA0AEE";
    write_certs(&cluster, &mfg, &forge, mac, spec.now, out)?;
    let pub_host = cluster.publisher().spec.names.hostname.clone();
    let config = phone_config(&cluster, mac);
    for ix in 0..cluster.nodes.len() {
        write_tftp(&cluster, ix, &config, digest, spec.now, out, &mut summary)?;
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
    write(&out.join("rollback/ITLFile.tlv"), &rollback)?;

    let bundles = write_bundles(&cluster, out, &args.password)?;
    let _ = writeln!(
        summary,
        "  sftp/: {bundles} PKCS#12 bundles (password {:?})",
        args.password
    );
    let stores = write_stores(&cluster, &mfg, out)?;
    let _ = writeln!(
        summary,
        "  certs/, rollback/ITLFile.tlv, stores/ ({stores} non-empty trust stores)"
    );
    let _ = writeln!(
        summary,
        "Look inside: cucmsim inspect {}",
        out.join("tftp")
            .join(&pub_host)
            .join("ITLFile.tlv")
            .display()
    );
    Ok(summary)
}

/// certs/: every node's identity certificates, the manufacturing CA's and one phone's MIC.
fn write_certs(
    cluster: &ClusterPki,
    mfg: &ManufacturingCa,
    forge: &KeyForge,
    mac: &str,
    now: WallTime,
    out: &Path,
) -> Result<(), DemoError> {
    for (host, id) in cluster.identities() {
        let t = id.cert_type.map(|t| t.cucm_name()).unwrap_or("cert");
        write(
            &out.join("certs").join(host).join(format!("{t}.pem")),
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
        write(
            &out.join("certs/mfg").join(format!("{name}.pem")),
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

/// tftp/<host>/: the node's ITL (and ITLSEP<MAC>), the CTL and the signed config file.
fn write_tftp(
    cluster: &ClusterPki,
    ix: usize,
    config: &PhoneConfig,
    digest: DigestAlg,
    now: WallTime,
    out: &Path,
    summary: &mut String,
) -> Result<(), DemoError> {
    let certs = cluster.trust_list_certs();
    let host = &cluster.nodes[ix].spec.names.hostname;
    let dir = out.join("tftp").join(host);
    let signer = certs
        .itl_signer(ix)
        .ok_or_else(|| failed("no ITL signer"))?;
    let itl = sign_list(signer, "ITLFile.tlv", certs.itl_records(ix), digest, now)?;
    write(&dir.join("ITLFile.tlv"), &itl)?;
    write(&dir.join(format!("ITL{}.tlv", config.device_name)), &itl)?;
    let ctl_signer = certs.ctl_signer().ok_or_else(|| failed("no CTL signer"))?;
    let ctl = sign_list(
        ctl_signer,
        "CTLFile.tlv",
        certs.ctl_records(CtlMode::Mixed),
        digest,
        now,
    )?;
    write(&dir.join("CTLFile.tlv"), &ctl)?;
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
    write(&dir.join(config.signed_file_name()), &sgn)?;
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
        "  tftp/{host}/CTLFile.tlv  {} bytes; {}  {} bytes",
        ctl.len(),
        config.signed_file_name(),
        sgn.len()
    );
    Ok(())
}

/// stores/: each non-empty trust store as text; returns how many.
fn write_stores(
    cluster: &ClusterPki,
    mfg: &ManufacturingCa,
    out: &Path,
) -> Result<usize, DemoError> {
    let stores = cluster.initial_stores(Some(mfg));
    for (name, store) in &stores {
        if store.is_empty() {
            continue;
        }
        let text: String = store
            .iter()
            .map(|c| {
                format!(
                    "{}  serial {}  sha1 {}\n",
                    c.subject(),
                    c.serial_hex(),
                    c.sha1_hex()
                )
            })
            .collect();
        write(
            &out.join("stores").join(format!("{name}.txt")),
            text.as_bytes(),
        )?;
    }
    Ok(stores.values().filter(|s| !s.is_empty()).count())
}

fn write_bundles(cluster: &ClusterPki, out: &Path, password: &str) -> Result<usize, DemoError> {
    let mut count = 0;
    for node in &cluster.nodes {
        let host = &node.spec.names.hostname;
        for t in [CertType::Tomcat, CertType::CallManager] {
            if let Some(id) = node.identity(t) {
                let bytes =
                    write_bundle(&[(t.cucm_name(), &id.cert)], None, password).map_err(failed)?;
                write(&out.join("sftp").join(bundle_file_name(host, t)), &bytes)?;
                count += 1;
            }
        }
    }
    let pub_host = &cluster.publisher().spec.names.hostname;
    for id in [&cluster.capf, &cluster.itl_recovery] {
        let t = id.cert_type.unwrap_or(CertType::Capf);
        let bytes = write_bundle(&[(t.cucm_name(), &id.cert)], None, password).map_err(failed)?;
        write(
            &out.join("sftp").join(bundle_file_name(pub_host, t)),
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
    write(
        &out.join("tftp").join(pub_host).join("ITLRecovery.p12"),
        &bytes,
    )?;
    Ok(count)
}
