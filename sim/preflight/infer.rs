//! From the files of a cluster directory to the cluster preflight reasons about: its name,
//! version, security mode, nodes (publisher first) with their services, IPs and TVS
//! certificates, the phones' TVS list and the trust stores. What `cluster.toml` does not say
//! is inferred from the files, and every inference is written down (`notes`). Certificates
//! that cannot belong to this cluster, or are outside their validity at the migration date,
//! are refused with the file's name.
//!
//! ```text
//!  ClusterFiles ──infer──► Cluster { nodes, tvs_list, stores, notes }
//!   version      cluster.toml, else the ITL's signer: ITLRecovery ⇒ 12.x, CallManager ⇒ < 12.0
//!   mixed mode   cluster.toml, else a CTLFile.tlv present
//!   TVS cert     certs/<node>/TVS.pem, else the ITL's TVS record for that node's name
//!   TVS list     a SEP<MAC>.cnf.xml[.sgn]'s <TVS> members, else every node with a TVS
//! ```

use super::layout::{ClusterFiles, Loaded, NodeFiles};
use cucmsim_core::pki::identity::CertType;
use cucmsim_core::pki::{Certificate, StoreName, TrustStore};
use cucmsim_core::tlv::{content::CucmVersion, Role, TrustList};
use cucmsim_core::WallTime;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A node as preflight sees it.
#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    pub ip: Option<Ipv4Addr>,
    pub tftp: bool,
    pub tvs: bool,
    pub callmanager: bool,
    pub files: NodeFiles,
    /// The certificate the node's TVS presents, and where it was found.
    pub tvs_cert: Option<(Certificate, String)>,
}

/// A cluster as preflight sees it.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub name: String,
    pub dir: PathBuf,
    pub version: CucmVersion,
    pub mixed: bool,
    /// `nodes[0]` is the publisher.
    pub nodes: Vec<Node>,
    /// The TVS hosts a phone's config lists, in order, and where that list came from.
    pub tvs_list: Vec<String>,
    pub tvs_list_from: String,
    pub stores: BTreeMap<StoreName, TrustStore>,
    /// Where each store certificate was read from, by SHA-1.
    pub store_files: BTreeMap<String, PathBuf>,
    pub itl_recovery: Option<Certificate>,
    pub capf: Option<Certificate>,
    pub files: ClusterFiles,
    /// What was inferred rather than read from cluster.toml, one line each.
    pub notes: Vec<String>,
    /// Certificates outside their validity that do not stop the preflight (trust stores).
    pub warnings: Vec<String>,
}

impl Cluster {
    /// The nodes running TFTP, in node order.
    pub fn tftp_nodes(&self) -> Vec<&Node> {
        self.nodes
            .iter()
            .filter(|n| n.tftp && n.files.itl.is_some())
            .collect()
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes
            .iter()
            .find(|n| n.name.eq_ignore_ascii_case(name))
    }
}

fn rel(files: &ClusterFiles, p: &Path) -> String {
    p.strip_prefix(&files.dir)
        .unwrap_or(p)
        .display()
        .to_string()
}

/// The index of the publisher: the manifest's first node, else the node holding the
/// ITLRecovery or CAPF certificate, else a name ending in PUB, else the first.
fn publisher_ix(files: &ClusterFiles) -> usize {
    let first = files
        .manifest
        .as_ref()
        .and_then(|m| m.value.nodes.first().map(|n| n.name.clone()));
    let by = |f: &dyn Fn(&NodeFiles) -> bool| files.nodes.iter().position(f);
    first
        .and_then(|name| by(&|n: &NodeFiles| n.name == name))
        .or_else(|| {
            by(&|n: &NodeFiles| {
                n.certs.contains_key(&CertType::ItlRecovery)
                    || n.certs.contains_key(&CertType::Capf)
            })
        })
        .or_else(|| by(&|n: &NodeFiles| n.name.to_ascii_uppercase().ends_with("PUB")))
        .unwrap_or(0)
}

/// Whether an ITL/CTL record names `node` (its DNS name is the host or its FQDN).
fn names_node(dns: Option<&str>, node: &str) -> bool {
    dns.is_some_and(|d| {
        let host = d.split('.').next().unwrap_or(d);
        host.eq_ignore_ascii_case(node)
    })
}

fn all_itls(files: &ClusterFiles) -> Vec<&Loaded<Arc<TrustList>>> {
    files.nodes.iter().filter_map(|n| n.itl.as_ref()).collect()
}

fn infer_tvs_cert(files: &ClusterFiles, n: &NodeFiles) -> Option<(Certificate, String)> {
    if let Some(c) = n.certs.get(&CertType::Tvs) {
        return Some((c.value.clone(), rel(files, &c.path)));
    }
    for itl in all_itls(files) {
        for (i, r) in itl.value.records.iter().enumerate() {
            if r.role == Some(Role::Tvs) && names_node(r.dns_name.as_deref(), &n.name) {
                if let Some(c) = r
                    .certificate
                    .as_deref()
                    .and_then(|d| Certificate::from_der(d).ok())
                {
                    return Some((c, format!("{} record {}", rel(files, &itl.path), i + 1)));
                }
            }
        }
    }
    None
}

