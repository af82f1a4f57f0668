//! Building the world's artefacts from the seed: each cluster's PKI and trust stores, the
//! manufacturing CA and every phone's MIC.

use super::prebuilt::Prebuilt;
use super::spec::{CaKindDef, IssuerDef};
use super::spec::{ClusterDef, FleetDef, Service, WorldSpec};
use cucmsim_core::capf::ca::{OfflineCa, OnlineCa, OnlineCaParams};
use cucmsim_core::capf::{CapfSettings, DeviceRecord};
use cucmsim_core::machine::ca::{CaKind, CaService};
use cucmsim_core::machine::capf::{CapfConfig, Issuer};
use cucmsim_core::machine::phone::Phone;
use cucmsim_core::machine::phone::{KeygenTimes, PhoneCapf};
use cucmsim_core::machine::Publisher;
use cucmsim_core::pki::cert::{CertSpec, KeyUsage};
use cucmsim_core::pki::cluster::{ClusterPki, ClusterSpec, NodeSpec};
use cucmsim_core::pki::identity::{CertType, NodeNames};
use cucmsim_core::pki::mic::ManufacturingCa;
use cucmsim_core::pki::KeyForge;
use cucmsim_core::pki::{Certificate, Identity};
use cucmsim_core::WallTime;
use std::collections::BTreeMap;
use std::sync::Arc;

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
    prebuilt: &Prebuilt,
) -> Result<Publisher, String> {
    let c = &spec.clusters[ix];
    let pki = prebuilt.cluster_pki(forge, install_time(spec.epoch), c, || {
        cluster_pki(spec, c, forge)
    })?;
    let stores = pki.initial_stores(Some(mfg));
    let mut p = Publisher::new(pki, stores, c.mixed_mode, c.enterprise.clone());
    p.tftp_hosts = spec.hosts_with(ix, Service::Tftp);
    p.tvs_hosts = spec.hosts_with(ix, Service::Tvs);
    p.cm_hosts = spec.hosts_with(ix, Service::CallManager);
    p.ctl_providers = spec
        .hosts_with(ix, Service::CtlProvider)
        .into_iter()
        .collect();
    p.tvs_model = c.tvs;
    if let Some(host) = spec.hosts_with(ix, Service::Capf).first() {
        let config = capf_config(spec, c, forge, p.pki.capf.clone())?;
        p.capf = Some((host.clone(), config));
    }
    for f in spec.fleets.iter().filter(|f| f.cluster == ix) {
        for i in 0..f.count {
            let device = format!("SEP{}", mac_of(f, f.first + i));
            let mut rec = DeviceRecord::new(&device, &f.model);
            rec.security_mode = f.security;
            rec.capf_v3 = f.capf.capf_v3;
            p.devices.insert(device, rec);
        }
    }
    p.lifecycle.seed = spec.seed;
    Ok(p)
}

/// The cluster's PKI at install time: every node's identities, ITLRecovery, CAPF.
fn cluster_pki(spec: &WorldSpec, c: &ClusterDef, forge: &KeyForge) -> Result<ClusterPki, String> {
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
    let mut pki = pki;
    if c.capf.legacy_certificate {
        pki.capf = legacy_capf(&pki.capf).map_err(|e| format!("cluster {}: {e}", c.name))?;
    }
    Ok(pki)
}

/// The CAPF service's configuration: its settings and who issues its LSCs.
fn capf_config(
    spec: &WorldSpec,
    c: &ClusterDef,
    forge: &KeyForge,
    capf_identity: Identity,
) -> Result<CapfConfig, String> {
    let mut settings = CapfSettings::new(capf_identity, vec![], forge.clone());
    settings.template.validity_days = c.capf.validity_days;
    settings.issue_once = c.capf.issue_once;
    settings.advanced_algorithms = c.capf.advanced_algorithms;
    settings.external_issuer = !matches!(c.capf.issuer, IssuerDef::Capf);
    let issuer = match &c.capf.issuer {
        IssuerDef::Capf => Issuer::Capf,
        IssuerDef::Offline { .. } => Issuer::OfflineCa,
        IssuerDef::Online {
            ca,
            hostname,
            port,
            template,
            username,
            password,
        } => {
            let online = spec.cas.iter().find_map(|d| match &d.kind {
                CaKindDef::Online(s) if &d.name == ca => Some(s),
                _ => None,
            });
            let mut p = online
                .map(OnlineCaParams::matching)
                .ok_or_else(|| format!("no online CA named {ca:?}"))?;
            let or = |v: &Option<String>, d: &mut String| {
                if let Some(v) = v {
                    *d = v.clone();
                }
            };
            or(hostname, &mut p.hostname);
            or(template, &mut p.template);
            or(username, &mut p.username);
            or(password, &mut p.password);
            if let Some(port) = port {
                p.port = *port;
            }
            Issuer::OnlineCa(Arc::new(p))
        }
    };
    Ok(CapfConfig {
        cluster: c.name.clone(),
        issuer,
        settings: Arc::new(settings),
        version: c.version,
        model: c.capf.model,
        ipv6_enabled: c.capf.ipv6_enabled,
    })
}

