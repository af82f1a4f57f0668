//! The real operations the benchmark times: one phone↔TVS session (here) and one CAPF
//! enrollment (`capf.rs`), each a full TLS 1.2 handshake over byte buffers ([`TlsEnd`]) with
//! real keys from the seed.
//!
//! ```text
//!  phone TlsEnd (untimed) ──flight──► server TlsEnd (timed) ──flight──► phone (untimed) …
//!  TVS:  QUERY_CERT_REQ ──► decode · TvsDirectory::answer · encode · send          (timed)
//!  CAPF: KEY_GEN_RES{public key} ──► decode · Certificate::issue (LSC, CAPF key) ·
//!        STORE_CERT_REQ{CERTIFICATE} encode · send                                  (timed)
//! ```
//! Only the server's calls are timed (the host's monotonic clock around each call); the
//! phone's side runs too, because the server needs real flights, and is timed apart. Each
//! answer is checked on the phone's side (TVS found the ITL signer; the LSC verifies under the
//! CAPF key and carries the phone's key), so a broken operation fails instead of looking fast.
//!
//! Simplifications, each cheap next to the crypto: the CAPF exchange keeps only the messages
//! that carry work (KEY_GEN_RES in, STORE_CERT_REQ out; AUTH_REQ/AUTH_RES of the null-string
//! mode and END_SESSION are a few bytes of TLV); the phone's key travels in the project's
//! record form (PKCS#1 / uncompressed point) rather than SubjectPublicKeyInfo; a small pool of
//! phones (MIC, LSC key) is reused round-robin, each LSC still getting its own serial.

use cucmsim_core::pki::identity::{CertType, IdentityRequest, NodeNames};
use cucmsim_core::pki::mic::ManufacturingCa;
use cucmsim_core::pki::{Certificate, Identity, KeyForge, KeyProfile, StoreName, TrustStore};
use cucmsim_core::tls::{client_config, server_config, SimClock, TlsEnd};
use cucmsim_core::tlv::Role;
use cucmsim_core::tvs::{RoleMap, TvsBody, TvsDirectory, TvsMessage};
use cucmsim_core::WallTime;
use std::time::Instant;

/// Phones in the pool a rig cycles through.
pub const PHONES: usize = 4;

/// What one operation cost, ns of the host's monotonic clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpCost {
    /// The server's calls: handshake part + request part.
    pub server_ns: u64,
    /// Of which: creating the server end and the handshake flights.
    pub handshake_ns: u64,
    /// Of which: the flight carrying the request, the service logic and the answer.
    pub request_ns: u64,
    /// The phone's side (not part of the server's cost).
    pub phone_ns: u64,
}

/// A real server operation, run once per request.
pub trait Operation: Send + Sync {
    /// `"tvs"` or `"capf"`.
    fn service(&self) -> &'static str;
    /// What one operation is, for the report.
    fn describe(&self) -> String;
    /// Runs operation number `n`.
    fn run(&self, n: u64) -> Result<OpCost, String>;
}

type Make = Box<dyn Fn() -> Result<TlsEnd, String> + Send + Sync>;

/// The server's logic: the plaintext received so far → the answer, once the request is whole.
pub(super) type Serve<'a> = dyn FnMut(&[u8]) -> Result<Option<Vec<u8>>, String> + 'a;

/// The phone ends and the server end of one service.
pub(super) struct Ends {
    phones: Vec<Make>,
    server: Make,
}

fn ns(t: Instant) -> u64 {
    t.elapsed().as_nanos() as u64
}

/// Runs one session: the phone sends `request` once established; `serve` is the server's
/// logic on the plaintext received so far. Returns the plaintext the phone received.
pub(super) fn session(
    ends: &Ends,
    phone: usize,
    request: &[u8],
    serve: &mut Serve,
    cost: &mut OpCost,
) -> Result<Vec<u8>, String> {
    let t = Instant::now();
    let mut client = (ends.phones[phone % ends.phones.len()])()?;
    cost.phone_ns += ns(t);
    let t = Instant::now();
    let mut server = (ends.server)()?;
    cost.handshake_ns += ns(t);
    let (mut received, mut reply) = (vec![], vec![]);
    let (mut sent, mut answered) = (false, false);
    for _ in 0..16 {
        let t = Instant::now();
        if !sent && client.is_established() {
            client.send(request)?;
            sent = true;
        }
        let to_server = client.take_outgoing();
        cost.phone_ns += ns(t);
        let handshaking = !server.is_established();
        let t = Instant::now();
        if !to_server.is_empty() {
            server
                .feed(&to_server)
                .map_err(|e| format!("server: {e}"))?;
        }
        received.extend(server.take_plain());
        if !answered {
            if let Some(answer) = serve(&received)? {
                server.send(&answer)?;
                answered = true;
            }
        }
        let to_phone = server.take_outgoing();
        let dt = ns(t);
        if handshaking {
            cost.handshake_ns += dt;
        } else {
            cost.request_ns += dt;
        }
        let t = Instant::now();
        if !to_phone.is_empty() {
            client.feed(&to_phone).map_err(|e| format!("phone: {e}"))?;
        }
        reply.extend(client.take_plain());
        cost.phone_ns += ns(t);
        if to_server.is_empty() && to_phone.is_empty() {
            break;
        }
    }
    cost.server_ns = cost.handshake_ns + cost.request_ns;
    if reply.is_empty() {
        return Err("the session ended without an answer".into());
    }
    Ok(reply)
}

