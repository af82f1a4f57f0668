//! The migration itself, on the core's own machines: phones of the given count that hold the
//! source's real CTL/ITL (as every phone registered on the source does) are pointed at the
//! destination's TFTP and reset; each downloads the destination's real CTL/ITL — the bytes as
//! they are, never re-signed — and judges them with the phone's trust rules, asking the
//! source's TVS machines, which vouch from the real store contents. TVS sessions use identity
//! mode: a TVS presents its real certificate and the phone checks it against the TVS records
//! of its ITL; no private key exists, so none is used.
//!
//! ```text
//!  Phone (machine::phone)  ──DhcpRequest──► dhcp: option 150 = a destination TFTP node
//!        ──TftpGet CTLSEP/ITLSEP──► the node's real CTLFile.tlv / ITLFile.tlv
//!        ──TvsPlain QUERY_CERT──► Tvs (machine::tvs) on a source node: real stores + own certs
//!        ──TftpGet SEP<MAC>.cnf.xml.sgn──► stop: the trust lists are settled
//! ```
//! Virtual time, one ordered queue (time, sequence), 1 ms per message: the same inputs give
//! the same outcome. The walk ends where a private key would be needed: the destination's
//! config file is signed by its CallManager key, which no exported file holds.

use super::infer::{Cluster, Node};
use cucmsim_core::machine::config::TvsModel;
use cucmsim_core::machine::phone::{Phone, PhoneInput};
use cucmsim_core::machine::tvs::Tvs;
use cucmsim_core::machine::{Addr, Effect, Event, Input, Machine, Msg, Observation, TvsStores};
use cucmsim_core::pki::identity::CertType;
use cucmsim_core::pki::mic::ManufacturingCa;
use cucmsim_core::pki::{Certificate, KeyForge, KeyProfile};
use cucmsim_core::sgn::{CapfAuthMode, PhoneConfig, SecurityMode, Server, TVS_PORT};
use cucmsim_core::tlv::Role;
use cucmsim_core::wall::Now;
use cucmsim_core::WallTime;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where a phone ended.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PhoneRun {
    pub device: String,
    /// The source TFTP node whose ITL it held.
    pub source_tftp: String,
    /// The destination TFTP node it was pointed at.
    pub destination_tftp: String,
    /// "Trust lists installed" or the phone's status ("Trust List update failed", …).
    pub outcome: String,
    /// Why, for a phone that failed (the phone's own refusal text).
    pub reason: Option<String>,
    /// Its observations in order: `"+12 ms ITL via Tvs { cached: false }"`.
    pub timeline: Vec<String>,
}

/// The outcome of phones that got both trust lists and went on to the config file.
pub const INSTALLED: &str = "Trust lists installed";
/// Virtual time after which a phone still undecided is reported in its state [I].
const LIMIT_MS: u64 = 30 * 60 * 1000;

/// A destination TFTP node's ITL and CTL bytes, as read from disk.
type Served = (Option<Arc<[u8]>>, Option<Arc<[u8]>>);

struct World {
    phones: Vec<Phone>,
    tvs: BTreeMap<String, Tvs>,
    /// Per destination TFTP host: ITL and CTL bytes as read from disk.
    served: BTreeMap<String, Served>,
    option150: Vec<String>,
    done: Vec<Option<String>>,
    queue: BTreeMap<(u64, u64), (Addr, Input)>,
    seq: u64,
    epoch: WallTime,
    timelines: Vec<Vec<String>>,
    by_device: BTreeMap<String, usize>,
    trace: Vec<Observation>,
}