/// A CAPF certificate as older releases could make it: CA:TRUE with no path length and no
/// keyCertSign key usage — which 14SU2 refuses (F13). The reference gives only 14SU2's
/// requirement; what the older certificate lacked exactly is [I].
fn legacy_capf(capf: &Identity) -> Result<Identity, String> {
    let info = capf.cert.info();
    let spec = CertSpec {
        subject: capf.cert.subject().clone(),
        serial: capf.cert.serial().to_vec(),
        not_before: info.not_before,
        not_after: info.not_after,
        ca: Some(None),
        key_usage: vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment],
        ext_key_usage: vec![],
        san_dns: vec![],
        san_uri: vec![],
    };
    let cert = Certificate::issue(&spec, &capf.key, None).map_err(|e| e.to_string())?;
    Ok(Identity {
        cert_type: capf.cert_type,
        cert,
        key: capf.key.clone(),
    })
}

fn mac_of(fleet: &FleetDef, id: u32) -> String {
    format!(
        "{:012X}",
        (fleet.mac_start + u64::from(id - fleet.first)) & 0xFFFF_FFFF_FFFF
    )
}

/// The CAPF side every phone of `fleet` shares.
pub fn phone_capf(spec: &WorldSpec, fleet: &FleetDef, forge: &KeyForge) -> Arc<PhoneCapf> {
    let mut p = PhoneCapf::new(forge.clone());
    let c = &fleet.capf;
    p.auth_string = c.auth_string.clone();
    p.unique_auth_string = c.unique_auth_string;
    p.version = if c.capf_v3 { 3 } else { 2 };
    if let Some(ms) = c.keygen_ms {
        p.keygen = KeygenTimes::all(ms);
    }
    p.key_pool = spec.phone_key_pool;
    if let Some(f) = &c.families {
        p.families = f.clone();
    }
    Arc::new(p)
}

/// What every phone of a world is built with: the seed's forge, the manufacturing CA, the
/// epoch, the TLS mode and the memoised artefacts.
pub struct PhoneBuild<'a> {
    pub forge: &'a KeyForge,
    pub mfg: &'a ManufacturingCa,
    pub epoch: WallTime,
    pub tls: bool,
    pub prebuilt: &'a Prebuilt,
}

/// Builds phone `id` of `fleet` with its MIC.
pub fn phone(
    fleet: &FleetDef,
    id: u32,
    b: &PhoneBuild<'_>,
    capf: Arc<PhoneCapf>,
) -> Result<Phone, String> {
    let (mfg, tls) = (b.mfg, b.tls);
    let mac = mac_of(fleet, id);
    let mic = b.prebuilt.mic(
        b.forge,
        mfg,
        (&fleet.model, &mac, fleet.key),
        install_time(b.epoch),
    )?;
    let mut phone = Phone::new(
        id,
        &mac,
        &fleet.model,
        mic.cert,
        mic.key,
        vec![mfg.issuing.cert.clone()],
    );
    phone.tls = tls;
    phone.capf_profile = Some(capf);
    fleet.caps.apply(&mut phone.trust);
    phone.timers.register_retry_ms = fleet.register_retry_ms;
    if let Some(k) = fleet.keepalive {
        phone.timers.keepalive_ms = k.interval_ms;
        phone.timers.keepalive_timeout_ms = k.timeout_ms;
        phone.timers.keepalive_misses = k.misses;
    }
    Ok(phone)
}

/// Builds CA `d` from the seed, installed with the clusters; returns the machine and its
/// root and issuing certificates (for uploads to trust stores).
pub fn ca(
    d: &super::spec::CaDef,
    forge: &KeyForge,
    epoch: WallTime,
) -> Result<(CaService, Certificate, Certificate), String> {
    let label = format!("ca/{}", d.name);
    let now = install_time(epoch);
    let err = |e: cucmsim_core::capf::ca::CaError| format!("CA {}: {e}", d.name);
    let (kind, root, issuing) = match &d.kind {
        CaKindDef::Online(settings) => {
            let ca = OnlineCa::new(forge, &label, settings.clone(), now).map_err(err)?;
            let (r, i) = (ca.ca.root.cert.clone(), ca.ca.issuing.cert.clone());
            (CaKind::Online(Box::new(ca)), r, i)
        }
        CaKindDef::Offline => {
            let names = Default::default();
            let ca = OfflineCa::new(forge, &label, &names, now).map_err(err)?;
            let (r, i) = (ca.ca.root.cert.clone(), ca.ca.issuing.cert.clone());
            (CaKind::Offline(Box::new(ca)), r, i)
        }
    };
    let host = match &d.kind {
        CaKindDef::Online(s) => s.hostname.clone(),
        CaKindDef::Offline => d.name.clone(),
    };
    Ok((CaService::new(&host, kind), root, issuing))
}
