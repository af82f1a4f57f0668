//! IM&P nodes on a cluster's publisher (seed 002, "Regenerate CUCM IM/P service self-signed
//! certificates"): the five identity certificates (cup, cup-xmpp, cup-xmpp-s2s, ipsec,
//! tomcat), each node's trust stores (cup-trust, cup-xmpp-trust, cup-xmpp-s2s-trust,
//! ipsec-trust, tomcat-trust), regeneration publisher first, the service restarts in the
//! seed's order, the Presence Redundancy Group's High Availability, the ipsec-trust check,
//! deleting trust certificates, and the Jabber clients that sign in to the IM&P nodes.
//!
//! ```text
//!  Regenerate{type, node} ─► refused on an IM&P subscriber before the IM&P publisher
//!        │                   (this round of `type`) · new key + serial from the seed
//!        └─ every node's stores (and the cluster's): old certificate → new one
//!           the running services keep presenting the old one until restarted
//!  RestartServices{type} ─► refused while High Availability is on · in the seed's order,
//!        each service on the publisher first, then every subscriber:
//!          cup          Cisco SIP Proxy, Cisco Presence Engine
//!                       (+ Cisco XCP SIP Federation Connection Manager with SIP federation)
//!          cup-xmpp     Cisco XCP Router
//!          cup-xmpp-s2s Cisco XCP Router, Cisco XCP XMPP Federation Connection Manager
//!          ipsec        Cisco DRF Master (CUCM publisher), Cisco DRF Local (every node)
//!                       ─► then the ipsec-trust check
//!          tomcat       Cisco Tomcat (every IM&P node)
//!  PresenceHa{on} · SipFederation{on}
//!  IpsecTrustCheck ─► each subscriber's ipsec-trust against the publisher's ipsec.pem serial
//!        ─► `ipsec_trust_ok` or `ipsec_trust_mismatch` (DRS will not work)
//!  DeleteTrust{node, store, cn?} ─► refused for the five identity certificates and while
//!        High Availability is on · stop Certificate Expiry Monitor + Intercluster Sync Agent
//!        (tomcat-trust on a CUCM node: + Certificate Change Notification) · delete the named
//!        (or every expired) certificate on that node only · restart the store's services ·
//!        start what was stopped
//!  JabberInstall{client, node, type} ─► the current certificate pushed to the client
//!  JabberLogin{client, node} ─► real TLS to the XCP Router (cup-xmpp) and Tomcat of the node
//!  MultiSan* · UploadCaCertificate · UploadMultiSan ─► multisan.rs
//! ```
//! Files: this one holds the operations, the state, the router and the regeneration,
//! restart and ipsec-trust steps; `imp_delete.rs` the trust deletion, `imp_jabber.rs` the
//! Jabber clients.
//!
//! [I] choices, where the seed is silent: every node holds its own copy of the five IM&P
//! trust stores, taken from the cluster's stores when the first IM&P step runs (the seed:
//! "the same trust certificate can appear on several nodes and must be deleted on each");
//! a regeneration replaces the old certificate in every node's copy that held it; the
//! services present the certificates they loaded when the first IM&P step ran until their
//! restart; High Availability and SIP federation start off; regenerated keys use
//! generations from 1001 so they never meet `regenerate_certificate`'s.

use super::Publisher;
use crate::machine::jabber::Jabber;
use crate::machine::msg::{Effect, Now};
use crate::machine::trace::Kind;
use crate::pki::identity::CertType;
use crate::pki::regen::replace_in_stores;
use crate::pki::{Identity, KeyForge, StoreName, TrustStore};
use std::collections::{BTreeMap, BTreeSet};

/// The IM&P trust stores every node holds its own copy of.
pub const IMP_STORES: [StoreName; 5] = [
    StoreName::CupTrust,
    StoreName::CupXmppTrust,
    StoreName::CupXmppS2sTrust,
    StoreName::IpsecTrust,
    StoreName::TomcatTrust,
];

/// What `delete_trust_certificate` names: a trust store, or one of the five identity
/// certificates (always refused).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeleteTarget {
    Trust(StoreName),
    Identity(CertType),
}

