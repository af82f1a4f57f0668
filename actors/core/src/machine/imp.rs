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
//! ```
//! [I] choices, where the seed is silent: every node holds its own copy of the five IM&P
//! trust stores, taken from the cluster's stores when the first IM&P step runs (the seed:
//! "the same trust certificate can appear on several nodes and must be deleted on each");
//! a regeneration replaces the old certificate in every node's copy that held it; the
//! services present the certificates they loaded when the first IM&P step ran until their
//! restart; High Availability and SIP federation start off; regenerated keys use
//! generations from 1001 so they never meet `regenerate_certificate`'s.

use super::super::jabber::{Jabber, SessionOutcome};
use super::super::msg::{Effect, Now};
use super::Publisher;
use crate::machine::trace::{Kind, Observation};
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
    served: BTreeMap<(String, CertType), Identity>,
    /// Nodes regenerated per type since that type's services last restarted.
    round: BTreeMap<CertType, BTreeSet<String>>,
    generations: BTreeMap<(String, CertType), u32>,
    jabbers: BTreeMap<String, Jabber>,
    /// Multi-server SAN requests and the external CA.
    pub multisan: super::multisan::MultiSanState,
    /// Extra certificates a service sends after its own (a CA-signed certificate's
    /// intermediate).
    pub chains: BTreeMap<CertType, Vec<crate::pki::Certificate>>,
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
fn type_of_store(s: StoreName) -> CertType {
    match s {
        StoreName::CupTrust => CertType::Cup,
        StoreName::CupXmppTrust => CertType::CupXmpp,
        StoreName::CupXmppS2sTrust => CertType::CupXmppS2s,
        StoreName::IpsecTrust => CertType::Ipsec,
        _ => CertType::Tomcat,
    }
}

impl Publisher {
    fn imp_obs(&self, now: Now, what: Kind, detail: impl Into<String>) -> Effect {
        self.obs(now, what, detail)
    }

    /// The IM&P nodes, the IM&P publisher first.
    fn imp_hosts(&self) -> Vec<String> {
        self.pki
            .nodes
            .iter()
            .filter(|n| n.spec.imp)
            .map(|n| n.spec.names.hostname.clone())
            .collect()
    }

    fn all_hosts(&self) -> Vec<String> {
        self.pki
            .nodes
            .iter()
            .map(|n| n.spec.names.hostname.clone())
            .collect()
    }

