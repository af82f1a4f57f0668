//! The TFTP service of one node: builds and signs the ITL, the CTL (mixed mode) and each
//! phone's configuration file from the cluster state the publisher sends, and serves them by
//! CUCM's per-device names (reference §1.7).
//!
//! ```text
//!  TftpRebuild(state) ─► sign ITLFile.tlv (signer by version; rollback ITL when the parameter is on)
//!                        sign CTLFile.tlv (mixed mode only)
//!  TftpGet ITLSEP<MAC>.tlv → ITLFile.tlv · CTLSEP<MAC>.tlv → CTLFile.tlv (or not found)
//!          SEP<MAC>.cnf.xml.sgn → signed per device on first request, then cached
//!  TftpTomcat(identity) ─► the node's Tomcat on disk changed; nothing served changes
//!  Service Start/Restart ─► loads the Tomcat on disk (the HTTPS certificate until next start)
//!  TftpHttps (TLS, port 6971) ─► handshake with the *loaded* Tomcat certificate and key
//!          ─► "GET <file>" ─► the file, length-prefixed, over the TLS session
//! ```
//! F29 [C S12]: the TFTP service caches the node's Tomcat certificate when it starts, so a
//! Tomcat certificate regenerated or uploaded without restarting TFTP leaves it serving the
//! old one on its secure (HTTPS) config-download port. [C S19] lists 6971 and 6972 for the
//! secure config download; which of the two a phone uses is [I] — the model names 6971.
//! [I] The TFTP does not ask for a client certificate on that port.

use super::channel::Channel;
use super::msg::{Addr, Effect, Msg, Now, ServiceAction, TftpBuild};
use crate::machine::trace::{Kind, Observation};
use crate::pki::identity::CertType;
use crate::pki::Identity;
use crate::sgn::{
    sign_config, CapfAuthMode, PhoneConfig, SecurityMode, Server, CAPF_PORT, TVS_PORT,
};
use crate::tls::{server_config, SimClock, TlsEnd};
use crate::tlv::build::RecordSpec;
use crate::tlv::content::CtlMode;
use crate::tlv::TrustListBuilder;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The secure (HTTPS) config-download port the model uses [C S19] (6971 or 6972: [I]).
pub const HTTPS_PORT: u16 = 6971;
/// The plain HTTP config-download port [community captures].
pub const HTTP_PORT: u16 = 6970;

/// Signed per-device configs kept at most (about 2.6 KB each). A config is a pure function of
/// the build and the device, so the cache changes speed, never bytes; unbounded, it held one
/// config per phone per node (5 KB a phone in a two-cluster migration).
const CONFIG_CACHE: usize = 4096;