/// An IM&P operator step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImpOp {
    /// Regenerate certificate `cert_type` of `node` (OS Administration > Certificate
    /// Management > Regenerate).
    Regenerate { cert_type: CertType, node: String },
    /// Restart the services that use `cert_type`, publisher first.
    RestartServices { cert_type: CertType },
    /// "Enable High Availability" of the Presence Redundancy Group.
    PresenceHa { enabled: bool },
    /// The IM&P cluster is configured for SIP federation.
    SipFederation { enabled: bool },
    /// Compare the publisher's ipsec.pem serial with every subscriber's ipsec-trust.
    IpsecTrustCheck,
    /// Delete trust certificates on `node`: the one whose CN is `cn`, or every expired one.
    DeleteTrust {
        node: String,
        target: DeleteTarget,
        cn: Option<String>,
    },
    /// Push `node`'s current `cert_type` certificate to Jabber client `client`.
    JabberInstall {
        client: String,
        node: String,
        cert_type: CertType,
    },
    /// Jabber client `client` signs in to IM&P node `node`.
    JabberLogin { client: String, node: String },
    /// Multi-server CSR of `cert_type` (Tomcat or CallManager) on the CUCM publisher
    /// ([`super::multisan`]); `cscus47235`: the CN is not duplicated into the SAN (F22).
    MultiSanCsr {
        cert_type: CertType,
        cscus47235: bool,
    },
    /// Upload the external CA's root (`intermediate: false`) or intermediate to the trust
    /// store of `cert_type` (tomcat-trust or CallManager-trust).
    UploadCaCertificate {
        cert_type: CertType,
        intermediate: bool,
    },
    /// The CA signs the pending CSR of `cert_type`; upload and distribution (`cscur97909`:
    /// the defect that leaves the self-signed certificates in the database, F21;
    /// `cscup28852_ms`: the certificate-change loop of CSCup28852 with its period, F20).
    UploadMultiSan {
        cert_type: CertType,
        cscur97909: bool,
        cscup28852_ms: Option<u64>,
    },
    /// Restart TFTP, CallManager, CTIManager and TVS on CUCM node `node` after a CallManager
    /// multi-server upload (§4.3), the publisher first.
    MultiSanRestart { node: String },
    /// Push the external CA's root to Jabber client `client`.
    JabberInstallRoot { client: String },
}

/// The IM&P state of a cluster.
#[derive(Clone, Debug, Default)]
pub struct ImpState {
    initialised: bool,
    /// High Availability of the Presence Redundancy Group.
    pub ha: bool,
    /// SIP federation configured.
    pub sip_federation: bool,
    /// Each node's IM&P trust stores.
    pub node_stores: BTreeMap<String, BTreeMap<StoreName, TrustStore>>,
    /// What each node's services present: the certificate loaded at their last restart.
    pub(super) served: BTreeMap<(String, CertType), Identity>,
    /// Nodes regenerated per type since that type's services last restarted.
    round: BTreeMap<CertType, BTreeSet<String>>,
    generations: BTreeMap<(String, CertType), u32>,
    /// The Jabber clients, by name.
    pub(super) jabbers: BTreeMap<String, Jabber>,
}

/// The services that use certificate `t` (or its trust store), in the seed's order.
pub fn services_of(t: CertType, sip_federation: bool) -> Vec<&'static str> {
    match t {
        CertType::Cup if sip_federation => vec![
            "Cisco SIP Proxy",
            "Cisco Presence Engine",
            "Cisco XCP SIP Federation Connection Manager",
        ],
        CertType::Cup => vec!["Cisco SIP Proxy", "Cisco Presence Engine"],
        CertType::CupXmpp => vec!["Cisco XCP Router"],
        CertType::CupXmppS2s => vec![
            "Cisco XCP Router",
            "Cisco XCP XMPP Federation Connection Manager",
        ],
        CertType::Ipsec => vec!["Cisco DRF Master", "Cisco DRF Local"],
        _ => vec!["Cisco Tomcat"],
    }
}

/// The certificate type whose services a trust store's deletion restarts.
pub(super) fn type_of_store(s: StoreName) -> CertType {
    match s {
        StoreName::CupTrust => CertType::Cup,
        StoreName::CupXmppTrust => CertType::CupXmpp,
        StoreName::CupXmppS2sTrust => CertType::CupXmppS2s,
        StoreName::IpsecTrust => CertType::Ipsec,
        _ => CertType::Tomcat,
    }
}