/// The certificates a source TVS vouches for as its own (as `machine::publisher::services`
/// gives a simulated TVS): ITLRecovery as SAST, every CallManager as SAST, its node's also as
/// CCM+TFTP, its TVS certificate, the CAPF.
pub fn own_certs(c: &Cluster, node: &Node, tvs: &Certificate) -> Vec<(Certificate, Role)> {
    let mut own = vec![];
    if let Some(r) = &c.itl_recovery {
        own.push((r.clone(), Role::Sast));
    }
    for n in &c.nodes {
        if let Some(cm) = n.files.certs.get(&CertType::CallManager) {
            own.push((cm.value.clone(), Role::Sast));
            if n.name == node.name {
                own.push((cm.value.clone(), Role::CcmTftp));
            }
        }
    }
    own.push((tvs.clone(), Role::Tvs));
    if let Some(capf) = &c.capf {
        own.push((capf.clone(), Role::Capf));
    }
    own
}

/// The source node a TVS address of the config names (host, FQDN or IP).
pub fn resolve<'a>(c: &'a Cluster, address: &str) -> Option<&'a Node> {
    let host = address.split('.').next().unwrap_or(address);
    c.nodes.iter().find(|n| {
        n.name.eq_ignore_ascii_case(host)
            || n.name.eq_ignore_ascii_case(address)
            || n.ip.is_some_and(|ip| ip.to_string() == address)
    })
}

fn source_tvs(src: &Cluster, forge: &KeyForge) -> BTreeMap<String, Tvs> {
    let stores: Vec<_> = src
        .stores
        .values()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect();
    // The TVS machine wants a key for its TLS side; identity mode never uses it, and no
    // exported file holds the real one, so a stand-in from the seed fills the field.
    let stand_in = forge.key("preflight/tvs-stand-in", KeyProfile::EcP256);
    let mut out = BTreeMap::new();
    for address in &src.tvs_list {
        let Some(node) = resolve(src, address) else {
            continue;
        };
        let Some((cert, _)) = &node.tvs_cert else {
            continue;
        };
        let mut tvs = Tvs::new(address);
        let stores = TvsStores {
            stores: stores.clone(),
            own: own_certs(src, node, cert),
            tvs_cert: cert.clone(),
            tvs_key: stand_in.clone(),
            model: TvsModel::default(),
            restart: false,
            revision: 1,
        };
        let now = Now {
            mono_ms: 0,
            wall: WallTime(0),
        };
        let _ = tvs.on_input(Input::Msg(Msg::TvsStores(Arc::new(stores))), now);
        out.insert(address.clone(), tvs);
    }
    out
}

fn source_config(src: &Cluster, device: &str) -> PhoneConfig {
    let base = src
        .nodes
        .iter()
        .find_map(|n| n.files.config.as_ref())
        .map(|c| c.value.clone());
    let mut config = base.unwrap_or_else(|| PhoneConfig {
        device_name: String::new(),
        callmanagers: src
            .nodes
            .iter()
            .filter(|n| n.callmanager)
            .map(|n| n.name.clone())
            .collect(),
        tvs: vec![],
        capf: vec![],
        security_mode: SecurityMode::NonSecure,
        capf_auth_mode: CapfAuthMode::None,
        cert_hash: None,
        encr_config: false,
    });
    config.device_name = device.to_string();
    config.tvs = src
        .tvs_list
        .iter()
        .map(|a| Server {
            address: a.clone(),
            port: TVS_PORT,
        })
        .collect();
    config
}

/// A phone holding source node `s`'s lists and config, and its run record.
fn source_phone(
    src: &Cluster,
    s: &Node,
    id: u32,
    forge: &KeyForge,
    mfg: &ManufacturingCa,
    at: WallTime,
) -> Result<Phone, String> {
    let mac = format!("0050568{id:05X}");
    let installed = at.plus_s(-WallTime::YEAR_S);
    let mic = mfg
        .issue_mic(forge, "8861", &mac, KeyProfile::EcP256, installed)
        .map_err(|e| e.to_string())?;
    let chain = vec![mfg.issuing.cert.clone()];
    let mut phone = Phone::new(id, &mac, "8861", mic.cert, mic.key, chain);
    phone.tls = false;
    phone.trust.ctl = s.files.ctl.as_ref().map(|l| l.value.clone());
    phone.trust.itl = s.files.itl.as_ref().map(|l| l.value.clone());
    phone.config = Some(source_config(src, &phone.device));
    Ok(phone)
}