fn infer_ip(files: &ClusterFiles, n: &NodeFiles) -> Option<Ipv4Addr> {
    all_itls(files).into_iter().find_map(|itl| {
        itl.value
            .records
            .iter()
            .find(|r| names_node(r.dns_name.as_deref(), &n.name))
            .and_then(|r| r.ip)
    })
}

fn infer_version(files: &ClusterFiles, notes: &mut Vec<String>) -> Result<CucmVersion, String> {
    if let Some(m) = &files.manifest {
        if let Some(v) = &m.value.version {
            return v
                .parse()
                .map_err(|e| format!("{}: version {v:?}: {e}", m.path.display()));
        }
    }
    let Some(itl) = all_itls(files).into_iter().next() else {
        notes.push("version: not given and no ITL to infer it from; taken as 12.5".into());
        return Ok(CucmVersion::new(12, 5, 0));
    };
    let signer = itl.value.signer_record();
    let by_recovery = signer
        .and_then(|r| r.subject.as_deref())
        .is_some_and(|s| s.to_ascii_uppercase().contains("ITLRECOVERY"));
    let (v, why) = if by_recovery {
        ((12, 5), "signed by ITLRecovery, so 12.0 or later")
    } else {
        (
            (11, 5),
            "signed by a CallManager certificate, so before 12.0",
        )
    };
    notes.push(format!(
        "version: not given in cluster.toml; {} is {why} (taken as {}.{})",
        rel(files, &itl.path),
        v.0,
        v.1
    ));
    Ok(CucmVersion::new(v.0, v.1, 0))
}

fn check_date(
    files: &ClusterFiles,
    path: &Path,
    c: &Certificate,
    at: WallTime,
) -> Result<(), String> {
    c.check_validity(at).map_err(|_| {
        let (nb, na) = (c.not_before(), c.not_after());
        let what = if at < nb {
            "is not valid before"
        } else {
            "expired on"
        };
        let when = if at < nb { nb } else { na };
        format!(
            "{}: {} {what} {when} (preflight date {at}; --date sets it)",
            rel(files, path),
            c.subject().to_cucm()
        )
    })
}

/// Refuses identity certificates that cannot be this cluster's: not in the ITL their node
/// serves (CallManager), or in none of the cluster's ITLs (TVS).
fn check_belongs(files: &ClusterFiles) -> Result<(), String> {
    let itls = all_itls(files);
    let in_itl = |itl: &TrustList, c: &Certificate, role: Role| {
        itl.records
            .iter()
            .any(|r| r.role == Some(role) && r.certificate.as_deref() == Some(c.der()))
    };
    for n in &files.nodes {
        if let (Some(cm), Some(itl)) = (n.certs.get(&CertType::CallManager), &n.itl) {
            let roles = [Role::CcmTftp, Role::Tftp, Role::Sast];
            if !roles.iter().any(|&r| in_itl(&itl.value, &cm.value, r)) {
                return Err(format!(
                    "{}: {} (serial {}) is not in {}, which this node serves: a certificate \
                     of another cluster, or a stale file",
                    rel(files, &cm.path),
                    cm.value.subject().to_cucm(),
                    cm.value.serial_hex(),
                    rel(files, &itl.path)
                ));
            }
        }
        if let (Some(tvs), false) = (n.certs.get(&CertType::Tvs), itls.is_empty()) {
            if !itls
                .iter()
                .any(|itl| in_itl(&itl.value, &tvs.value, Role::Tvs))
            {
                return Err(format!(
                    "{}: {} (serial {}) is a TVS record of none of this cluster's ITLs: a \
                     certificate of another cluster, or a stale file",
                    rel(files, &tvs.path),
                    tvs.value.subject().to_cucm(),
                    tvs.value.serial_hex()
                ));
            }
        }
    }
    Ok(())
}

fn node(files: &ClusterFiles, n: &NodeFiles) -> Node {
    let m = files
        .manifest
        .as_ref()
        .and_then(|m| m.value.nodes.iter().find(|x| x.name == n.name).cloned());
    let listed = |s: &str| {
        m.as_ref()
            .is_some_and(|m| m.services.iter().any(|x| x == s))
    };
    let given = m.as_ref().is_some_and(|m| !m.services.is_empty());
    let tvs_cert = infer_tvs_cert(files, n);
    Node {
        name: n.name.clone(),
        ip: m.as_ref().and_then(|m| m.ip).or_else(|| infer_ip(files, n)),
        tftp: if given {
            listed("tftp")
        } else {
            n.itl.is_some()
        },
        tvs: if given {
            listed("tvs")
        } else {
            tvs_cert.is_some()
        },
        callmanager: if given {
            listed("callmanager")
        } else {
            n.itl.is_some() || n.certs.contains_key(&CertType::CallManager)
        },
        files: n.clone(),
        tvs_cert,
    }
}

