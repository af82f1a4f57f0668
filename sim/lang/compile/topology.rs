//! The clusters of a scenario: `[[cluster]]` with its version, security mode, enterprise
//! parameters, `[cluster.tvs]`, `[cluster.capf]` (see [`super::capf`]) and its nodes with
//! the services each runs.
//!
//! ```text
//!  [[cluster]] name, version, security_mode, [cluster.enterprise], [cluster.tvs], [cluster.capf]
//!    [[cluster.node]] name, ip, services, imp ──clusters──► Vec<ClusterDef> (node names unique)
//! ```

use super::capf::capf_def;
use super::context::{Ctx, R};
use super::values::{key, service, service_us};
use crate::engine::spec::{CaDef, CapfDef};
use crate::engine::{ClusterDef, NodeDef, Service};
use crate::lang::raw::{self, Dur, S};
use cucmsim_core::machine::tvs::TvsModel;
use cucmsim_core::machine::Enterprise;
use cucmsim_core::pki::KeyProfile;
use cucmsim_core::DigestAlg;
use std::collections::BTreeSet;

/// `[[cluster]]` tables; node names are unique across clusters.
pub(super) fn clusters(cx: &Ctx, raw: &[S<raw::Cluster>], cas: &[CaDef]) -> R<Vec<ClusterDef>> {
    let mut out: Vec<ClusterDef> = vec![];
    let mut hosts = BTreeSet::new();
    for c in raw {
        let c = c.get_ref();
        let name = c.name.get_ref().clone();
        if out.iter().any(|o| o.name == name) {
            return Err(cx.err(c.name.span(), format!("cluster {name:?} is defined twice")));
        }
        out.push(cluster(cx, c, name, cas, &mut hosts)?);
    }
    Ok(out)
}

/// One `[[cluster]]` named `name`.
fn cluster(
    cx: &Ctx,
    c: &raw::Cluster,
    name: String,
    cas: &[CaDef],
    hosts: &mut BTreeSet<String>,
) -> R<ClusterDef> {
    let version = c
        .version
        .get_ref()
        .parse()
        .map_err(|e: String| cx.err(c.version.span(), e))?;
    let mixed_mode = match &c.security_mode {
        None => false,
        Some(m) => match m.get_ref().as_str() {
            "non-secure" => false,
            "mixed" => true,
            other => {
                return Err(cx.err(
                    m.span(),
                    format!("security_mode must be \"non-secure\" or \"mixed\", not {other:?}"),
                ))
            }
        },
    };
    let enterprise = enterprise(cx, c)?;
    let mut capf = match &c.capf {
        Some(t) => capf_def(cx, t.get_ref(), cas)?,
        None => CapfDef::default(),
    };
    if let Some(e) = &c.enterprise {
        capf.ipv6_enabled = e.ipv6.unwrap_or(false);
        capf.advanced_algorithms = e.endpoint_advanced_encryption.unwrap_or(false);
    }
    let tvs = match &c.tvs {
        Some(t) => tvs_model(cx, t.get_ref())?,
        None => TvsModel::default(),
    };
    let nodes = nodes(cx, c, hosts)?;
    if nodes.is_empty() {
        return Err(cx.err(
            c.name.span(),
            format!("cluster {name:?} has no [[cluster.node]]"),
        ));
    }
    Ok(ClusterDef {
        domain: c.domain.clone().unwrap_or_else(|| format!("{name}.lab")),
        key: key(cx, &c.key, KeyProfile::RSA2048)?,
        name,
        version,
        mixed_mode,
        enterprise,
        tvs,
        capf,
        nodes,
    })
}

/// `[cluster.enterprise]` and the cluster's TVS-in-config and CAPF-from-CTL switches.
fn enterprise(cx: &Ctx, c: &raw::Cluster) -> R<Enterprise> {
    let mut enterprise = Enterprise::default();
    if let Some(e) = &c.enterprise {
        enterprise.rollback = e.rollback_to_pre_8.unwrap_or(false);
        if let Some(p) = &e.phone_interaction_on_cert_update {
            enterprise.auto_reset = match p.get_ref().as_str() {
                "automatic" => true,
                "manual" => false,
                other => {
                    return Err(cx.err(
                        p.span(),
                        format!("expected \"automatic\" or \"manual\", not {other:?}"),
                    ))
                }
            };
        }
        if let Some(d) = &e.tftp_file_signature {
            enterprise.digest = DigestAlg::parse(d.get_ref())
                .ok_or_else(|| cx.err(d.span(), "expected sha1, sha256 or sha512"))?;
        }
    }
    if let Some(t) = c.default_config_tvs {
        enterprise.default_config_tvs = t;
    }
    if let Some(t) = c.lsc_capf_from_ctl {
        enterprise.lsc_capf_from_ctl = t;
    }
    Ok(enterprise)
}

/// `[[cluster.node]]`: by default CallManager, TFTP and TVS, and CAPF on the first node (the
/// publisher); an IM&P node runs none of them.
fn nodes(cx: &Ctx, c: &raw::Cluster, hosts: &mut BTreeSet<String>) -> R<Vec<NodeDef>> {
    let mut nodes = vec![];
    for (i, n) in c.node.iter().enumerate() {
        let n = n.get_ref();
        let host = n.name.get_ref().clone();
        if host.is_empty() || !hosts.insert(host.clone()) {
            return Err(cx.err(
                n.name.span(),
                format!("node name {host:?} is empty or already used"),
            ));
        }
        let ip =
            match &n.ip {
                None => None,
                Some(ip) => Some(ip.get_ref().parse().map_err(|_| {
                    cx.err(ip.span(), format!("bad IPv4 address {:?}", ip.get_ref()))
                })?),
            };
        let services = match &n.services {
            Some(list) => list
                .iter()
                .map(|s| service(cx, s))
                .collect::<R<BTreeSet<_>>>()?,
            None if n.imp => BTreeSet::new(),
            None => {
                let mut s: BTreeSet<Service> = [Service::CallManager, Service::Tftp, Service::Tvs]
                    .into_iter()
                    .collect();
                if i == 0 {
                    s.insert(Service::Capf);
                }
                s
            }
        };
        nodes.push(NodeDef {
            name: host,
            ip,
            services,
            imp: n.imp,
        });
    }
    Ok(nodes)
}

/// `[cluster.tvs]`: each key overrides one [I] default of [`TvsModel`].
fn tvs_model(cx: &Ctx, t: &raw::Tvs) -> R<TvsModel> {
    let mut m = TvsModel::default();
    if let Some(w) = &t.workers {
        if !(1..=10_000).contains(w.get_ref()) {
            return Err(cx.err(w.span(), "workers must be between 1 and 10,000"));
        }
        m.workers = *w.get_ref() as u32;
    }
    if let Some(q) = &t.queue_limit {
        if !(0..=10_000_000).contains(q.get_ref()) {
            return Err(cx.err(q.span(), "queue_limit must be between 0 and 10,000,000"));
        }
        m.queue_limit = *q.get_ref() as u32;
    }
    let us = |d: &S<Dur>| service_us(cx, d);
    if let Some(h) = &t.handshake {
        m.handshake_us = us(h)?;
    }
    if let Some(q) = &t.query {
        m.query_us = us(q)?;
    }
    Ok(m)
}