/// The simulated wall clock of every bench session: 30 days after the certificates were made.
pub(super) fn issued_at() -> WallTime {
    WallTime::from_ymd(2025, 1, 1).expect("valid date")
}

pub(super) struct Phones {
    pub mfg: ManufacturingCa,
    pub mics: Vec<Identity>,
}

pub(super) fn phones(forge: &KeyForge, profile: KeyProfile) -> Result<Phones, String> {
    let mfg = ManufacturingCa::new(forge, issued_at()).map_err(|e| e.to_string())?;
    let mics = (0..PHONES)
        .map(|i| {
            let mac = format!("B000B4BA{:04X}", i);
            mfg.issue_mic(forge, "8861", &mac, profile, issued_at())
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    Ok(Phones { mfg, mics })
}

/// Phone ends that pin `server_cert` (the ITL's TVS or CAPF record) and present their MIC,
/// and the server end presenting `server` and checking MICs against the manufacturing root.
pub(super) fn ends(server: &Identity, p: &Phones) -> Result<Ends, String> {
    let clock = SimClock::default();
    clock.set(issued_at().plus_s(30 * 86_400));
    let sc = server_config(
        (&server.cert, &server.key),
        vec![p.mfg.root.cert.clone()],
        &clock,
    )?;
    let chain = std::slice::from_ref(&p.mfg.issuing.cert);
    let mut phones: Vec<Make> = vec![];
    for mic in &p.mics {
        let cc = client_config(
            vec![server.cert.clone()],
            (&mic.cert, &mic.key),
            chain,
            &clock,
        )?;
        phones.push(Box::new(move || TlsEnd::client(cc.clone(), "pub")));
    }
    Ok(Ends {
        phones,
        server: Box::new(move || TlsEnd::server(sc.clone())),
    })
}

pub(super) fn device_name(mic: &Identity) -> String {
    let cn = mic.cert.subject().common_name().to_string();
    cn.rsplit('-').next().unwrap_or(&cn).to_string()
}

/// The TVS side of one phone session: TLS 1.2 with the node's TVS certificate, one QUERY_CERT
/// for the ITL signer (ITLRecovery), answered from a [`TvsDirectory`] snapshot.
pub struct TvsOp {
    ends: Ends,
    directory: TvsDirectory,
    queries: Vec<Vec<u8>>,
    expected: Certificate,
    server_key: KeyProfile,
}

impl TvsOp {
    pub fn new(seed: u64, server_key: KeyProfile, phone_key: KeyProfile) -> Result<TvsOp, String> {
        let forge = KeyForge::new(seed);
        let names = NodeNames::lab("bench", "pub");
        let mut req = IdentityRequest::new(&names, CertType::Tvs, issued_at());
        req.profile = server_key;
        let tvs = req.issue_self_signed(&forge).map_err(|e| e.to_string())?;
        let itl_recovery = IdentityRequest::new(&names, CertType::ItlRecovery, issued_at())
            .issue_self_signed(&forge)
            .map_err(|e| e.to_string())?;
        let p = phones(&forge, phone_key)?;
        let mut sast = TrustStore::new(StoreName::PhoneSastTrust);
        sast.add(itl_recovery.cert.clone());
        let mut capf_trust = TrustStore::new(StoreName::CapfTrust);
        capf_trust.add(p.mfg.root.cert.clone());
        capf_trust.add(p.mfg.issuing.cert.clone());
        let directory = TvsDirectory::snapshot(
            [&sast, &capf_trust],
            [(&tvs.cert, Role::Tvs)],
            &RoleMap::default(),
        );
        let c = &itl_recovery.cert;
        let queries = p
            .mics
            .iter()
            .enumerate()
            .map(|(i, mic)| {
                TvsMessage {
                    session: 1001 + i as u32,
                    body: TvsBody::QueryReq {
                        device_name: device_name(mic),
                        subject: c.subject().to_cucm(),
                        issuer: c.issuer().to_cucm(),
                        serial: c.serial().to_vec(),
                    },
                }
                .encode()
            })
            .collect();
        Ok(TvsOp {
            ends: ends(&tvs, &p)?,
            directory,
            queries,
            expected: itl_recovery.cert,
            server_key,
        })
    }
}

impl Operation for TvsOp {
    fn service(&self) -> &'static str {
        "tvs"
    }

    fn describe(&self) -> String {
        format!(
            "TVS session, server side: TLS 1.2 full handshake ({} TVS certificate, phone MIC \
             chain-checked), one QUERY_CERT decoded, looked up in TvsDirectory, answered",
            self.server_key
        )
    }

    fn run(&self, n: u64) -> Result<OpCost, String> {
        let mut cost = OpCost::default();
        let phone = (n % PHONES as u64) as usize;
        let dir = &self.directory;
        let mut serve = |bytes: &[u8]| {
            Ok(TvsMessage::decode(bytes)
                .ok()
                .and_then(|req| dir.answer(&req))
                .map(|answer| answer.encode()))
        };
        let reply = session(
            &self.ends,
            phone,
            &self.queries[phone],
            &mut serve,
            &mut cost,
        )?;
        let answer = TvsMessage::decode(&reply).map_err(|e| e.to_string())?;
        match answer.body {
            TvsBody::QueryRes {
                valid: true,
                certificate: Some(der),
                ..
            } if der == self.expected.der() => Ok(cost),
            other => Err(format!("TVS did not vouch for the ITL signer: {other:?}")),
        }
    }
}