fn infer_mixed(files: &ClusterFiles, notes: &mut Vec<String>) -> bool {
    let given = files
        .manifest
        .as_ref()
        .and_then(|m| m.value.security_mode.clone());
    if let Some(mode) = given {
        return mode == "mixed";
    }
    let mixed = files.nodes.iter().any(|n| n.ctl.is_some());
    notes.push(format!(
        "security mode: not given; {} (a CTLFile.tlv {})",
        if mixed { "mixed" } else { "non-secure" },
        if mixed { "is present" } else { "is absent" }
    ));
    mixed
}

/// The nodes, publisher first, with what was inferred about them noted.
fn infer_nodes(files: &ClusterFiles, notes: &mut Vec<String>) -> Vec<Node> {
    let mut nodes: Vec<Node> = files.nodes.iter().map(|n| node(files, n)).collect();
    let publisher = nodes.remove(publisher_ix(files));
    nodes.insert(0, publisher);
    let given = files
        .manifest
        .as_ref()
        .is_some_and(|m| !m.value.nodes.is_empty());
    if !given {
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        notes.push(format!(
            "nodes: not given; {} from tftp/ and certs/, publisher {}",
            names.join(", "),
            nodes[0].name
        ));
    }
    for n in nodes.iter().filter(|n| n.tvs) {
        match &n.tvs_cert {
            Some((_, from)) if !from.starts_with("certs/") => {
                notes.push(format!("TVS certificate of {}: from {from}", n.name))
            }
            None => notes.push(format!(
                "TVS of {}: no certs/{}/TVS.pem and no ITL record for it; phones cannot use it",
                n.name, n.name
            )),
            _ => {}
        }
    }
    nodes
}

/// The trust stores as downloaded; certificates outside their validity at `at` are kept
/// (CUCM keeps them too) and warned about.
type Stores = (
    BTreeMap<StoreName, TrustStore>,
    BTreeMap<String, PathBuf>,
    Vec<String>,
);

fn infer_stores(files: &ClusterFiles, at: WallTime) -> Stores {
    let mut stores = BTreeMap::new();
    let mut store_files = BTreeMap::new();
    let mut warnings = vec![];
    for (name, list) in &files.stores {
        let store = stores
            .entry(*name)
            .or_insert_with(|| TrustStore::new(*name));
        for l in list {
            if l.value.check_validity(at).is_err() {
                warnings.push(format!(
                    "{}: {} is outside its validity on {at} (not after {})",
                    rel(files, &l.path),
                    l.value.subject().to_cucm(),
                    l.value.not_after()
                ));
            }
            store.add(l.value.clone());
            store_files.insert(l.value.sha1_hex(), l.path.clone());
        }
    }
    (stores, store_files, warnings)
}

/// The cluster of `files` at migration date `at`.
pub fn infer(files: ClusterFiles, at: WallTime) -> Result<Cluster, String> {
    let mut notes = vec![];
    let name = files
        .manifest
        .as_ref()
        .and_then(|m| m.value.name.clone())
        .unwrap_or_else(|| {
            let n = files
                .dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            notes.push("name: not given in cluster.toml; the directory's name".into());
            n.unwrap_or_else(|| "cluster".into())
        });
    for n in &files.nodes {
        for c in n.certs.values() {
            check_date(&files, &c.path, &c.value, at)?;
        }
    }
    check_belongs(&files)?;
    let version = infer_version(&files, &mut notes)?;
    let mixed = infer_mixed(&files, &mut notes);
    let nodes = infer_nodes(&files, &mut notes);
    let (tvs_list, tvs_list_from) = tvs_list(&files, &nodes);
    let (stores, store_files, warnings) = infer_stores(&files, at);
    let find = |t: CertType| {
        files
            .nodes
            .iter()
            .find_map(|n| n.certs.get(&t).map(|c| c.value.clone()))
    };
    Ok(Cluster {
        name,
        dir: files.dir.clone(),
        version,
        mixed,
        itl_recovery: find(CertType::ItlRecovery),
        capf: find(CertType::Capf),
        nodes,
        tvs_list,
        tvs_list_from,
        stores,
        store_files,
        files,
        notes,
        warnings,
    })
}

fn tvs_list(files: &ClusterFiles, nodes: &[Node]) -> (Vec<String>, String) {
    if let Some(c) = files.nodes.iter().find_map(|n| n.config.as_ref()) {
        let list: Vec<String> = c.value.tvs.iter().map(|s| s.address.clone()).collect();
        return (list, rel(files, &c.path));
    }
    let list = nodes
        .iter()
        .filter(|n| n.tvs)
        .map(|n| n.name.clone())
        .collect();
    (
        list,
        "every node with a TVS (no phone config in tftp/)".into(),
    )
}
