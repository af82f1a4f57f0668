//! Reading one cluster directory in the documented layout (README.md, "Preflight") — the files an
//! engineer can pull from a real cluster. Every file is untrusted input: anything unreadable,
//! unparsable or unverifiable stops the load with one message that names the file.
//!
//! ```text
//!  DIR/cluster.toml                      optional: what the files cannot say (manifest.rs)
//!  DIR/tftp/<node>/ITLFile.tlv           `file get tftp ITLFile.tlv` (parsed, self-verified)
//!  DIR/tftp/<node>/CTLFile.tlv           mixed mode only
//!  DIR/tftp/<node>/SEP<MAC>.cnf.xml[.sgn] optional: a phone's config (TVS list, CAPF list)
//!  DIR/sftp/<HOST>_<type>.pkcs12         Bulk Certificate Management export (password)
//!  DIR/trust/<store>/*.pem|*.der         each trust store, as downloaded from OS Administration
//!  DIR/certs/<node>/<type>.pem|.der      identity certificates (CallManager, TVS, tomcat, …)
//! ```

use super::manifest::Manifest;
use cucmsim_core::pkcs12::read_bundle;
use cucmsim_core::pki::identity::CertType;
use cucmsim_core::pki::{Backend, Certificate, StoreName};
use cucmsim_core::sgn::{parse_signed_config, PhoneConfig};
use cucmsim_core::tlv::{parse_shared, TrustList};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A value read from a file, with the file it came from (for messages and evidence).
#[derive(Clone, Debug)]
pub struct Loaded<T> {
    pub path: PathBuf,
    pub value: T,
}

/// What one node's directories hold.
#[derive(Clone, Debug, Default)]
pub struct NodeFiles {
    pub name: String,
    pub itl: Option<Loaded<Arc<TrustList>>>,
    pub ctl: Option<Loaded<Arc<TrustList>>>,
    pub config: Option<Loaded<PhoneConfig>>,
    pub certs: BTreeMap<CertType, Loaded<Certificate>>,
}

/// One PKCS#12 file of the Bulk Certificate Management export.
#[derive(Clone, Debug)]
pub struct BundleFile {
    pub path: PathBuf,
    pub cert_type: CertType,
    pub certs: Vec<Certificate>,
}

/// Everything read from one cluster directory.
#[derive(Clone, Debug)]
pub struct ClusterFiles {
    pub dir: PathBuf,
    pub manifest: Option<Loaded<Manifest>>,
    /// Nodes named by `tftp/` or `certs/` subdirectories (or the manifest), sorted by name.
    pub nodes: Vec<NodeFiles>,
    pub stores: BTreeMap<StoreName, Vec<Loaded<Certificate>>>,
    pub bundles: Vec<BundleFile>,
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))
}

/// The entries of a directory, sorted; an absent directory is empty.
fn entries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if !dir.exists() {
        return Ok(vec![]);
    }
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: cannot list: {e}", dir.display()))?;
    let mut out: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    out.sort();
    Ok(out)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Every certificate in a PEM (one or more blocks) or DER file.
pub fn read_certs(path: &Path) -> Result<Vec<Certificate>, String> {
    let bytes = read(path)?;
    let bad = |e: String| format!("{}: not a certificate: {e}", path.display());
    if bytes.starts_with(b"-----") || bytes.iter().take(64).all(|b| b.is_ascii()) {
        let text = String::from_utf8(bytes).map_err(|e| bad(e.to_string()))?;
        let blocks = pem::parse_many(&text).map_err(|e| bad(e.to_string()))?;
        let certs: Vec<Certificate> = blocks
            .iter()
            .filter(|b| b.tag() == "CERTIFICATE")
            .map(|b| Certificate::from_der(b.contents()).map_err(|e| bad(e.to_string())))
            .collect::<Result<_, _>>()?;
        if certs.is_empty() {
            return Err(bad("no CERTIFICATE block".into()));
        }
        return Ok(certs);
    }
    Certificate::from_der(&bytes)
        .map(|c| vec![c])
        .map_err(|e| bad(e.to_string()))
}

/// An ITL or CTL: parsed, of the kind its name says, and verified by its own signer record.
fn read_trust_list(path: &Path, kind: &str) -> Result<Arc<TrustList>, String> {
    let bytes = read(path)?;
    let list = parse_shared(&bytes)
        .map_err(|e| format!("{}: not a readable {kind}: {e}", path.display()))?;
    if list.kind() != kind.to_ascii_lowercase() {
        return Err(format!(
            "{}: its header names {:?}, not an {kind}",
            path.display(),
            list.header.filename.as_deref().unwrap_or("")
        ));
    }
    list.verify_self(Backend::default()).map_err(|e| {
        format!(
            "{}: the {kind}'s signature does not verify with its own signer record: {e}",
            path.display()
        )
    })?;
    Ok(list)
}

fn read_config(path: &Path) -> Result<PhoneConfig, String> {
    let bytes = read(path)?;
    let bad = |e: String| format!("{}: not a readable phone config: {e}", path.display());
    if file_name(path).ends_with(".sgn") {
        let signed = parse_signed_config(&bytes).map_err(|e| bad(e.to_string()))?;
        signed.config().map_err(bad)
    } else {
        let xml = String::from_utf8(bytes).map_err(|e| bad(e.to_string()))?;
        PhoneConfig::from_xml(&xml).map_err(bad)
    }
}

