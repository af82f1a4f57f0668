//! The director: delivers each scenario event to the shells at its time — operator steps to
//! the publisher, resets and power to the phones, service stops and starts to the nodes,
//! clock skews to the bus — and records it in the trace as a `harness` observation.
//!
//! ```text
//!  (t_ms, Event) ──dispatch──► Observation("harness", "event", …)
//!                            ──► Msg::Operator / Reset / PowerOff / Service / … to the shells
//! ```

use super::spec::{Event, Service, WorldSpec};
use cucmsim_actors::{Cause, Conductor, Input};
use cucmsim_core::machine::{Addr, Kind, Msg, Now, Observation, Operator, ServiceAction};
use cucmsim_core::pki::cluster::ClusterPki;
use cucmsim_core::pki::identity::CertType;
use cucmsim_core::pki::Certificate;
use sha2::Digest;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A deterministic spread of item `i` over `window` ms, from the seed.
pub(super) fn spread(seed: u64, i: u64, window: u64) -> u64 {
    let mut h = sha2::Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(b"power-on");
    h.update(i.to_be_bytes());
    let d = h.finalize();
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes")) % window
}

/// The harness talks to shells directly, not through the link policy; `cause` is the
/// operator step it carries out (`Cause::NONE` for a fault or the set-up).
pub(super) fn deliver(bus: &mut Conductor, to: Addr, msg: Msg, cause: Cause) {
    bus.hand(&to, Input::Msg(msg), cause);
}

pub(super) type CaCerts = BTreeMap<String, (Certificate, Certificate)>;

pub(super) fn dispatch(
    spec: &WorldSpec,
    bus: &mut Conductor,
    pkis: &BTreeMap<String, ClusterPki>,
    cas: &CaCerts,
    event: &Event,
    cause: Cause,
) {
    let now = bus.now(&Addr::Dhcp);
    tracing::info!(t_ms = now.mono_ms, ?event, "scenario event");
    bus.observe(Observation::note(
        now,
        "harness",
        Kind::Event,
        format!("{event:?}").chars().take(160).collect::<String>(),
    ));
    match event {
        Event::Operator { cluster, op } => deliver(
            bus,
            Addr::Publisher(cluster.clone()),
            Msg::Operator(op.clone()),
            cause,
        ),
        Event::Option150 { first, count, tftp } => deliver(
            bus,
            Addr::Dhcp,
            Msg::DhcpSet {
                first: *first,
                count: *count,
                option150: tftp.clone(),
            },
            cause,
        ),
        Event::ResetPhones {
            first,
            count,
            over_ms,
        } => reset_phones(spec, bus, *first, *count, *over_ms),
        Event::ResetCluster { cluster } => {
            if let Some(ix) = spec.clusters.iter().position(|c| &c.name == cluster) {
                for host in spec.hosts_with(ix, Service::CallManager) {
                    deliver(bus, Addr::CallManager(host), Msg::ResetRegistered, cause);
                }
            }
        }
        Event::Service {
            host,
            service,
            action,
        } => service_event(spec, bus, host, *service, *action, cause),
        Event::Skew { group, secs } => bus.skew(group.clone(), *secs),
        Event::UploadCa {
            cluster,
            store,
            ca,
            which,
        } => upload_ca(bus, cas, cluster, *store, ca, which, cause),
        Event::PowerOff { first, count } => {
            for id in *first..first + count {
                deliver(bus, Addr::Phone(id), Msg::PowerOff, cause);
            }
        }
        Event::Upload { .. } => upload_event(bus, pkis, now, event, cause),
        Event::EraseTrust { first, count } => {
            for id in *first..first + count {
                deliver(bus, Addr::Phone(id), Msg::EraseTrustLists, cause);
            }
        }
    }
}