/// One node's TFTP service.
#[derive(Debug)]
pub struct Tftp {
    pub host: String,
    pub up: bool,
    build: Option<Arc<TftpBuild>>,
    itl: Option<Arc<[u8]>>,
    ctl: Option<Arc<[u8]>>,
    configs: BTreeMap<String, Arc<[u8]>>,
    /// Configs signed ahead ([`Machine::prepare`](crate::machine::Machine::prepare)), with
    /// the build they were signed from.
    prepared: HashMap<String, (Arc<TftpBuild>, Arc<[u8]>)>,
    /// The Tomcat identity loaded when the service last started: what the HTTPS port serves.
    tomcat: Option<Identity>,
    /// The node's Tomcat identity on disk now (read at the next start).
    disk_tomcat: Option<Identity>,
    /// HTTPS config-download sessions by (phone, session).
    https: BTreeMap<(u32, u64), Channel>,
    clock: SimClock,
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
            prepared: HashMap::new(),
            tomcat: None,
            disk_tomcat: None,
            https: BTreeMap::new(),
            clock: SimClock::default(),
        }
    }

    /// The Tomcat certificate the HTTPS port presents (the one loaded at the last start).
    pub fn served_tomcat(&self) -> Option<&Identity> {
        self.tomcat.as_ref()
    }

    fn obs(&self, now: Now, what: Kind, detail: impl Into<String>) -> Effect {
        Effect::Observe(Observation::note(
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
                    self.disk_tomcat = build.tomcat.clone();
                    // The service started before the publisher's first build reached it.
                    if self.tomcat.is_none() {
                        self.tomcat = self.disk_tomcat.clone();
                    }
                    self.rebuild(build, now, &mut out)
                }
            }
            Msg::TftpTomcat(identity) => self.disk_tomcat = Some((*identity).clone()),
            Msg::Service(action) => {
                self.up = !matches!(action, ServiceAction::Stop);
                out.push(self.obs(now, Kind::Service, format!("{action:?}")));
                self.https.clear();
                if self.up {
                    self.load_tomcat(now, &mut out);
                }
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
            Msg::TftpHttps {
                phone,
                session,
                bytes,
            } if self.up => self.on_https(phone, session, &bytes, now, &mut out),
            _ => {}
        }
        out
    }

    /// A (re)start reads the node's Tomcat certificate from disk.
    fn load_tomcat(&mut self, now: Now, out: &mut Vec<Effect>) {
        let serial = |i: &Option<Identity>| i.as_ref().map(|i| i.cert.serial_hex());
        let (old, new) = (serial(&self.tomcat), serial(&self.disk_tomcat));
        self.tomcat = self.disk_tomcat.clone();
        if old != new {
            let detail = format!(
                "HTTPS {HTTPS_PORT} now presents Tomcat serial {} (was {})",
                new.unwrap_or_default(),
                old.unwrap_or_default()
            );
            out.push(self.obs(now, Kind::TftpTomcatLoaded, detail));
        }
    }

    /// One flight on the HTTPS config-download port.
    fn on_https(
        &mut self,
        phone: u32,
        session: u64,
        bytes: &[u8],
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let reply = |bytes: Vec<u8>, server_cert: Option<Arc<[u8]>>| Effect::Send {
            to: Addr::Phone(phone),
            msg: Msg::TftpHttpsReply {
                session,
                bytes,
                server_cert,
            },
        };
        let Some(tomcat) = self.tomcat.clone() else {
            return; // nothing listens on the port without a certificate
        };
        let key = (phone, session);
        if !self.https.contains_key(&key) && bytes.first() != Some(&0x16) {
            // Identity mode (no TLS): the opening carries nothing, the request follows.
            if bytes.is_empty() {
                out.push(self.presenting(phone, &tomcat, now));
                return out.push(reply(vec![], Some(tomcat.cert.der().into())));
            }
            let answer = self.answer(bytes);
            return out.push(reply(answer, None));
        }
        if !self.https.contains_key(&key) {
            self.clock.set(now.wall);
            let end = server_config((&tomcat.cert, &tomcat.key), vec![], &self.clock)
                .and_then(TlsEnd::server);
            match end {
                Ok(end) => {
                    out.push(self.presenting(phone, &tomcat, now));
                    self.https.insert(key, Channel::tls(end));
                }
                Err(e) => return out.push(self.obs(now, Kind::TlsFailure, e)),
            }
        }
        self.clock.set(now.wall);
        let Some(channel) = self.https.get_mut(&key) else {
            return;
        };
        let fed = channel.feed(bytes);
        let request = channel.take_received();
        if !request.is_empty() {
            let answer = self.answer(&request);
            if let Some(channel) = self.https.get_mut(&key) {
                let _ = channel.write(answer);
            }
        }
        let Some(channel) = self.https.get_mut(&key) else {
            return;
        };
        let flight = channel.flush();
        if fed.is_err() || !request.is_empty() {
            self.https.remove(&key); // closed after the answer, or by an alert
        }
        if !flight.is_empty() {
            out.push(reply(flight, None));
        }
    }

    fn presenting(&self, phone: u32, tomcat: &Identity, now: Now) -> Effect {
        let current = self.disk_tomcat.as_ref().map(|i| i.cert.serial_hex());
        let served = tomcat.cert.serial_hex();
        let state = match current {
            Some(c) if c != served => format!("cached; the node's current Tomcat is serial {c}"),
            _ => "current".to_string(),
        };
        self.obs(
            now,
            Kind::TftpHttpsCert,
            format!("HTTPS {HTTPS_PORT} to phone#{phone}: Tomcat serial {served} ({state})"),
        )
    }

    /// The answer to an HTTPS request `GET <file>`: a 4-byte big-endian length, then the
    /// file; length 0 for a file not found.
    fn answer(&mut self, request: &[u8]) -> Vec<u8> {
        let file = std::str::from_utf8(request)
            .ok()
            .and_then(|r| r.trim().strip_prefix("GET /"))
            .map(str::to_string);
        let bytes = file.and_then(|f| self.serve(&f));
        let body = bytes.as_deref().unwrap_or(&[]);
        let mut out = (body.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(body);
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
            out.push(self.obs(now, Kind::CtlBuilt, ctl_summary(&ctl.records)));
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
        out.push(self.obs(now, Kind::TftpRebuilt, detail));
        self.build = Some(build);
    }

    fn serve(&mut self, file: &str) -> Option<Arc<[u8]>> {
        let upper = file.to_ascii_uppercase();
        if upper.starts_with("ITL") && upper.ends_with(".TLV") {
            // A TFTP serving unsigned configs stands for a pre-8.0 one: it has no ITL.
            if self.build.as_ref().is_some_and(|b| b.unsigned_configs) {
                return None;
            }
            return self.itl.clone();
        }
        if upper.starts_with("CTL") && upper.ends_with(".TLV") {
            return self.ctl.clone();
        }
        let device = file.strip_suffix(".cnf.xml.sgn")?;
        if let Some(cached) = self.configs.get(device) {
            return Some(cached.clone());
        }
        if self.configs.len() >= CONFIG_CACHE {
            self.configs.clear();
        }
        let signed = match self.prepared.remove(device) {
            // Signed ahead from this very build: the same bytes `sign_config` gives.
            Some((from, bytes)) if self.build.as_ref().is_some_and(|b| Arc::ptr_eq(b, &from)) => {
                bytes
            }
            _ => self.sign_config(device)?,
        };
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
        if build.unsigned_configs {
            // The plain `SEP<MAC>.cnf.xml`, no signature header (§2.5, F31).
            return Some(Arc::from(config.to_xml().into_bytes()));
        }
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

/// TFTP answers messages only.
impl crate::machine::Machine for Tftp {
    fn addr(&self) -> Addr {
        Addr::Tftp(self.host.clone())
    }
    fn on_input(&mut self, input: crate::machine::Input, now: Now) -> Vec<Effect> {
        use crate::machine::Input;
        match input {
            Input::Msg(m) => self.handle(m, now),
            Input::Start | Input::Timer(_) => vec![],
        }
    }

    fn prepares(&self) -> bool {
        true
    }

    /// Signs ahead, on up to `fan_out` threads, the per-device configs that upcoming
    /// requests ask for and that are not cached yet (a reset of thousands of phones asks for
    /// thousands of them in a few seconds). Each is kept with the build it was signed from,
    /// and used only while that build is current.
    fn prepare(&mut self, upcoming: &[&crate::machine::Input], fan_out: usize) {
        use crate::machine::Input;
        let Some(build) = self.build.clone().filter(|_| fan_out > 1 && self.up) else {
            return;
        };
        let mut devices: Vec<&str> = upcoming
            .iter()
            .filter_map(|i| match i {
                Input::Msg(Msg::TftpGet { file, .. }) => file.strip_suffix(".cnf.xml.sgn"),
                _ => None,
            })
            .filter(|d| !self.configs.contains_key(*d))
            .collect();
        devices.sort_unstable();
        devices.dedup();
        if devices.len() < 2 {
            return;
        }
        let per = devices.len().div_ceil(fan_out);
        let this = &*self;
        let signed: Vec<(String, Arc<[u8]>)> = std::thread::scope(|s| {
            let jobs: Vec<_> = devices
                .chunks(per)
                .map(|chunk| {
                    s.spawn(move || {
                        chunk
                            .iter()
                            .filter_map(|d| Some((d.to_string(), this.sign_config(d)?)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            jobs.into_iter()
                .flat_map(|j| j.join().unwrap_or_default())
                .collect()
        });
        self.prepared = signed
            .into_iter()
            .map(|(d, bytes)| (d, (Arc::clone(&build), bytes)))
            .collect();
    }
}