    fn is_imp(&self, host: &str) -> bool {
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

    /// Carries out an IM&P step.
    pub(super) fn imp_step(&mut self, op: ImpOp, now: Now) -> Vec<Effect> {
        self.imp_init();
        match op {
            ImpOp::Regenerate { cert_type, node } => self.imp_regenerate(cert_type, &node, now),
            ImpOp::RestartServices { cert_type } => self.imp_restart(cert_type, now),
            ImpOp::PresenceHa { enabled } => {
                self.imp.ha = enabled;
                vec![self.imp_obs(
                    now,
                    Kind::PresenceHa,
                    format!(
                        "Presence Redundancy Group: Enable High Availability {}",
                        if enabled { "checked" } else { "unchecked" }
                    ),
                )]
            }
            ImpOp::SipFederation { enabled } => {
                self.imp.sip_federation = enabled;
                vec![self.imp_obs(
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
            } => match self.pki.identity_of(&node, cert_type) {
                Some(id) => {
                    let cert = id.cert.clone();
                    let serial = cert.serial_hex();
                    let j = self
                        .imp
                        .jabbers
                        .entry(client.clone())
                        .or_insert_with(|| Jabber::new(&client));
                    j.install(cert);
                    vec![Effect::Observe(Observation::note(
                        now,
                        &format!("jabber:{client}"),
                        Kind::JabberCertificateInstalled,
                        format!("{cert_type} of {node} (serial {serial}) in the trust store"),
                    ))]
                }
                None => vec![self.imp_obs(
                    now,
                    Kind::OperatorError,
                    format!("{node} has no {cert_type} certificate"),
                )],
            },
            ImpOp::JabberLogin { client, node } => self.jabber_login(&client, &node, now),
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
            ImpOp::JabberInstallRoot { client } => {
                let Some(root) = self.imp.multisan.ca.as_ref().map(|c| c.root.cert.clone()) else {
                    return vec![self.imp_obs(
                        now,
                        Kind::OperatorError,
                        "no external CA root yet: upload it to tomcat-trust first",
                    )];
                };
                let j = self
                    .imp
                    .jabbers
                    .entry(client.clone())
                    .or_insert_with(|| Jabber::new(&client));
                j.install(root.clone());
                vec![Effect::Observe(Observation::note(
                    now,
                    &format!("jabber:{client}"),
                    Kind::JabberCertificateInstalled,
                    format!("{} in the trust store", root.subject().to_cucm()),
                ))]
            }
        }
    }

    fn imp_regenerate(&mut self, t: CertType, host: &str, now: Now) -> Vec<Effect> {
        let imp_hosts = self.imp_hosts();
        if self.is_imp(host) {
            let imp_pub = &imp_hosts[0];
            let done = self.imp.round.get(&t).is_some_and(|r| r.contains(imp_pub));
            if host != imp_pub && !done {
                return vec![self.imp_obs(
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
                return vec![self.imp_obs(
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
        let mut out = vec![self.imp_obs(
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
            return vec![self.imp_obs(
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
            out.push(self.imp_obs(
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
                out.push(self.imp_obs(now, Kind::ServiceRestarted, format!("{service} on {h}")));
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
                self.imp_obs(
                    now,
                    Kind::IpsecTrustOk,
                    format!("{h}: ipsec-trust holds {pub_host}'s ipsec.pem (serial {serial})"),
                )
            } else {
                self.imp_obs(
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

    fn delete_trust(
        &mut self,
        node: &str,
        target: DeleteTarget,
        cn: Option<String>,
        now: Now,
    ) -> Vec<Effect> {
        let store = match target {
            DeleteTarget::Identity(t) => {
                return vec![self.imp_obs(
                    now,
                    Kind::OperatorError,
                    format!(
                        "{t}.pem on {node} is an identity certificate: it cannot be deleted \
                         (only -trust certificates can; seed 002)"
                    ),
                )]
            }
            DeleteTarget::Trust(s) => s,
        };
        if self.imp.ha {
            return vec![self.imp_obs(
                now,
                Kind::OperatorError,
                format!(
                    "delete from {store} on {node} refused: Enable High Availability is \
                     checked in the Presence Redundancy Group; uncheck it first (seed 002)"
                ),
            )];
        }
        let imp_node = self.is_imp(node);
        let stopped: Vec<&str> = match (store, imp_node) {
            (StoreName::TomcatTrust, false) => vec![
                "Cisco Certificate Expiry Monitor",
                "Cisco Certificate Change Notification",
            ],
            _ => vec![
                "Cisco Certificate Expiry Monitor",
                "Cisco Intercluster Sync Agent",
            ],
        };
        let mut out: Vec<Effect> = stopped
            .iter()
            .map(|s| self.imp_obs(now, Kind::ServiceStopped, format!("{s} on {node}")))
            .collect();
        let wall = now.wall;
        let victims: Vec<_> = self
            .imp
            .node_stores
            .get(node)
            .and_then(|s| s.get(&store))
            .map(|s| {
                s.iter()
                    .filter(|c| match &cn {
                        Some(cn) => c.subject().common_name() == cn,
                        None => c.info().not_after < wall,
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if victims.is_empty() {
            out.push(self.imp_obs(
                now,
                Kind::TrustCertificateNotFound,
                match &cn {
                    Some(cn) => format!("no certificate CN={cn} in {store} on {node}"),
                    None => format!("no expired certificate in {store} on {node}"),
                },
            ));
        }
        for c in &victims {
            if let Some(s) = self
                .imp
                .node_stores
                .get_mut(node)
                .and_then(|s| s.get_mut(&store))
            {
                s.remove(c.serial(), &c.issuer().to_cucm());
            }
            out.push(self.imp_obs(
                now,
                Kind::TrustCertificateDeleted,
                format!(
                    "{store} on {node}: {} (serial {}, expires {})",
                    c.subject().to_cucm(),
                    c.serial_hex(),
                    c.info().not_after
                ),
            ));
        }
        if !victims.is_empty() {
            let cli = if store == StoreName::TomcatTrust {
                " (utils service restart Cisco Tomcat)"
            } else {
                ""
            };
            let publisher = node == self.pki.publisher().spec.names.hostname;
            for service in services_of(type_of_store(store), self.imp.sip_federation) {
                if service == "Cisco DRF Master" && !publisher {
                    continue; // DRF Master runs on the publisher only
                }
                out.push(self.imp_obs(
                    now,
                    Kind::ServiceRestarted,
                    format!("{service} on {node}{cli}"),
                ));
            }
        }
        for s in stopped {
            out.push(self.imp_obs(now, Kind::ServiceStarted, format!("{s} on {node}")));
        }
        out
    }

    fn jabber_login(&mut self, client: &str, node: &str, now: Now) -> Vec<Effect> {
        let who = format!("jabber:{client}");
        let jabber = self
            .imp
            .jabbers
            .entry(client.to_string())
            .or_insert_with(|| Jabber::new(client))
            .clone();
        let mut out = vec![];
        let mut warned = false;
        for (service, t) in [
            ("Cisco XCP Router", CertType::CupXmpp),
            ("Cisco Tomcat", CertType::Tomcat),
        ] {
            let Some(id) = self.imp.served.get(&(node.to_string(), t)) else {
                out.push(self.imp_obs(
                    now,
                    Kind::OperatorError,
                    format!("{node} has no {t} certificate"),
                ));
                return out;
            };
            let chain = self.imp.chains.get(&t).cloned().unwrap_or_default();
            match jabber.connect(node, id, &chain, now.wall) {
                SessionOutcome::Trusted => {}
                SessionOutcome::Warning(why) => {
                    warned = true;
                    out.push(Effect::Observe(Observation::note(
                        now,
                        &who,
                        Kind::JabberCertificateWarning,
                        format!(
                            "{t} certificate of {node} ({service}, serial {}) not trusted: \
                             security warning pop-up; {why}",
                            id.cert.serial_hex()
                        ),
                    )));
                }
            }
        }
        out.push(Effect::Observe(Observation::note(
            now,
            &who,
            Kind::JabberSignedIn,
            format!(
                "signed in to {node}{}",
                if warned {
                    " after the certificate warning"
                } else {
                    " without warnings"
                }
            ),
        )));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::cluster::Enterprise;
    use crate::pki::cluster::{ClusterSpec, NodeSpec};
    use crate::pki::identity::NodeNames;
    use crate::tlv::content::CucmVersion;
    use crate::wall::WallTime;

    fn publisher() -> Publisher {
        let node = |h: &str, imp: bool| NodeSpec {
            names: NodeNames::lab("c", h),
            ip: None,
            runs_callmanager: !imp,
            runs_tftp: !imp,
            imp,
        };
        let pki = ClusterSpec {
            name: "c".into(),
            version: CucmVersion::new(14, 0, 0),
            nodes: vec![
                node("cucm-pub", false),
                node("imp-pub", true),
                node("imp-sub", true),
            ],
            profiles: BTreeMap::new(),
            now: WallTime(1_700_000_000),
            itl_recovery_years: 20,
        }
        .generate(&KeyForge::new(9))
        .unwrap();
        let stores = pki.initial_stores(None);
        Publisher::new(pki, stores, false, Enterprise::default())
    }

    fn now() -> Now {
        Now {
            mono_ms: 0,
            wall: WallTime(1_700_000_100),
        }
    }

    fn whats(out: &[Effect]) -> Vec<String> {
        out.iter()
            .filter_map(|e| match e {
                Effect::Observe(o) => Some(format!("{} {}", o.what(), o.detail())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn subscriber_first_is_refused_and_restart_follows_the_seed_order() {
        let mut p = publisher();
        let sub = ImpOp::Regenerate {
            cert_type: CertType::Cup,
            node: "imp-sub".into(),
        };
        let w = whats(&p.imp_step(sub.clone(), now()));
        assert!(w[0].starts_with("operator_error") && w[0].contains("imp-pub"));
        let pubr = ImpOp::Regenerate {
            cert_type: CertType::Cup,
            node: "imp-pub".into(),
        };
        assert!(whats(&p.imp_step(pubr, now()))[0].starts_with("certificate_regenerated"));
        assert!(whats(&p.imp_step(sub, now()))[0].starts_with("certificate_regenerated"));
        p.imp_step(ImpOp::PresenceHa { enabled: true }, now());
        let restart = ImpOp::RestartServices {
            cert_type: CertType::Cup,
        };
        assert!(whats(&p.imp_step(restart.clone(), now()))[0].contains("High Availability"));
        p.imp_step(ImpOp::PresenceHa { enabled: false }, now());
        let w = whats(&p.imp_step(restart, now()));
        assert_eq!(
            w,
            vec![
                "service_restarted Cisco SIP Proxy on imp-pub",
                "service_restarted Cisco SIP Proxy on imp-sub",
                "service_restarted Cisco Presence Engine on imp-pub",
                "service_restarted Cisco Presence Engine on imp-sub",
            ]
        );
    }

    #[test]
    fn identity_certificates_cannot_be_deleted_and_ipsec_trust_is_checked() {
        let mut p = publisher();
        let del = |target, cn: Option<&str>| ImpOp::DeleteTrust {
            node: "imp-sub".into(),
            target,
            cn: cn.map(str::to_string),
        };
        let w = whats(&p.imp_step(del(DeleteTarget::Identity(CertType::CupXmpp), None), now()));
        assert!(w[0].contains("cannot be deleted"));
        let w = whats(&p.imp_step(ImpOp::IpsecTrustCheck, now()));
        assert!(w.iter().all(|l| l.starts_with("ipsec_trust_ok")), "{w:?}");
        let w = whats(&p.imp_step(
            del(DeleteTarget::Trust(StoreName::IpsecTrust), Some("cucm-pub")),
            now(),
        ));
        assert!(w.iter().any(|l| l.starts_with("trust_certificate_deleted")));
        let w = whats(&p.imp_step(ImpOp::IpsecTrustCheck, now()));
        assert!(w[0].starts_with("ipsec_trust_ok imp-pub"));
        assert!(w[1].starts_with("ipsec_trust_mismatch imp-sub"));
        // Six years on, every tomcat certificate has expired: all three go, on imp-pub only.
        let later = Now {
            mono_ms: 1,
            wall: WallTime(1_700_000_000 + 6 * WallTime::YEAR_S),
        };
        let expired = ImpOp::DeleteTrust {
            node: "imp-pub".into(),
            target: DeleteTarget::Trust(StoreName::TomcatTrust),
            cn: None,
        };
        let w = whats(&p.imp_step(expired, later));
        let deleted = w
            .iter()
            .filter(|l| l.starts_with("trust_certificate_deleted"));
        assert_eq!(deleted.count(), 3, "{w:?}");
        assert!(w.contains(
            &"service_restarted Cisco Tomcat on imp-pub (utils service restart Cisco Tomcat)"
                .to_string()
        ));
        assert_eq!(
            p.imp.node_stores["imp-pub"][&StoreName::TomcatTrust].len(),
            0
        );
        assert_eq!(
            p.imp.node_stores["imp-sub"][&StoreName::TomcatTrust].len(),
            3
        );
    }
}
