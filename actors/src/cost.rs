//! The real CPU cost of every input a machine handles, measured by the shell with the host's
//! monotonic clock, kept in one HdrHistogram per (participant kind, input kind).
//!
//! This is the *other* clock: virtual time drives the simulated world and never depends on how
//! fast this machine is; these figures say what the simulation itself costs here (a phone
//! handling an `ITLSEP<MAC>.tlv` reply = parse + signature verification; a TVS handling a TLS
//! flight = its share of a real handshake). They are never mixed into virtual-time histograms,
//! and never reach the trace hash: two runs of one seed give the same trace and different costs.

use cucmsim_core::machine::{Addr, Msg};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::shell::Input;

/// Histograms of handling cost in nanoseconds (2 significant digits, up to 10 min), keyed
/// `kind/input` (`phone/TftpReply`).
#[derive(Default)]
pub struct CostMeter {
    hists: BTreeMap<(&'static str, &'static str), Histogram<u64>>,
}

impl CostMeter {
    /// Records one handled input.
    pub fn record(&mut self, kind: &'static str, input: &'static str, took: Duration) {
        let ns = (took.as_nanos() as u64).max(1);
        let h = self.hists.entry((kind, input)).or_insert_with(|| {
            Histogram::new_with_bounds(1, 600_000_000_000, 2).expect("valid histogram bounds")
        });
        h.saturating_record(ns);
    }

    /// Every histogram, keyed `kind/input`.
    pub fn into_histograms(self) -> BTreeMap<String, Histogram<u64>> {
        self.hists
            .into_iter()
            .map(|((k, i), h)| (format!("{k}/{i}"), h))
            .collect()
    }
}

/// The participant kind of an address, for cost labels.
pub fn addr_kind(addr: &Addr) -> &'static str {
    match addr {
        Addr::Phone(_) => "phone",
        Addr::Tftp(_) => "tftp",
        Addr::Tvs(_) => "tvs",
        Addr::CallManager(_) => "callmanager",
        Addr::Publisher(_) => "publisher",
        Addr::Dhcp => "dhcp",
        Addr::Sftp => "sftp",
        Addr::Capf(_) => "capf",
        Addr::Ca(_) => "ca",
    }
}

/// The kind of an input, for cost labels (the message variant's name).
pub fn input_kind(input: &Input) -> &'static str {
    match input {
        Input::Start => "Start",
        Input::Timer(_) => "Timer",
        Input::Msg(m) => msg_kind(m),
    }
}

/// The variant name of a message.
pub fn msg_kind(m: &Msg) -> &'static str {
    #[allow(unreachable_patterns)] // new variants fall into "other" until named here
    match m {
        Msg::DhcpRequest { .. } => "DhcpRequest",
        Msg::DhcpAck { .. } => "DhcpAck",
        Msg::TftpGet { .. } => "TftpGet",
        Msg::TftpReply { .. } => "TftpReply",
        Msg::TvsTls { .. } => "TvsTls",
        Msg::TvsPlain { .. } => "TvsPlain",
        Msg::TvsPlainReply { .. } => "TvsPlainReply",
        Msg::TvsAbort { .. } => "TvsAbort",
        Msg::Register { .. } => "Register",
        Msg::RegisterAck { .. } => "RegisterAck",
        Msg::Keepalive { .. } => "Keepalive",
        Msg::KeepaliveAck { .. } => "KeepaliveAck",
        Msg::Reset => "Reset",
        Msg::TftpRebuild(_) => "TftpRebuild",
        Msg::TvsStores(_) => "TvsStores",
        Msg::Service(_) => "Service",
        Msg::SftpPut { .. } => "SftpPut",
        Msg::SftpList { .. } => "SftpList",
        Msg::SftpFiles { .. } => "SftpFiles",
        Msg::Operator(_) => "Operator",
        Msg::DhcpSet { .. } => "DhcpSet",
        Msg::ResetRegistered => "ResetRegistered",
        Msg::RegisterReject { .. } => "RegisterReject",
        Msg::RegisterAbort { .. } => "RegisterAbort",
        Msg::CallManagerCert(_) => "CallManagerCert",
        Msg::PowerOff => "PowerOff",
        Msg::CapfTls { .. } => "CapfTls",
        Msg::CapfPlain { .. } => "CapfPlain",
        Msg::CapfAbort { .. } => "CapfAbort",
        Msg::CapfClose { .. } => "CapfClose",
        Msg::CaEnroll { .. } => "CaEnroll",
        Msg::CaAnswer { .. } => "CaAnswer",
        Msg::CaSign { .. } => "CaSign",
        Msg::CapfUpload { .. } => "CapfUpload",
        Msg::CapfExportCsrs { .. } => "CapfExportCsrs",
        Msg::CapfCli { .. } => "CapfCli",
        Msg::CapfRecord(_) => "CapfRecord",
        Msg::CapfKeepalive { .. } => "CapfKeepalive",
        Msg::CapfConfig(_) => "CapfConfig",
        Msg::CapfDevices(_) => "CapfDevices",
        Msg::CallManagerTrust(_) => "CallManagerTrust",
        Msg::TftpTomcat(_) => "TftpTomcat",
        Msg::TftpHttpsOpen { .. } => "TftpHttpsOpen",
        Msg::TftpHttps { .. } => "TftpHttps",
        Msg::TftpHttpsReply { .. } => "TftpHttpsReply",
        _ => "other",
    }
}
