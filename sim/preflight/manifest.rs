//! `cluster.toml`: what a cluster directory's files cannot say — the cluster's name, its CUCM
//! version, its security mode, the nodes (names, IPs, services) and the password of its Bulk
//! Certificate Management export. Every key is optional; preflight infers what is missing
//! (see [`super::infer`]). Unknown keys are refused with `file:line:col`.
//!
//! ```toml
//! name = "SRC"
//! version = "10.5"
//! security_mode = "mixed"        # or "non-secure"
//! bundle_password = "cucmsim"
//! [[node]]
//! name = "SRCPUB"
//! ip = "10.1.0.1"
//! services = ["callmanager", "tftp", "tvs", "capf"]
//! ```

use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::Path;

/// The parsed `cluster.toml`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: Option<String>,
    pub version: Option<String>,
    /// `"mixed"` or `"non-secure"`.
    pub security_mode: Option<String>,
    pub bundle_password: Option<String>,
    #[serde(default, rename = "node", skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<ManifestNode>,
}

/// One `[[node]]`: the publisher first.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ManifestNode {
    pub name: String,
    pub ip: Option<Ipv4Addr>,
    /// Any of `callmanager`, `tftp`, `tvs`, `capf` (default: what the node's files show).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
}

/// The services a `[[node]]` may list.
pub const SERVICES: [&str; 4] = ["callmanager", "tftp", "tvs", "capf"];

impl Manifest {
    /// Reads `path`; a syntax or schema error names `path:line:col`.
    pub fn read(path: &Path) -> Result<Manifest, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let m: Manifest = toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| line_col(&text, s.start))
                .map(|(l, c)| format!(":{l}:{c}"))
                .unwrap_or_default();
            format!("{}{at}: {}", path.display(), e.message())
        })?;
        m.check().map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(m)
    }

    fn check(&self) -> Result<(), String> {
        if let Some(mode) = &self.security_mode {
            if !matches!(mode.as_str(), "mixed" | "non-secure") {
                return Err(format!(
                    "security_mode {mode:?}: expected \"mixed\" or \"non-secure\""
                ));
            }
        }
        for n in &self.nodes {
            if let Some(s) = n.services.iter().find(|s| !SERVICES.contains(&s.as_str())) {
                return Err(format!(
                    "node {:?}: unknown service {s:?}; expected one of {}",
                    n.name,
                    SERVICES.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// The TOML text (what `pki demo` writes), with a comment saying what the file is for.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!(
            "# What this cluster's files cannot say, for `cucmsim preflight` (README.md, section Preflight).\n\
             # Every key is optional: preflight infers what is missing from the files.\n{body}"
        )
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}
