//! Test fixture: a CAPF, the manufacturing CA, one phone, and an in-memory driver that runs a
//! whole session between [`CapfSession`] and [`CapfClient`], every message through the wire
//! codec, and records the transcript as `S:<command>` / `P:<command>` (END_SESSION with its
//! reason code).

use super::client::{CapfClient, CapfFlash, ClientOutcome, ClientSettings};
use super::device::Outcome;
use super::device::{CapfAuth, CertOperation, DeviceRecord};
use super::server::CapfSession;
use super::settings::CapfSettings;
use super::wire::CapfMessage;
use super::{Command, Reason};
use crate::pki::identity::{IdentityRequest, NodeNames};
use crate::pki::mic::ManufacturingCa;
use crate::pki::{CertType, Identity, KeyForge, KeyProfile};
use crate::sgn::CapfAuthMode;
use crate::wall::WallTime;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

pub const DEV: &str = "SEPB000B4BA0AEE";
pub const AUTH: &str = "123456";

pub fn t0() -> WallTime {
    WallTime::from_ymd(2025, 6, 1).unwrap()
}

pub struct World {
    pub forge: KeyForge,
    pub capf: Identity,
    pub mfg: ManufacturingCa,
    pub devices: BTreeMap<String, DeviceRecord>,
}

impl World {
    pub fn new() -> World {
        World::new_with_seed(77)
    }

    /// A world of another seed: another CAPF (another cluster).
    pub fn new_with_seed(seed: u64) -> World {
        let forge = KeyForge::new(seed);
        let names = NodeNames::lab("capf-tests", "cucm-pub");
        let capf = IdentityRequest::new(&names, CertType::Capf, t0().plus_s(-WallTime::YEAR_S))
            .issue_self_signed(&forge)
            .unwrap();
        let mfg = ManufacturingCa::new(&forge, t0().plus_s(-2 * WallTime::YEAR_S)).unwrap();
        World {
            forge,
            capf,
            mfg,
            devices: BTreeMap::new(),
        }
    }

    /// CAPF-trust as a fresh cluster has it: the CAPF and the MIC roots.
    pub fn settings(&self) -> CapfSettings {
        let trust = vec![
            self.capf.cert.clone(),
            self.mfg.root.cert.clone(),
            self.mfg.issuing.cert.clone(),
        ];
        CapfSettings::new(self.capf.clone(), trust, self.forge.clone())
    }

    /// Schedules `op` for DEV (RSA-1024 to keep tests quick), due a day after t0.
    pub fn schedule(&mut self, op: CertOperation, auth: CapfAuth) -> &mut DeviceRecord {
        let rec = self
            .devices
            .entry(DEV.into())
            .or_insert_with(|| DeviceRecord::new(DEV, "8861"));
        rec.rsa_bits = 1024;
        rec.auth = auth;
        rec.schedule(op, Some(t0().plus_s(WallTime::DAY_S)));
        rec
    }

    pub fn record(&mut self) -> &mut DeviceRecord {
        self.devices.get_mut(DEV).unwrap()
    }

    /// The phone: MIC of `mic` (none when `None`), config file auth mode `mode`, auth string
    /// AUTH typed in, the CAPF certificate known from its ITL.
    pub fn phone(&self, mode: CapfAuthMode, mic: Option<KeyProfile>) -> CapfClient {
        let mic = mic.map(|p| {
            let at = t0().plus_s(-WallTime::YEAR_S);
            self.mfg
                .issue_mic(&self.forge, "8861", "b000b4ba0aee", p, at)
                .unwrap()
        });
        let settings = ClientSettings {
            device_name: DEV.into(),
            version: 3,
            auth_string: Some(AUTH.into()),
            mic,
            key_label: "phone/B000B4BA0AEE/lsc".into(),
            forge: self.forge.clone(),
            request_in_progress: true,
        };
        let mut phone = CapfClient::new(settings, None, CapfFlash::default());
        phone.config_mode = Some(mode);
        phone.capf_cert = Some(self.capf.cert.clone());
        phone
    }

    /// Runs one session (id 1000) at `now`; `tamper` may change what the phone sends.
    pub fn run_with(
        &self,
        settings: CapfSettings,
        phone: &mut CapfClient,
        now: WallTime,
        tamper: fn(&mut CapfMessage),
    ) -> Run {
        let (mut server, first) = CapfSession::start(1000, Arc::new(settings));
        let mut run = Run::default();
        let mut to_phone = VecDeque::from([first]);
        let mut to_server = VecDeque::new();
        while !(to_phone.is_empty() && to_server.is_empty()) {
            while let Some(m) = to_phone.pop_front() {
                let m = run.log('S', &m);
                let step = phone.handle(&m, now);
                to_server.extend(step.send);
                to_server.extend(step.key_gen.map(|k| k.reply));
                run.client = run.client.take().or(step.outcome);
                run.notes.extend(step.note);
            }
            while let Some(mut m) = to_server.pop_front() {
                tamper(&mut m);
                let m = run.log('P', &m);
                let step = server.handle(&m, now, &self.devices);
                to_phone.extend(step.send);
                run.outcome = run.outcome.take().or(step.outcome);
            }
        }
        assert!(server.is_done(), "{:?}", run.transcript);
        run
    }

    pub fn run(&self, settings: CapfSettings, phone: &mut CapfClient, now: WallTime) -> Run {
        self.run_with(settings, phone, now, |_| {})
    }
}

#[derive(Debug, Default)]
pub struct Run {
    pub transcript: Vec<String>,
    pub messages: Vec<CapfMessage>,
    pub outcome: Option<Outcome>,
    pub client: Option<ClientOutcome>,
    pub notes: Vec<String>,
}

impl Run {
    /// Passes `m` through encode and decode, and records it.
    fn log(&mut self, side: char, m: &CapfMessage) -> CapfMessage {
        let m = CapfMessage::decode(&m.encode().unwrap()).unwrap();
        let mut line = format!("{side}:{}", m.command);
        if m.command == Command::EndSession {
            line += &format!(" {}", m.reason().map_or(255, |r| r.code()));
        }
        self.transcript.push(line);
        self.messages.push(m.clone());
        m
    }

    pub fn sent(&self, command: Command) -> &CapfMessage {
        self.messages.iter().find(|m| m.command == command).unwrap()
    }

    /// The failure's reason and text (panics on another outcome).
    pub fn failure(&self) -> (Reason, &str) {
        match &self.outcome {
            Some(Outcome::Failed { reason, text }) => (*reason, text.as_str()),
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}

pub const INSTALL: [&str; 8] = [
    "S:AUTH_REQ",
    "P:AUTH_RES",
    "S:KEY_GEN_REQ",
    "P:REQUEST_IN_PROGRESS",
    "P:KEY_GEN_RES",
    "S:STORE_CERT_REQ",
    "P:STORE_CERT_RES",
    "S:END_SESSION 1",
];

/// A session refused right after AUTH_RES with END_SESSION `reason`.
pub fn refused(reason: u8) -> Vec<String> {
    vec![
        "S:AUTH_REQ".into(),
        "P:AUTH_RES".into(),
        format!("S:END_SESSION {reason}"),
    ]
}
