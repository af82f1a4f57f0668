//! Building the world's artefacts from the seed: each cluster's PKI and trust stores, the
//! manufacturing CA and every phone's MIC.

use super::spec::{ClusterDef, FleetDef, Service, WorldSpec};
use cucmsim_core::machine::cluster::Publisher;
use cucmsim_core::machine::phone::Phone;
use cucmsim_core::pki::cluster::{ClusterSpec, NodeSpec};
use cucmsim_core::pki::identity::{CertType, NodeNames};
use cucmsim_core::pki::mic::ManufacturingCa;
use cucmsim_core::pki::KeyForge;
use cucmsim_core::WallTime;
use std::collections::BTreeMap;

/// Install time of clusters and phones: one year before the scenario's epoch [I], so
/// certificates are comfortably inside their validity unless a scenario says otherwise.
pub fn install_time(epoch: WallTime) -> WallTime {
    epoch.plus_s(-WallTime::YEAR_S)
}

fn names(c: &ClusterDef, host: &str) -> NodeNames {
    let mut n = NodeNames::lab(&c.name, host);
    n.domain = c.domain.clone();
    n
}

/// Builds a cluster's publisher machine (PKI generated from the seed).
pub fn publisher(
    spec: &WorldSpec,
    ix: usize,
    forge: &KeyForge,
    mfg: &ManufacturingCa,
) -> Result<Publisher, String> {
    let c = &spec.clusters[ix];
    let nodes = c
        .nodes
        .iter()
        .map(|n| NodeSpec {
            names: names(c, &n.name),
            ip: n.ip,
            runs_callmanager: n.services.contains(&Service::CallManager),
            runs_tftp: n.services.contains(&Service::Tftp),
            imp: n.imp,
        })
        .collect();
    let mut profiles: BTreeMap<CertType, _> = [
        CertType::CallManager,
        CertType::Tomcat,
        CertType::Tvs,
        CertType::Capf,
        CertType::Ipsec,
    ]
    .into_iter()
    .map(|t| (t, c.key))
    .collect();
    if c.key.name().starts_with("rsa") {
        // ITLRecovery follows an RSA cluster key (a legacy 1024-bit cluster has a 1024-bit
        // ITLRecovery, F10) and stays RSA-2048 on an EC cluster [I].
        profiles.insert(CertType::ItlRecovery, c.key);
    }
    let pki = ClusterSpec {
        name: c.name.clone(),
        version: c.version,
        nodes,
        profiles,
        now: install_time(spec.epoch),
        itl_recovery_years: if c.version >= cucmsim_core::tlv::content::CucmVersion::new(12, 5, 0) {
            20
        } else {
            5
        },
    }
    .generate(forge)
    .map_err(|e| format!("cluster {}: {e}", c.name))?;
    let stores = pki.initial_stores(Some(mfg));
    let mut p = Publisher::new(pki, stores, c.mixed_mode, c.enterprise.clone());
    p.tftp_hosts = spec.hosts_with(ix, Service::Tftp);
    p.tvs_hosts = spec.hosts_with(ix, Service::Tvs);
    p.cm_hosts = spec.hosts_with(ix, Service::CallManager);
    p.tvs_model = c.tvs;
    p.lifecycle.seed = spec.seed;
    Ok(p)
}

/// Builds phone `id` of `fleet` with its MIC.
pub fn phone(
    fleet: &FleetDef,
    id: u32,
    forge: &KeyForge,
    mfg: &ManufacturingCa,
    epoch: WallTime,
    tls: bool,
) -> Result<Phone, String> {
    let mac = format!(
        "{:012X}",
        (fleet.mac_start + u64::from(id - fleet.first)) & 0xFFFF_FFFF_FFFF
    );
    let mic = mfg
        .issue_mic(forge, &fleet.model, &mac, fleet.key, install_time(epoch))
        .map_err(|e| format!("MIC for {mac}: {e}"))?;
    let mut phone = Phone::new(
        id,
        &mac,
        &fleet.model,
        mic.cert,
        mic.key,
        vec![mfg.issuing.cert.clone()],
    );
    phone.tls = tls;
    fleet.caps.apply(&mut phone.trust);
    if let Some(k) = fleet.keepalive {
        phone.timers.keepalive_ms = k.interval_ms;
        phone.timers.keepalive_timeout_ms = k.timeout_ms;
        phone.timers.keepalive_misses = k.misses;
    }
    Ok(phone)
}
