//! The TFTP service of one node: builds and signs the ITL, the CTL (mixed mode) and each
//! phone's configuration file from the cluster state the publisher sends, and serves them by
//! CUCM's per-device names (reference §1.7).
//!
//! ```text
//!  TftpRebuild(state) ─► sign ITLFile.tlv (signer by version; rollback ITL when the parameter is on)
//!                        sign CTLFile.tlv (mixed mode only)
//!  TftpGet ITLSEP<MAC>.tlv → ITLFile.tlv · CTLSEP<MAC>.tlv → CTLFile.tlv (or not found)
//!          SEP<MAC>.cnf.xml.sgn → signed per device on first request, then cached
//! ```

use super::msg::{Addr, Effect, Msg, Now, Observation, ServiceAction, TftpBuild};
use crate::pki::identity::CertType;
use crate::sgn::{
    sign_config, CapfAuthMode, PhoneConfig, SecurityMode, Server, CAPF_PORT, TVS_PORT,
};
use crate::tlv::build::RecordSpec;
use crate::tlv::content::CtlMode;
use crate::tlv::TrustListBuilder;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One node's TFTP service.
#[derive(Debug)]
pub struct Tftp {
    pub host: String,
    pub up: bool,
    build: Option<Arc<TftpBuild>>,
    itl: Option<Arc<[u8]>>,
    ctl: Option<Arc<[u8]>>,
    configs: BTreeMap<String, Arc<[u8]>>,
}

impl Tftp {
    pub fn new(host: &str) -> Tftp {
        Tftp {
            host: host.to_string(),
            up: true,
            build: None,
            itl: None,
            ctl: None,
            configs: BTreeMap::new(),
        }
    }

    fn obs(&self, now: Now, what: &str, detail: impl Into<String>) -> Effect {
        Effect::Observe(Observation::new(
            now,
            &format!("tftp@{}", self.host),
            what,
            detail,
        ))
    }

    /// Handles one message.
    pub fn handle(&mut self, msg: Msg, now: Now) -> Vec<Effect> {
        let mut out = vec![];
        match msg {
            Msg::TftpRebuild(build) => {
                let stale = self
                    .build
                    .as_ref()
                    .is_some_and(|b| b.revision > build.revision);
                if !stale {
                    self.rebuild(build, now, &mut out)
                }
            }
            Msg::Service(action) => {
                self.up = !matches!(action, ServiceAction::Stop);
                out.push(self.obs(now, "service", format!("{action:?}")));
                // A (re)start signs the ITL with the usual signer again: the end of
                // `utils itl reset` ("Restart TFTP: the ITL is re-signed by ITLRecovery").
                let reset = self.build.as_ref().filter(|b| b.itl_reset_signer.is_some());
                if let (true, Some(build)) = (self.up, reset) {
                    let mut build = (**build).clone();
                    build.itl_reset_signer = None;
                    self.rebuild(Arc::new(build), now, &mut out);
                }
            }
            Msg::TftpGet { phone, file } if self.up => {
                let bytes = self.serve(&file);
                out.push(Effect::Send {
                    to: Addr::Phone(phone),
                    msg: Msg::TftpReply { file, bytes },
                });
            }
            _ => {}
        }
        out
    }

    fn rebuild(&mut self, build: Arc<TftpBuild>, now: Now, out: &mut Vec<Effect>) {
        let certs = &build.certs;
        let ix = build.node_ix;
        let mut itl = TrustListBuilder::new("ITLFile.tlv", build.built_at.0.max(0) as u32);
        itl.digest = build.digest;
        itl.records = if build.rollback {
            certs.rollback_itl_records(ix)
        } else {
            certs.itl_records(ix)
        };
        self.itl = build
            .itl_reset_signer
            .as_ref()
            .or_else(|| certs.itl_signer(ix))
            .and_then(|s| itl.sign(&s.cert, &s.key).ok())
            .map(Arc::from);
        self.ctl = None;
        if build.mixed_mode || build.non_secure_ctl {
            let mode = if build.mixed_mode {
                CtlMode::Mixed
            } else {
                CtlMode::NonSecure
            };
            let mut ctl = TrustListBuilder::new("CTLFile.tlv", build.built_at.0.max(0) as u32);
            ctl.digest = build.digest;
            let ctl_certs = build.ctl_certs.as_ref().unwrap_or(certs);
            ctl.records = ctl_certs.ctl_records(mode);
            out.push(self.obs(now, "ctl_built", ctl_summary(&ctl.records)));
            self.ctl = ctl_certs
                .ctl_signer()
                .and_then(|s| ctl.sign(&s.cert, &s.key).ok())
                .map(Arc::from);
        }
        self.configs.clear();
        let detail = format!(
            "ITL {} bytes, CTL {}",
            self.itl.as_ref().map_or(0, |b| b.len()),
            self.ctl.as_ref().map_or(0, |b| b.len())
        );
        out.push(self.obs(now, "tftp_rebuilt", detail));
        self.build = Some(build);
    }

    fn serve(&mut self, file: &str) -> Option<Arc<[u8]>> {
        let upper = file.to_ascii_uppercase();
        if upper.starts_with("ITL") && upper.ends_with(".TLV") {
            return self.itl.clone();
        }
        if upper.starts_with("CTL") && upper.ends_with(".TLV") {
            return self.ctl.clone();
        }
        let device = file.strip_suffix(".cnf.xml.sgn")?;
        if let Some(cached) = self.configs.get(device) {
            return Some(cached.clone());
        }
        let signed = self.sign_config(device)?;
        self.configs.insert(device.to_string(), signed.clone());
        Some(signed)
    }

    fn sign_config(&self, device: &str) -> Option<Arc<[u8]>> {
        let build = self.build.as_ref()?;
        let node = build.certs.nodes.get(build.node_ix)?;
        let config = PhoneConfig {
            device_name: device.to_string(),
            callmanagers: build.callmanagers.clone(),
            tvs: build
                .tvs
                .iter()
                .map(|h| Server {
                    address: h.clone(),
                    port: TVS_PORT,
                })
                .collect(),
            capf: build
                .capf
                .iter()
                .map(|h| Server {
                    address: h.clone(),
                    port: CAPF_PORT,
                })
                .collect(),
            security_mode: build
                .devices
                .get(device)
                .map_or(SecurityMode::NonSecure, |d| d.security_mode),
            capf_auth_mode: build
                .devices
                .get(device)
                .map_or(CapfAuthMode::None, |d| d.capf_auth_mode),
            cert_hash: None,
            encr_config: false,
        };
        let signer = &node.callmanager;
        debug_assert_eq!(signer.cert_type, Some(CertType::CallManager));
        let name = config.signed_file_name();
        let built = build.built_at.0.max(0) as u32;
        sign_config(
            config.to_xml().as_bytes(),
            &name,
            &signer.cert,
            &signer.key,
            build.digest,
            built,
            Default::default(),
        )
        .ok()
        .map(Arc::from)
    }
}

/// The CTL's records as `show ctl` names them: role and subject CN, or the DNS name of a
/// blank record.
fn ctl_summary(records: &[RecordSpec]) -> String {
    let one = |r: &RecordSpec| match r {
        RecordSpec::Cert { cert, role, .. } => format!("{role} {}", cert.subject().common_name()),
        RecordSpec::Blank { dns_name, role, .. } => format!("{role} {dns_name} (blank)"),
    };
    let list: Vec<String> = records.iter().map(one).collect();
    format!("CTLFile.tlv: {}", list.join("; "))
}
