//! QUIC between farms and `serve`: each phone's own TLS session (TVS, CAPF — the very bytes the
//! TCP path carries, the phone's MIC or LSC inside) rides on its own bidirectional stream of a
//! few QUIC connections, so one farm drives tens of thousands of phones from one UDP socket.
//!
//! ```text
//!  farm ══ QUIC (TLS 1.3, ALPN "cucmsim-wire/1", farm certificate required) ══► serve --quic-port
//!    stream: "tvs\n"  + the phone's TLS 1.2 session to TVS   ─► tvs::handle  (tvs.session)
//!    stream: "capf\n" + the phone's TLS session to CAPF       ─► capf::handle (capf.session)
//!    stream: "tftp\n" + "<file>\n"  ◄─ [0, len u32 BE, bytes] found │ [1] not found  (tftp.get)
//!    unknown header / service not served here ─► stream reset with a code ([`Refusal`])
//! ```
//! The link is authenticated both ways by pinned public keys ([`LinkKeys`]): serve accepts only
//! a farm presenting the farm key, the farm accepts only the serve key. By default both are
//! derived from the scenario's seed (a farm and a serve of the same scenario and seed agree);
//! `--quic-keys DIR` reads them from files instead (`serve.pem`, `serve.key`, `farm.pem`,
//! `farm.key`; `serve --export-keys` writes the seed's under `quic/`). The keys are EC P-256;
//! certificate dates are not judged (the pin is the key).

pub mod dial;
pub mod keys;
pub mod serve;

pub use keys::LinkKeys;

use crate::pinned::Link;
use std::sync::Arc;
use std::time::Duration;

/// The ALPN both ends require.
pub const ALPN: &[u8] = b"cucmsim-wire/1";
/// The server name the farm asks for (not checked: the pin is the key).
pub const SERVER_NAME: &str = "cucmsim-serve";
/// A QUIC connection with no packet for this long is closed (keep-alives every 5 s).
pub const IDLE: Duration = Duration::from_secs(30);

/// What a stream asks for (its first line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Tvs,
    Capf,
    Tftp,
}

impl Service {
    /// The header line that opens a stream.
    pub fn header(self) -> &'static [u8] {
        match self {
            Service::Tvs => b"tvs\n",
            Service::Capf => b"capf\n",
            Service::Tftp => b"tftp\n",
        }
    }

    /// The service a header line (without its `\n`) names.
    pub fn parse(line: &[u8]) -> Option<Service> {
        match line {
            b"tvs" => Some(Service::Tvs),
            b"capf" => Some(Service::Capf),
            b"tftp" => Some(Service::Tftp),
            _ => None,
        }
    }
}

/// Why serve reset a stream (the QUIC reset code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The header names no service.
    BadHeader = 1,
    /// The service exists but this serve does not run it (e.g. no CAPF on this node).
    NotServed = 2,
}

impl Refusal {
    /// The reason for a reset code, as the farm's error table shows it.
    pub fn reason(code: u64) -> String {
        match code {
            1 => "QUIC: stream refused (bad header)".into(),
            2 => "QUIC: service not served there".into(),
            c => format!("QUIC: stream reset ({c})"),
        }
    }
}

fn transport(max_streams: u32) -> Arc<quinn::TransportConfig> {
    let mut t = quinn::TransportConfig::default();
    t.max_concurrent_bidi_streams(quinn::VarInt::from_u32(max_streams.max(1)));
    t.max_concurrent_uni_streams(quinn::VarInt::from_u32(0));
    t.keep_alive_interval(Some(Duration::from_secs(5)));
    if let Ok(idle) = quinn::IdleTimeout::try_from(IDLE) {
        t.max_idle_timeout(Some(idle));
    }
    Arc::new(t)
}

/// serve's QUIC configuration: its key, farms' keys required, `max_streams` phones at once
/// per connection.
pub fn server_config(keys: &LinkKeys, max_streams: u32) -> Result<quinn::ServerConfig, String> {
    let key = keys
        .serve_key
        .as_ref()
        .ok_or("--quic-keys: serve.key is needed to serve QUIC")?;
    let link = Link {
        cert: &keys.serve,
        key,
        peers: keys.farm.public_key().into_iter().cloned().collect(),
        peer_name: "farm",
        alpn: ALPN,
    };
    crate::pinned::server_config(&link, transport(max_streams))
}

/// The farm's QUIC configuration: its key presented, serve's key pinned.
pub fn client_config(keys: &LinkKeys) -> Result<quinn::ClientConfig, String> {
    let key = keys
        .farm_key
        .as_ref()
        .ok_or("--quic-keys: farm.key is needed to connect")?;
    let link = Link {
        cert: &keys.farm,
        key,
        peers: keys.serve.public_key().into_iter().cloned().collect(),
        peer_name: "serve",
        alpn: ALPN,
    };
    crate::pinned::client_config(&link, transport(1))
}
