//! What a farm knows about its phones, from the scenario and its seed exactly as the
//! simulation derives it: each phone of the fleet (MAC, model, MIC and key via
//! [`crate::engine::world::phone`]), the fleet's cluster PKI (the TVS and CAPF certificates a
//! phone's ITL would carry, the ITLRecovery signer TVS is asked about), and each device's CAPF
//! authentication mode from the scenario's `capf_operation` steps.

use crate::engine::spec::{FleetDef, Service, TlsMode, WorldSpec};
use crate::engine::{world, Prebuilt};
use crate::wire::identity::IdentityArg;
use crate::wire::world::{capf_steps, manufacturing_ca};
use cucmsim_core::machine::phone::{Phone, PhoneCapf};
use cucmsim_core::machine::Operator;
use cucmsim_core::pki::identity::CertType;
use cucmsim_core::pki::mic::ManufacturingCa;
use cucmsim_core::pki::{Certificate, Identity, KeyForge, KeyProfile};
use cucmsim_core::sgn::CapfAuthMode;
use std::sync::Arc;

/// A fleet, ready to make its phones.
pub struct Fleet {
    pub spec: WorldSpec,
    pub fleet: FleetDef,
    pub forge: KeyForge,
    pub mfg: Arc<ManufacturingCa>,
    prebuilt: Prebuilt,
    pub capf_profile: Arc<PhoneCapf>,
    /// The TFTP hosts of the fleet's cluster (option 150).
    pub tftp_hosts: Vec<String>,
    /// Every TVS certificate of the cluster (the ITL's TVS records).
    pub tvs_certs: Vec<Certificate>,
    /// The first TVS node's identity (for `--baseline`'s in-memory server).
    pub tvs_identity: Option<Identity>,
    /// The CAPF certificate (the ITL's CAPF record).
    pub capf_cert: Certificate,
    /// The certificate a TVS query asks about: the cluster's ITLRecovery.
    pub query_target: Certificate,
    /// The certificate a TVS verification asks about: the publisher's Tomcat (HTTPS).
    pub verify_target: Certificate,
}