impl Publisher {
    /// The IM&P nodes, the IM&P publisher first.
    fn imp_hosts(&self) -> Vec<String> {
        self.pki
            .nodes
            .iter()
            .filter(|n| n.spec.imp)
            .map(|n| n.spec.names.hostname.clone())
            .collect()
    }

    pub(super) fn all_hosts(&self) -> Vec<String> {
        self.pki
            .nodes
            .iter()
            .map(|n| n.spec.names.hostname.clone())
            .collect()
    }

    pub(super) fn is_imp(&self, host: &str) -> bool {
        self.pki
            .nodes
            .iter()
            .any(|n| n.spec.imp && n.spec.names.hostname == host)
    }

    /// Copies the stores and the served certificates the first time an IM&P step runs.
    fn imp_init(&mut self) {
        if self.imp.initialised {
            return;
        }
        self.imp.initialised = true;
        for host in self.all_hosts() {
            let stores = IMP_STORES
                .iter()
                .map(|s| {
                    let store = self
                        .stores
                        .get(s)
                        .cloned()
                        .unwrap_or_else(|| TrustStore::new(*s));
                    (*s, store)
                })
                .collect();
            self.imp.node_stores.insert(host.clone(), stores);
            for t in CertType::IMP_NODE {
                if let Some(id) = self.pki.identity_of(&host, t) {
                    self.imp.served.insert((host.clone(), t), id.clone());
                }
            }
        }
    }

    /// Carries out an IM&P step (the multi-server ones in [`super::multisan`]).
    pub(super) fn imp_step(&mut self, op: ImpOp, now: Now) -> Vec<Effect> {
        self.imp_init();
        match op {
            ImpOp::Regenerate { cert_type, node } => self.imp_regenerate(cert_type, &node, now),
            ImpOp::RestartServices { cert_type } => self.imp_restart(cert_type, now),
            ImpOp::PresenceHa { enabled } => self.presence_ha(enabled, now),
            ImpOp::SipFederation { enabled } => {
                self.imp.sip_federation = enabled;
                vec![self.obs(
                    now,
                    Kind::SipFederation,
                    format!("SIP federation: {enabled}"),
                )]
            }
            ImpOp::IpsecTrustCheck => self.ipsec_check(now),
            ImpOp::DeleteTrust { node, target, cn } => self.delete_trust(&node, target, cn, now),
            ImpOp::JabberInstall {
                client,
                node,
                cert_type,
            } => self.jabber_install(&client, &node, cert_type, now),
            ImpOp::JabberLogin { client, node } => self.jabber_login(&client, &node, now),
            ImpOp::JabberInstallRoot { client } => self.jabber_install_root(&client, now),
            ImpOp::MultiSanCsr {
                cert_type,
                cscus47235,
            } => self.multi_san_csr(cert_type, cscus47235, now),
            ImpOp::UploadCaCertificate {
                cert_type,
                intermediate,
            } => self.upload_ca(cert_type, intermediate, now),
            ImpOp::UploadMultiSan {
                cert_type,
                cscur97909,
                cscup28852_ms,
            } => self.upload_multi_san(cert_type, cscur97909, cscup28852_ms, now),
            ImpOp::MultiSanRestart { node } => self.multi_san_restart(&node, now),
        }
    }

    /// "Enable High Availability" of the Presence Redundancy Group.
    fn presence_ha(&mut self, enabled: bool, now: Now) -> Vec<Effect> {
        self.imp.ha = enabled;
        vec![self.obs(
            now,
            Kind::PresenceHa,
            format!(
                "Presence Redundancy Group: Enable High Availability {}",
                if enabled { "checked" } else { "unchecked" }
            ),
        )]
    }

