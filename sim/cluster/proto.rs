//! The distributed run's protocol between the coordinator and a worker: four calls on the
//! worker's actor, found through ractor's process group [`WORKERS`].
//!
//! ```text
//!  coordinator                                  worker
//!  Hello{protocol, version} ───────────────────► refuses another version, or a run while busy
//!                           ◄─────────────────── {version, threads, scenario it is bound to}
//!  Load{scenario text, overrides, fingerprint,  ► compiles the scenario, refuses another
//!       shards to host}                           scenario (fingerprint), builds its phones
//!                           ◄─────────────────── {phones, build seconds}
//!  Window(frame) ×N ───────────────────────────► runs its LPs ─► WindowResp frame
//!  Finish ─────────────────────────────────────► trace, counters, CPU costs
//! ```
//! Hello and Load are JSON; windows and the harvest are the binary frames of
//! [`cucmsim_actors::remote`]. Every answer starts with one byte: 0 and the payload, or 1 and
//! the reason in UTF-8. Keys and certificates are derived from (seed, entity) on each node:
//! no private key travels.

use cucmsim_core::machine::Addr;
use ractor::RpcReplyPort;
use ractor_cluster::RactorClusterMessage;
use serde::{Deserialize, Serialize};

/// The process group the workers' actors join.
pub const WORKERS: &str = "cucmsim-workers";
/// The protocol's version: a node of another one is refused at Hello.
pub const PROTOCOL: u32 = 1;

/// The worker actor's messages.
#[derive(RactorClusterMessage)]
pub enum WorkerMsg {
    #[rpc]
    Hello(Vec<u8>, RpcReplyPort<Vec<u8>>),
    #[rpc]
    Load(Vec<u8>, RpcReplyPort<Vec<u8>>),
    #[rpc]
    Window(Vec<u8>, RpcReplyPort<Vec<u8>>),
    #[rpc]
    Finish(Vec<u8>, RpcReplyPort<Vec<u8>>),
}

#[derive(Serialize, Deserialize, Debug)]
pub struct Hello {
    pub protocol: u32,
    /// `cucmsim::version()` (package version and git commit).
    pub version: String,
    /// Who asks (for the worker's log and its "busy" answer).
    pub coordinator: String,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct HelloOk {
    pub version: String,
    /// Worker threads its logical processes run on.
    pub threads: usize,
}

/// What a worker builds and hosts.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Load {
    /// The scenario as the coordinator read it: its name in errors and its text.
    pub name: String,
    pub text: String,
    pub seed: Option<u64>,
    pub phones: Option<u32>,
    /// `full` or `identity`.
    pub tls: Option<String>,
    /// The compiled world's fingerprint: the worker must compile the same one.
    pub fingerprint: String,
    /// Phone shards in the whole run, and the LP index of shard 0.
    pub shards: usize,
    pub first_shard: usize,
    /// The shards this worker hosts.
    pub hosted: Vec<usize>,
    /// The run's services in LP order, as (kind, host): the routes of every letter.
    pub services: Vec<(String, String)>,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct LoadOk {
    pub phones: u64,
    pub build_s: f64,
}

/// An answer: 0 and the payload.
pub fn ok(payload: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 1);
    out.push(0);
    out.extend(payload);
    out
}

/// An answer: 1 and why not.
pub fn refuse(why: &str) -> Vec<u8> {
    let mut out = vec![1];
    out.extend(why.as_bytes());
    out
}

/// The payload of an answer, or the refusal as an error.
pub fn open(answer: Vec<u8>) -> Result<Vec<u8>, String> {
    match answer.split_first() {
        Some((0, _)) => {
            let mut a = answer;
            a.remove(0);
            Ok(a)
        }
        Some((1, why)) => Err(String::from_utf8_lossy(why).into_owned()),
        _ => Err("a malformed answer".into()),
    }
}

/// JSON of a control message.
pub fn json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("serialisable")
}

/// A control message from JSON.
pub fn from_json<T: for<'a> Deserialize<'a>>(b: &[u8]) -> Result<T, String> {
    serde_json::from_slice(b).map_err(|e| format!("a malformed control message: {e}"))
}

/// A service address as (kind, host).
pub fn addr_text(a: &Addr) -> (String, String) {
    (a.kind().to_string(), a.host())
}

/// A service address from (kind, host).
pub fn addr_from((kind, host): &(String, String)) -> Result<Addr, String> {
    let h = host.clone();
    Ok(match kind.as_str() {
        "tftp" => Addr::Tftp(h),
        "tvs" => Addr::Tvs(h),
        "callmanager" => Addr::CallManager(h),
        "publisher" => Addr::Publisher(h),
        "capf" => Addr::Capf(h),
        "ca" => Addr::Ca(h),
        "dhcp" => Addr::Dhcp,
        "sftp" => Addr::Sftp,
        other => return Err(format!("no service kind `{other}`")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_addresses_and_answers_round_trip() {
        for a in [
            Addr::Tftp("cm1".into()),
            Addr::Tvs("cm2".into()),
            Addr::CallManager("cm3".into()),
            Addr::Publisher("pub".into()),
            Addr::Capf("pub".into()),
            Addr::Ca("ca.example".into()),
            Addr::Dhcp,
            Addr::Sftp,
        ] {
            assert_eq!(addr_from(&addr_text(&a)).unwrap(), a);
        }
        assert!(addr_from(&("phone".into(), "1".into())).is_err());
        assert_eq!(open(ok(vec![7, 8])).unwrap(), vec![7, 8]);
        assert_eq!(open(refuse("busy")).unwrap_err(), "busy");
        assert!(open(vec![]).is_err());
    }
}