impl Fleet {
    /// Fleet `name` of `spec`, with its cluster's PKI from the seed.
    pub fn new(spec: &WorldSpec, name: &str) -> Result<Fleet, String> {
        let fleet = spec
            .fleets
            .iter()
            .find(|f| f.name == name)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = spec.fleets.iter().map(|f| f.name.as_str()).collect();
                format!(
                    "no fleet {name:?} in the scenario (it has: {})",
                    names.join(", ")
                )
            })?;
        let prebuilt = Prebuilt::default();
        let forge = KeyForge::new(spec.seed);
        let mfg = manufacturing_ca(spec, &prebuilt)?;
        let publisher = world::publisher(spec, fleet.cluster, &forge, &mfg, &prebuilt)?;
        let pki = &publisher.pki;
        let tvs_certs = pki
            .nodes
            .iter()
            .filter_map(|n| n.identity(CertType::Tvs).map(|i| i.cert.clone()))
            .collect();
        Ok(Fleet {
            capf_profile: world::phone_capf(spec, &fleet, &forge),
            tftp_hosts: spec.hosts_with(fleet.cluster, Service::Tftp),
            tvs_certs,
            tvs_identity: pki
                .nodes
                .iter()
                .find_map(|n| n.identity(CertType::Tvs).cloned()),
            capf_cert: pki.capf.cert.clone(),
            query_target: pki.itl_recovery.cert.clone(),
            verify_target: pki.nodes[0]
                .identity(CertType::Tomcat)
                .map_or_else(|| pki.capf.cert.clone(), |i| i.cert.clone()),
            spec: spec.clone(),
            fleet,
            forge,
            mfg,
            prebuilt,
        })
    }

    /// `--phones N --mac-start MAC --mic-ca DIR`: N phones of `model` for an external server,
    /// MACs from `mac` up, MICs (keys from `seed`) issued by the MIC CA in `dir`. The cluster
    /// certificates are placeholders until [`Fleet::pin`] sets the server's.
    pub fn external(
        n: u32,
        mac: &str,
        model: &str,
        dir: &std::path::Path,
        seed: Option<u64>,
    ) -> Result<Fleet, String> {
        if n == 0 {
            return Err("--phones must be at least 1".into());
        }
        if mac.len() != 12 || !mac.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("--mac-start {mac:?}: 12 hex digits expected"));
        }
        if model.is_empty() || !model.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("--model {model:?}: letters and digits expected"));
        }
        let text = format!(
            "[scenario]\nname = \"farm_phones\"\nseed = {}\nduration = \"1 h\"\n\n[[cluster]]\nname = \"external\"\n\
             version = \"14SU2\"\n  [[cluster.node]]\n  name = \"external\"\n  ip = \"10.0.0.1\"\n\n\
             [[fleet]]\nname = \"phones\"\ncount = {n}\nmac_start = {mac:?}\nmodel = {model:?}\n\
             cluster = \"external\"\n",
            seed.unwrap_or(1)
        );
        let compiled = crate::lang::parse_str("--phones/--mac-start/--model", &text)
            .map_err(|e| e.to_string())?;
        let mut fleet = Fleet::new(&compiled.spec, "phones")?;
        fleet.mfg = Arc::new(read_mic_ca(dir)?);
        Ok(fleet)
    }

    /// Pins the given certificates instead of the seed's (TVS, CAPF) and sets what TVS is
    /// asked about (ITLRecovery for tvs-query, tomcat for tvs-verify).
    pub fn pin(&mut self, ids: &[IdentityArg]) -> Result<(), String> {
        let tvs: Vec<Certificate> = ids
            .iter()
            .filter(|a| a.cert_type == CertType::Tvs)
            .map(|a| a.cert.clone())
            .collect();
        if !tvs.is_empty() {
            self.tvs_certs = tvs;
        }
        for a in ids {
            match a.cert_type {
                CertType::Tvs => {}
                CertType::Capf => self.capf_cert = a.cert.clone(),
                CertType::ItlRecovery => self.query_target = a.cert.clone(),
                CertType::Tomcat => self.verify_target = a.cert.clone(),
                t => {
                    return Err(format!(
                        "--identity {t}: a farm takes TVS, CAPF, ITLRecovery and tomcat"
                    ))
                }
            }
        }
        Ok(())
    }

    /// Phones in the fleet.
    pub fn len(&self) -> u32 {
        self.fleet.count
    }

    /// Whether the fleet has no phone.
    pub fn is_empty(&self) -> bool {
        self.fleet.count == 0
    }

    /// Phone `i` of the fleet (0-based), never booted, with its MIC (memoised: a second call
    /// costs a clone).
    pub fn phone(&self, i: u32) -> Result<Phone, String> {
        let build = world::PhoneBuild {
            forge: &self.forge,
            mfg: &self.mfg,
            epoch: self.spec.epoch,
            tls: self.spec.tls == TlsMode::Full,
            prebuilt: &self.prebuilt,
        };
        let id = self.fleet.first + i % self.fleet.count.max(1);
        let mut phone = world::phone(&self.fleet, id, &build, self.capf_profile.clone())?;
        phone.tls = true; // on a real socket TVS is always TLS
        Ok(phone)
    }

    /// The key profiles CAPF may ask `device` for (its RSA size, and P-256).
    pub fn lsc_profiles(&self, device: &str) -> Vec<KeyProfile> {
        let cluster = &self.spec.clusters[self.fleet.cluster].name;
        let mut bits = 2048;
        for op in capf_steps(&self.spec, cluster) {
            if let Operator::CapfUpdate(u) = op {
                if u.devices.iter().any(|(d, ..)| d == device) {
                    bits = u32::from(u.rsa_bits);
                }
            }
        }
        vec![KeyProfile::Rsa { bits }, KeyProfile::EcP256]
    }

    /// The CAPF authentication mode the scenario's last `capf_operation` on the fleet's
    /// cluster set for `device` (what its config's `<capfAuthMode>` says).
    pub fn capf_mode(&self, device: &str) -> CapfAuthMode {
        let cluster = &self.spec.clusters[self.fleet.cluster].name;
        let mut mode = CapfAuthMode::None;
        for op in capf_steps(&self.spec, cluster) {
            let Operator::CapfUpdate(u) = op else {
                continue;
            };
            if u.devices.iter().any(|(d, ..)| d == device) {
                mode = u.auth.phone_mode();
            }
        }
        mode
    }
}

/// A MIC CA from `dir`: `issuing.pem`/`.key` (+ `root.pem`), or `cert.pem`/`key.pem`.
fn read_mic_ca(dir: &std::path::Path) -> Result<ManufacturingCa, String> {
    let (cert, key) = if dir.join("issuing.pem").exists() {
        ("issuing.pem", "issuing.key")
    } else {
        ("cert.pem", "key.pem")
    };
    let path = |f: &str| dir.join(f).display().to_string();
    let ca = crate::wire::identity::read_pair(&path(cert), &path(key))
        .map_err(|e| format!("--mic-ca: {e}"))?;
    let root = match dir.join("root.pem") {
        p if p.exists() && cert == "issuing.pem" => {
            let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            Certificate::from_pem(&text).map_err(|e| format!("{}: {e}", p.display()))?
        }
        _ => ca.cert.clone(),
    };
    Ok(ManufacturingCa {
        root: Identity {
            cert_type: None,
            cert: root,
            key: ca.key.clone(),
        },
        issuing: ca,
    })
}