/// Certificate `which` (`root` or `issuing`) of CA `ca` uploaded to `store` on `cluster`.
fn upload_ca(
    bus: &mut Conductor,
    cas: &CaCerts,
    cluster: &str,
    store: cucmsim_core::pki::StoreName,
    ca: &str,
    which: &str,
    cause: Cause,
) {
    if let Some((root, issuing)) = cas.get(ca) {
        let cert = if which == "root" { root } else { issuing };
        let op = Operator::UploadCertificate {
            store,
            der: cert.der().into(),
        };
        let to = Addr::Publisher(cluster.to_string());
        deliver(bus, to, Msg::Operator(op), cause);
    }
}

/// `count` phones from `first` reset, at once or spread over `over_ms` (from the seed).
fn reset_phones(spec: &WorldSpec, bus: &mut Conductor, first: u32, count: u32, over_ms: u64) {
    for id in first..first + count {
        if over_ms == 0 {
            deliver(bus, Addr::Phone(id), Msg::Reset, Cause::NONE);
        } else {
            let after = spread(spec.seed ^ 0x5e7, u64::from(id), over_ms);
            bus.deliver_after(&Addr::Phone(id), after, Msg::Reset);
        }
    }
}

/// A service stopped, started or restarted on `host` (the CTL Provider through the
/// cluster's publisher, which owns the CTL).
fn service_event(
    spec: &WorldSpec,
    bus: &mut Conductor,
    host: &String,
    service: Service,
    action: ServiceAction,
    cause: Cause,
) {
    let to = match service {
        Service::Tftp => Addr::Tftp(host.clone()),
        Service::Tvs => Addr::Tvs(host.clone()),
        Service::CallManager => Addr::CallManager(host.clone()),
        Service::Capf => Addr::Capf(host.clone()),
        Service::CtlProvider => {
            // Serviceability on the cluster's publisher: the CTL Provider decides the
            // CTL's content, which the publisher owns.
            let Some(cluster) = spec
                .clusters
                .iter()
                .find(|c| c.nodes.iter().any(|n| &n.name == host))
            else {
                return;
            };
            let op = Operator::CtlProvider {
                host: host.clone(),
                action,
            };
            deliver(
                bus,
                Addr::Publisher(cluster.name.clone()),
                Msg::Operator(op),
                cause,
            );
            return;
        }
    };
    deliver(bus, to, Msg::Service(action), cause);
}

/// A node's certificate copied into another cluster's trust store by its owner's publisher.
fn upload_event(
    bus: &mut Conductor,
    pkis: &BTreeMap<String, ClusterPki>,
    now: Now,
    event: &Event,
    cause: Cause,
) {
    let Event::Upload {
        cluster,
        store,
        owner,
        node,
        cert_type,
    } = event
    else {
        return;
    };
    // The owner's publisher sends its current certificate (a regeneration since the
    // install replaced it); the install-time PKI only tells whether the node has one.
    let exists = pkis.get(owner).and_then(|p| cert_of(p, node, *cert_type));
    match exists {
        Some(_) => deliver(
            bus,
            Addr::Publisher(owner.clone()),
            Msg::Operator(Operator::CopyCertificate {
                to_cluster: cluster.clone(),
                store: *store,
                node: node.clone(),
                cert_type: *cert_type,
            }),
            cause,
        ),
        None => bus.observe(Observation::note(
            now,
            "harness",
            Kind::OperatorError,
            format!("{owner}/{node} has no {cert_type}"),
        )),
    }
}

/// The DER of `node`'s certificate of type `t` (ITLRecovery and CAPF are the publisher's).
fn cert_of(pki: &ClusterPki, node: &str, t: CertType) -> Option<Arc<[u8]>> {
    let n = pki.nodes.iter().find(|n| n.spec.names.hostname == node)?;
    let id = match t {
        CertType::ItlRecovery => Some(&pki.itl_recovery),
        CertType::Capf => Some(&pki.capf),
        other => n.identity(other),
    }?;
    Some(id.cert.der().into())
}
