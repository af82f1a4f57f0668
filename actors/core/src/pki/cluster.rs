//! A whole cluster's PKI generated from one seed: every node's identity certificates, the
//! cluster's ITLRecovery and CAPF, and the trust stores a fresh install starts with.
//!
//! ```text
//!  ClusterSpec{version, nodes, key profiles, now} ──generate(forge)──► ClusterPki
//!      ClusterPki::trust_list_certs() (in tlv::content) ──► ClusterCerts (ITL / CTL content)
//!      ClusterPki::initial_stores()   ──► CallManager-trust, tomcat-trust, CAPF-trust, …
//! ```
//! Simplifications, each [I]: ITLRecovery and CAPF exist once, on the publisher (true from
//! 12.5 and 14 respectively [C S12/S13]; older releases had per-node copies that the trust
//! lists do not use). The initial store contents follow §4.1 and S12 where they speak and are
//! otherwise a documented guess.

use super::identity::{CertType, Identity, IdentityRequest, NodeNames};
use super::keys::{KeyForge, KeyProfile};
use super::mic::ManufacturingCa;
use super::store::{StoreName, TrustStore};
use crate::error::CertError;
use crate::version::CucmVersion;
use crate::wall::WallTime;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// A node to generate.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    pub names: NodeNames,
    pub ip: Option<Ipv4Addr>,
    pub runs_callmanager: bool,
    pub runs_tftp: bool,
    /// An IM&P node (cup, cup-xmpp, cup-xmpp-s2s instead of CallManager/TVS).
    pub imp: bool,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    pub name: String,
    pub version: CucmVersion,
    /// `nodes[0]` is the publisher.
    pub nodes: Vec<NodeSpec>,
    /// Key profile per certificate type; missing types use CUCM's default.
    pub profiles: BTreeMap<CertType, KeyProfile>,
    /// Install time on the cluster's wall clock.
    pub now: WallTime,
    /// ITLRecovery validity: 5 years by default; 20 on 12.5SU6+ fresh installs [C S10/S11].
    pub itl_recovery_years: i64,
}

/// One generated node.
#[derive(Clone, Debug)]
pub struct NodePki {
    pub spec: NodeSpec,
    pub identities: BTreeMap<CertType, Identity>,
}

impl NodePki {
    /// The identity of `t`, if this node has one.
    pub fn identity(&self, t: CertType) -> Option<&Identity> {
        self.identities.get(&t)
    }
}

/// A generated cluster.
#[derive(Clone, Debug)]
pub struct ClusterPki {
    pub name: String,
    pub version: CucmVersion,
    pub nodes: Vec<NodePki>,
    pub itl_recovery: Identity,
    pub capf: Identity,
}

impl ClusterSpec {
    fn request<'a>(&self, names: &'a NodeNames, t: CertType) -> IdentityRequest<'a> {
        let mut req = IdentityRequest::new(names, t, self.now);
        req.profile = self
            .profiles
            .get(&t)
            .copied()
            .unwrap_or(t.default_profile());
        if t == CertType::ItlRecovery {
            req.validity_s = self.itl_recovery_years * WallTime::YEAR_S;
        }
        req
    }

    /// Generates every certificate from `forge`.
    pub fn generate(&self, forge: &KeyForge) -> Result<ClusterPki, CertError> {
        let publisher = self
            .nodes
            .first()
            .ok_or_else(|| CertError::Malformed("a cluster needs a publisher".into()))?;
        let mut nodes = vec![];
        for spec in &self.nodes {
            let types: &[CertType] = if spec.imp {
                &CertType::IMP_NODE
            } else {
                &CertType::CUCM_NODE
            };
            let mut identities = BTreeMap::new();
            for &t in types {
                identities.insert(t, self.request(&spec.names, t).issue_self_signed(forge)?);
            }
            nodes.push(NodePki {
                spec: spec.clone(),
                identities,
            });
        }
        Ok(ClusterPki {
            name: self.name.clone(),
            version: self.version,
            itl_recovery: self
                .request(&publisher.names, CertType::ItlRecovery)
                .issue_self_signed(forge)?,
            capf: self
                .request(&publisher.names, CertType::Capf)
                .issue_self_signed(forge)?,
            nodes,
        })
    }
}

impl ClusterPki {
    /// The publisher.
    pub fn publisher(&self) -> &NodePki {
        &self.nodes[0]
    }

    /// Every identity of the cluster with its node's hostname, in a stable order.
    pub fn identities(&self) -> Vec<(&str, &Identity)> {
        let mut out = vec![];
        for n in &self.nodes {
            for id in n.identities.values() {
                out.push((n.spec.names.hostname.as_str(), id));
            }
        }
        let pub_host = self.publisher().spec.names.hostname.as_str();
        out.push((pub_host, &self.itl_recovery));
        out.push((pub_host, &self.capf));
        out
    }

    /// The trust stores a fresh cluster starts with (the same on every node, CAPF-trust aside,
    /// which is node-local and here the publisher's): CallManager-trust ← every CallManager
    /// and the CAPF [C S12 "CAPF ... is a CallManager-trust certificate on all nodes"];
    /// tomcat-trust ← every Tomcat; ipsec-trust ← the publisher's ipsec (seed 002);
    /// CAPF-trust ← the CAPF and the manufacturing roots [C S14]; cup-trust / cup-xmpp-trust
    /// ← the IM&P certificates [I].
    pub fn initial_stores(&self, mfg: Option<&ManufacturingCa>) -> BTreeMap<StoreName, TrustStore> {
        let mut stores: BTreeMap<StoreName, TrustStore> = StoreName::ALL
            .iter()
            .map(|&n| (n, TrustStore::new(n)))
            .collect();
        let mut add = |store: StoreName, id: &Identity| {
            stores
                .get_mut(&store)
                .expect("every store exists")
                .add(id.cert.clone());
        };
        for n in &self.nodes {
            for (t, id) in &n.identities {
                match t {
                    CertType::CallManager => add(StoreName::CallManagerTrust, id),
                    CertType::CallManagerEcdsa => add(StoreName::CallManagerEcdsaTrust, id),
                    CertType::Tomcat => add(StoreName::TomcatTrust, id),
                    CertType::Cup => add(StoreName::CupTrust, id),
                    CertType::CupXmpp | CertType::CupXmppS2s => add(StoreName::CupXmppTrust, id),
                    _ => {}
                }
            }
        }
        if let Some(ipsec) = self.publisher().identity(CertType::Ipsec) {
            add(StoreName::IpsecTrust, ipsec);
        }
        add(StoreName::CallManagerTrust, &self.capf);
        add(StoreName::CapfTrust, &self.capf);
        if let Some(mfg) = mfg {
            add(StoreName::CapfTrust, &mfg.root);
            add(StoreName::CapfTrust, &mfg.issuing);
        }
        stores
    }
}