/// The destination TFTP nodes' files, as read from disk.
fn served(dst_tftp: &[&Node]) -> BTreeMap<String, Served> {
    let bytes = |l: &Option<super::layout::Loaded<Arc<cucmsim_core::tlv::TrustList>>>| {
        l.as_ref()
            .map(|l| Arc::<[u8]>::from(l.value.raw.as_slice()))
    };
    dst_tftp
        .iter()
        .map(|n| (n.name.clone(), (bytes(&n.files.itl), bytes(&n.files.ctl))))
        .collect()
}

/// The outcome of a phone from its observations and whether it reached the config file.
fn settle(run: &mut PhoneRun, phone: &Phone, done: bool) {
    let rejected = run
        .timeline
        .iter()
        .find(|l| l.contains("trust_list_rejected"))
        .map(|l| {
            l.split_once("trust_list_rejected ")
                .map_or(l.clone(), |(_, r)| r.to_string())
        });
    (run.outcome, run.reason) = match (done, rejected) {
        (true, None) => (INSTALLED.to_string(), None),
        (_, Some(why)) => (
            cucmsim_core::machine::phone::status::TRUST_LIST_UPDATE_FAILED.to_string(),
            Some(why),
        ),
        (false, None) => (
            phone.status().to_string(),
            Some("did not reach the config file".into()),
        ),
    };
}

/// Migrates `phones` phones from `src` to `dst` on virtual time from wall time `at`; returns
/// each phone's run, the observation trace (phones and TVS) in time order, and how many
/// inputs (messages and timers) were delivered.
pub fn migrate(
    src: &Cluster,
    dst: &Cluster,
    phones: u32,
    at: WallTime,
    seed: u64,
) -> Result<(Vec<PhoneRun>, Vec<Observation>, u64), String> {
    let forge = KeyForge::new(seed);
    let mfg =
        ManufacturingCa::new(&forge, at.plus_s(-WallTime::YEAR_S)).map_err(|e| e.to_string())?;
    let (src_tftp, dst_tftp) = (src.tftp_nodes(), dst.tftp_nodes());
    if src_tftp.is_empty() || dst_tftp.is_empty() {
        let c = if src_tftp.is_empty() { src } else { dst };
        return Err(format!(
            "{}: no tftp/<node>/ITLFile.tlv: preflight needs the ITL each TFTP node serves",
            c.dir.display()
        ));
    }
    let mut w = World {
        phones: vec![],
        tvs: source_tvs(src, &forge),
        served: served(&dst_tftp),
        option150: vec![],
        done: vec![None; phones as usize],
        queue: BTreeMap::new(),
        seq: 0,
        epoch: at,
        timelines: vec![vec![]; phones as usize],
        by_device: BTreeMap::new(),
        trace: vec![],
    };
    let mut runs = vec![];
    for id in 0..phones {
        let s = src_tftp[id as usize % src_tftp.len()];
        let d = dst_tftp[id as usize % dst_tftp.len()];
        let phone = source_phone(src, s, id, &forge, &mfg, at)?;
        runs.push(PhoneRun {
            device: phone.device.clone(),
            source_tftp: s.name.clone(),
            destination_tftp: d.name.clone(),
            outcome: String::new(),
            reason: None,
            timeline: vec![],
        });
        w.option150.push(d.name.clone());
        w.by_device.insert(phone.device.clone(), id as usize);
        w.phones.push(phone);
        // Resets spread 20 ms apart, as an operator's reset reaches phones one by one [I].
        w.push(u64::from(id) * 20, Addr::Phone(id), Input::Msg(Msg::Reset));
    }
    w.run();
    for (id, run) in runs.iter_mut().enumerate() {
        run.timeline = std::mem::take(&mut w.timelines[id]);
        settle(run, &w.phones[id], w.done[id].is_some());
    }
    Ok((runs, w.trace, w.seq))
}