    fn imp_regenerate(&mut self, t: CertType, host: &str, now: Now) -> Vec<Effect> {
        let imp_hosts = self.imp_hosts();
        if self.is_imp(host) {
            let imp_pub = &imp_hosts[0];
            let done = self.imp.round.get(&t).is_some_and(|r| r.contains(imp_pub));
            if host != imp_pub && !done {
                return vec![self.obs(
                    now,
                    Kind::OperatorError,
                    format!(
                        "regenerate {t} on {host} refused: start with the IM&P publisher \
                         {imp_pub}, then each subscriber (seed 002)"
                    ),
                )];
            }
        }
        let forge = KeyForge::new(self.lifecycle.seed);
        let g = self
            .imp
            .generations
            .entry((host.to_string(), t))
            .or_insert(1000);
        *g += 1;
        let r = match self.pki.regenerate(&forge, host, t, None, *g, now.wall) {
            Ok(r) => r,
            Err(e) => {
                return vec![self.obs(
                    now,
                    Kind::OperatorError,
                    format!("regenerate {t} on {host}: {e}"),
                )]
            }
        };
        replace_in_stores(&mut self.stores, &r.old, &r.new.cert);
        let mut touched = BTreeSet::new();
        for stores in self.imp.node_stores.values_mut() {
            touched.extend(replace_in_stores(stores, &r.old, &r.new.cert));
        }
        self.imp
            .round
            .entry(t)
            .or_default()
            .insert(host.to_string());
        let touched: Vec<&str> = touched.iter().map(|s| s.cucm_name()).collect();
        let mut out = vec![self.obs(
            now,
            Kind::CertificateRegenerated,
            format!(
                "{t}.pem of {host}: serial {} → {}; trust stores updated: [{}]; restart its \
                 services when every node is done",
                r.old.serial_hex(),
                r.new.cert.serial_hex(),
                touched.join(", ")
            ),
        )];
        out.extend(self.push_stores());
        out
    }

    fn imp_restart(&mut self, t: CertType, now: Now) -> Vec<Effect> {
        if self.imp.ha {
            return vec![self.obs(
                now,
                Kind::OperatorError,
                format!(
                    "restart of the {t} services refused: Enable High Availability is checked \
                     in the Presence Redundancy Group; uncheck it first (seed 002)"
                ),
            )];
        }
        let imp_hosts = self.imp_hosts();
        let mut out = vec![];
        let round = self.imp.round.remove(&t).unwrap_or_default();
        let missing: Vec<&String> = imp_hosts.iter().filter(|h| !round.contains(*h)).collect();
        if t != CertType::Ipsec && !round.is_empty() && !missing.is_empty() {
            out.push(self.obs(
                now,
                Kind::ImpRestartEarly,
                format!(
                    "{t} not regenerated yet on {}: the seed restarts after every node",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let hosts = if t == CertType::Ipsec {
            self.all_hosts()
        } else {
            imp_hosts
        };
        for service in services_of(t, self.imp.sip_federation) {
            let on: Vec<String> = if service == "Cisco DRF Master" {
                vec![self.pki.publisher().spec.names.hostname.clone()]
            } else {
                hosts.clone()
            };
            for h in on {
                out.push(self.obs(now, Kind::ServiceRestarted, format!("{service} on {h}")));
            }
        }
        for h in &hosts {
            if let Some(id) = self.pki.identity_of(h, t) {
                self.imp.served.insert((h.clone(), t), id.clone());
            }
        }
        if t == CertType::Ipsec {
            out.extend(self.ipsec_check(now));
        }
        out
    }

    fn ipsec_check(&self, now: Now) -> Vec<Effect> {
        let publisher = self.pki.publisher();
        let pub_host = publisher.spec.names.hostname.clone();
        let Some(ipsec) = publisher.identity(CertType::Ipsec) else {
            return vec![];
        };
        let serial = ipsec.cert.serial_hex();
        let mut out = vec![];
        for h in self.all_hosts().into_iter().skip(1) {
            let holds = self
                .imp
                .node_stores
                .get(&h)
                .and_then(|s| s.get(&StoreName::IpsecTrust))
                .is_some_and(|s| s.iter().any(|c| c.serial_hex() == serial));
            out.push(if holds {
                self.obs(
                    now,
                    Kind::IpsecTrustOk,
                    format!("{h}: ipsec-trust holds {pub_host}'s ipsec.pem (serial {serial})"),
                )
            } else {
                self.obs(
                    now,
                    Kind::IpsecTrustMismatch,
                    format!(
                        "{h}: ipsec-trust does not hold {pub_host}'s ipsec.pem (serial \
                         {serial}); DRS will not work as expected until it is uploaded"
                    ),
                )
            });
        }
        out
    }
}
