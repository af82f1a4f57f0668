//! The finite sets of `&'static str` names a frame may carry — message and participant kinds
//! (the cost meter's keys) and phone statuses (`Event::State`) — so a decoded name maps back
//! to the program's own static string. An unknown name is refused, never leaked into a new
//! static: decoding untrusted bytes allocates nothing that outlives the frame.

use cucmsim_core::machine::phone::status;
use cucmsim_core::machine::{Addr, Msg};

/// Every [`Msg::kind`], in declaration order. [`listed`] fails to compile when a variant is
/// added, as a reminder to name it here too.
pub(crate) const MSG_KINDS: [&str; 48] = [
    "DhcpRequest",
    "DhcpAck",
    "TftpGet",
    "TftpReply",
    "TvsTls",
    "TvsPlain",
    "TvsPlainReply",
    "TvsAbort",
    "Register",
    "RegisterAck",
    "CallManagerCert",
    "RegisterAbort",
    "RegisterReject",
    "Keepalive",
    "KeepaliveAck",
    "Reset",
    "PowerOff",
    "TftpRebuild",
    "TvsStores",
    "Service",
    "SftpPut",
    "SftpList",
    "SftpRemove",
    "SftpFiles",
    "Operator",
    "DhcpSet",
    "CapfTls",
    "CapfPlain",
    "CapfAbort",
    "CapfClose",
    "CapfKeepalive",
    "CaEnroll",
    "CaAnswer",
    "CaSign",
    "CapfUpload",
    "CapfExportCsrs",
    "CapfCli",
    "CapfRecord",
    "CapfConfig",
    "CapfDevices",
    "CallManagerTrust",
    "ResetRegistered",
    "EraseTrustLists",
    "HttpsOpen",
    "TftpTomcat",
    "TftpHttpsOpen",
    "TftpHttps",
    "TftpHttpsReply",
];

/// The input kinds that are not messages ([`cucmsim_core::machine::Input::kind`]).
const OTHER_INPUTS: [&str; 2] = ["Start", "Timer"];

/// Every [`Addr::kind`].
pub(crate) const ADDR_KINDS: [&str; 9] = [
    "phone",
    "tftp",
    "tvs",
    "callmanager",
    "publisher",
    "dhcp",
    "sftp",
    "capf",
    "ca",
];

/// A compile-time reminder: a new `Msg` or `Addr` variant does not compile here until it is
/// matched, and then its kind belongs in [`MSG_KINDS`] / [`ADDR_KINDS`] (the tests check
/// that every listed name is what `kind()` says for the variants they build).
#[allow(dead_code)]
fn listed(m: &Msg, a: &Addr) {
    match m {
        Msg::DhcpRequest { .. } | Msg::DhcpAck { .. } | Msg::TftpGet { .. } => {}
        Msg::TftpReply { .. } | Msg::TvsTls { .. } | Msg::TvsPlain { .. } => {}
        Msg::TvsPlainReply { .. } | Msg::TvsAbort { .. } | Msg::Register { .. } => {}
        Msg::RegisterAck { .. } | Msg::CallManagerCert(_) | Msg::RegisterAbort { .. } => {}
        Msg::RegisterReject { .. } | Msg::Keepalive { .. } | Msg::KeepaliveAck { .. } => {}
        Msg::Reset | Msg::PowerOff | Msg::TftpRebuild(_) | Msg::TvsStores(_) => {}
        Msg::Service(_) | Msg::SftpPut { .. } | Msg::SftpList { .. } => {}
        Msg::SftpRemove { .. } | Msg::SftpFiles { .. } | Msg::Operator(_) => {}
        Msg::DhcpSet { .. } | Msg::CapfTls { .. } | Msg::CapfPlain { .. } => {}
        Msg::CapfAbort { .. } | Msg::CapfClose { .. } | Msg::CapfKeepalive { .. } => {}
        Msg::CaEnroll { .. } | Msg::CaAnswer { .. } | Msg::CaSign { .. } => {}
        Msg::CapfUpload { .. } | Msg::CapfExportCsrs { .. } | Msg::CapfCli { .. } => {}
        Msg::CapfRecord(_) | Msg::CapfConfig(_) | Msg::CapfDevices(_) => {}
        Msg::CallManagerTrust(_) | Msg::ResetRegistered | Msg::EraseTrustLists => {}
        Msg::HttpsOpen { .. } | Msg::TftpTomcat(_) | Msg::TftpHttpsOpen { .. } => {}
        Msg::TftpHttps { .. } | Msg::TftpHttpsReply { .. } => {}
    }
    match a {
        Addr::Phone(_) | Addr::Tftp(_) | Addr::Tvs(_) | Addr::CallManager(_) => {}
        Addr::Publisher(_) | Addr::Dhcp | Addr::Sftp | Addr::Capf(_) | Addr::Ca(_) => {}
    }
}

fn find(set: &[&'static str], name: &str) -> Option<&'static str> {
    set.iter().copied().find(|s| *s == name)
}

/// The static input kind (`Start`, `Timer`, a message kind) spelled `name`.
pub(crate) fn input_kind(name: &str) -> Option<&'static str> {
    find(&OTHER_INPUTS, name).or_else(|| find(&MSG_KINDS, name))
}

/// The static participant kind (`phone`, `tvs`, …) spelled `name`.
pub(crate) fn addr_kind(name: &str) -> Option<&'static str> {
    find(&ADDR_KINDS, name)
}

/// The static phone status (`Registered`, …) spelled `name`.
pub(crate) fn phone_status(name: &str) -> Option<&'static str> {
    find(&status::ALL, name)
}