fn load_tftp(dir: &Path, node: &mut NodeFiles) -> Result<(), String> {
    for path in entries(dir)? {
        let name = file_name(&path);
        let upper = name.to_ascii_uppercase();
        if name == "ITLFile.tlv" {
            let value = read_trust_list(&path, "ITL")?;
            node.itl = Some(Loaded { path, value });
        } else if name == "CTLFile.tlv" {
            let value = read_trust_list(&path, "CTL")?;
            node.ctl = Some(Loaded { path, value });
        } else if upper.starts_with("SEP")
            && (upper.ends_with(".CNF.XML") || upper.ends_with(".CNF.XML.SGN"))
            && node.config.is_none()
        {
            let value = read_config(&path)?;
            node.config = Some(Loaded { path, value });
        }
    }
    Ok(())
}

fn load_certs(dir: &Path, node: &mut NodeFiles) -> Result<(), String> {
    for path in entries(dir)? {
        let name = file_name(&path);
        let Some((stem, _)) = name
            .rsplit_once('.')
            .filter(|(_, ext)| matches!(*ext, "pem" | "der" | "crt"))
        else {
            continue;
        };
        let t: CertType = stem
            .parse()
            .map_err(|e| format!("{}: {e} (the file is named after its type)", path.display()))?;
        let value = read_certs(&path)?.remove(0);
        node.certs.insert(t, Loaded { path, value });
    }
    Ok(())
}

fn load_stores(dir: &Path) -> Result<BTreeMap<StoreName, Vec<Loaded<Certificate>>>, String> {
    let mut stores = BTreeMap::new();
    for store_dir in entries(dir)?.into_iter().filter(|p| p.is_dir()) {
        let store: StoreName = file_name(&store_dir).parse().map_err(|e| {
            format!(
                "{}: {e} (each directory is named after a trust store)",
                store_dir.display()
            )
        })?;
        let list: &mut Vec<Loaded<Certificate>> = stores.entry(store).or_default();
        for path in entries(&store_dir)? {
            let ext = file_name(&path)
                .rsplit('.')
                .next()
                .unwrap_or("")
                .to_string();
            if !matches!(ext.as_str(), "pem" | "der" | "crt") {
                continue;
            }
            for value in read_certs(&path)? {
                list.push(Loaded {
                    path: path.clone(),
                    value,
                });
            }
        }
    }
    Ok(stores)
}

fn load_bundles(dir: &Path, password: &str) -> Result<Vec<BundleFile>, String> {
    let mut out = vec![];
    for path in entries(dir)? {
        let name = file_name(&path);
        if !name.ends_with(".pkcs12") {
            continue;
        }
        let cert_type =
            cucmsim_core::machine::publisher::bulk::bundle_type(&name).ok_or_else(|| {
                format!(
                    "{}: cannot tell the certificate type from the name (CUCM's export names \
                 files <HOST>_<type>.pkcs12, e.g. CUCMPUB_CallManager.pkcs12)",
                    path.display()
                )
            })?;
        let bundle = read_bundle(&read(&path)?, password).map_err(|e| {
            format!(
                "{}: {e} (the password is --password, else cluster.toml's bundle_password, else cucmsim)",
                path.display()
            )
        })?;
        let certs: Vec<Certificate> = bundle.all_certificates().into_iter().cloned().collect();
        out.push(BundleFile {
            path,
            cert_type,
            certs,
        });
    }
    Ok(out)
}

impl ClusterFiles {
    /// Reads cluster directory `dir`; `password` (else `cluster.toml`'s `bundle_password`,
    /// else `cucmsim`) opens the PKCS#12 bundles.
    pub fn load(dir: &Path, password: Option<&str>) -> Result<ClusterFiles, String> {
        if !dir.is_dir() {
            return Err(format!("{}: no such cluster directory", dir.display()));
        }
        let manifest_path = dir.join("cluster.toml");
        let manifest = if manifest_path.exists() {
            Some(Loaded {
                value: Manifest::read(&manifest_path)?,
                path: manifest_path,
            })
        } else {
            None
        };
        let mut nodes: BTreeMap<String, NodeFiles> = BTreeMap::new();
        for (sub, tftp) in [("tftp", true), ("certs", false)] {
            for d in entries(&dir.join(sub))?.into_iter().filter(|p| p.is_dir()) {
                let name = file_name(&d);
                let node = nodes.entry(name.clone()).or_insert_with(|| NodeFiles {
                    name,
                    ..NodeFiles::default()
                });
                if tftp {
                    load_tftp(&d, node)?;
                } else {
                    load_certs(&d, node)?;
                }
            }
        }
        if let Some(m) = &manifest {
            for n in &m.value.nodes {
                nodes.entry(n.name.clone()).or_insert_with(|| NodeFiles {
                    name: n.name.clone(),
                    ..NodeFiles::default()
                });
            }
        }
        if nodes.is_empty() {
            return Err(format!(
                "{}: no node found: expected tftp/<node>/ITLFile.tlv or certs/<node>/*.pem \
                 (see the README's \"Preflight\" section)",
                dir.display()
            ));
        }
        let password = password
            .map(str::to_string)
            .or_else(|| {
                manifest
                    .as_ref()
                    .and_then(|m| m.value.bundle_password.clone())
            })
            .unwrap_or_else(|| cucmsim_core::machine::publisher::BUNDLE_PASSWORD.to_string());
        Ok(ClusterFiles {
            dir: dir.to_path_buf(),
            stores: load_stores(&dir.join("trust"))?,
            bundles: load_bundles(&dir.join("sftp"), &password)?,
            manifest,
            nodes: nodes.into_values().collect(),
        })
    }

    /// Every certificate the directory holds with the file it came from.
    pub fn all_certs(&self) -> Vec<(&Path, &Certificate)> {
        let mut out: Vec<(&Path, &Certificate)> = vec![];
        for n in &self.nodes {
            out.extend(n.certs.values().map(|l| (l.path.as_path(), &l.value)));
        }
        for list in self.stores.values() {
            out.extend(list.iter().map(|l| (l.path.as_path(), &l.value)));
        }
        out
    }
}