impl World {
    fn push(&mut self, t: u64, to: Addr, input: Input) {
        self.seq += 1;
        self.queue.insert((t, self.seq), (to, input));
    }

    fn now(&self, t: u64) -> Now {
        Now {
            mono_ms: t,
            wall: self.epoch.plus_s((t / 1000) as i64),
        }
    }

    fn run(&mut self) {
        while let Some(((t, _), (to, input))) = self.queue.pop_first() {
            if t > LIMIT_MS {
                break;
            }
            let now = self.now(t);
            let effects = match &to {
                Addr::Phone(id) => {
                    let ix = *id as usize;
                    if self.done[ix].is_some() {
                        continue;
                    }
                    let input = match input {
                        Input::Msg(m) => PhoneInput::Msg(m),
                        Input::Timer(k) => PhoneInput::Timer(k),
                        Input::Start => PhoneInput::PowerOn,
                    };
                    self.phones[ix].handle(input, now)
                }
                Addr::Tvs(host) => match self.tvs.get_mut(host) {
                    Some(tvs) => tvs.on_input(input, now),
                    None => vec![], // no such TVS: the phone's timer moves it on
                },
                Addr::Dhcp => self.dhcp(input),
                Addr::Tftp(host) => self.tftp(host.clone(), input, t),
                _ => vec![],
            };
            self.carry_out(&to, effects, t);
        }
    }

    fn dhcp(&self, input: Input) -> Vec<Effect> {
        let Input::Msg(Msg::DhcpRequest { phone }) = input else {
            return vec![];
        };
        let option150 = vec![self.option150[phone as usize].clone()];
        vec![Effect::Send {
            to: Addr::Phone(phone),
            msg: Msg::DhcpAck { option150 },
        }]
    }

    fn tftp(&mut self, host: String, input: Input, t: u64) -> Vec<Effect> {
        let Input::Msg(Msg::TftpGet { phone, file }) = input else {
            return vec![];
        };
        let upper = file.to_ascii_uppercase();
        let (itl, ctl) = self.served.get(&host).cloned().unwrap_or((None, None));
        let bytes = if upper.starts_with("ITL") && upper.ends_with(".TLV") {
            itl
        } else if upper.starts_with("CTL") && upper.ends_with(".TLV") {
            ctl
        } else {
            // The config file: its signature needs the destination CallManager's private
            // key, which no exported file holds. The trust lists are settled: stop here.
            self.done[phone as usize] = Some(file.clone());
            self.timelines[phone as usize]
                .push(format!("+{t} ms asks {file}: trust lists settled"));
            return vec![];
        };
        vec![Effect::Send {
            to: Addr::Phone(phone),
            msg: Msg::TftpReply { file, bytes },
        }]
    }

    fn carry_out(&mut self, from: &Addr, effects: Vec<Effect>, t: u64) {
        for e in effects {
            match e {
                Effect::Send { to, msg } => self.push(t + 1, to, Input::Msg(msg)),
                Effect::Timer { after_ms, token } => {
                    self.push(t + after_ms, from.clone(), Input::Timer(token))
                }
                Effect::Observe(o) => self.observe(o),
            }
        }
    }

    fn observe(&mut self, o: Observation) {
        if let Some(&ix) = self.by_device.get(&o.who) {
            let line = format!("+{} ms {} {}", o.t_ms, o.what(), o.event);
            let repeat = matches!(o.event, Event::State { .. })
                && self.timelines[ix]
                    .last()
                    .is_some_and(|l| l.ends_with(&o.event.to_string()));
            if !repeat {
                self.timelines[ix].push(line);
            }
        }
        self.trace.push(o);
    }
}
