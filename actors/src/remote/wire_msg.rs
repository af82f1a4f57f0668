//! The wire mirror of the messages that cross nodes: [`WInput`] and [`WMsg`], the
//! phone-facing [`Msg`] variants only (phone ↔ service, harness → phone), borrowing their
//! strings and payloads from the message when encoding and from the frame when decoding.
//!
//! Services always stay on the coordinator, so a message between two services, or one that
//! carries a private key or a service's state (`TvsStores`, `TftpRebuild`, `TftpTomcat`,
//! `CapfConfig`, …), never travels: [`input_to_wire`] refuses it with
//! [`CodecError::CannotTravel`]. The mirror is grouped (boot, TVS, CAPF, HTTPS) so that every
//! conversion back is one exhaustive match. Shared payloads (`Arc<[u8]>` fields: files,
//! certificates) are indices into the frame's payload table ([`BlobsOut`], [`BlobsIn`]);
//! TLS flights and requests (`Vec<u8>`, one session's own) travel inline.

use super::{malformed, CodecError};
use cucmsim_core::machine::{Input, Msg};
use serde::{Deserialize, Serialize};
use serde_bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;

/// [`Input`] on the wire.
#[derive(Serialize, Deserialize)]
pub(super) enum WInput<'a> {
    Start,
    Msg(#[serde(borrow)] WMsg<'a>),
    Timer(u64),
}

/// A travelling [`Msg`], by group.
#[derive(Serialize, Deserialize)]
pub(super) enum WMsg<'a> {
    Boot(#[serde(borrow)] WBoot<'a>),
    Tvs(#[serde(borrow)] WTvs<'a>),
    Capf(#[serde(borrow)] WCapf<'a>),
    Https(#[serde(borrow)] WHttps<'a>),
}

/// DHCP, TFTP, registration and the harness's deliveries, field for field.
#[derive(Serialize, Deserialize)]
pub(super) enum WBoot<'a> {
    DhcpRequest {
        phone: u32,
    },
    DhcpAck {
        #[serde(borrow)]
        option150: Vec<&'a str>,
    },
    TftpGet {
        phone: u32,
        file: &'a str,
    },
    TftpReply {
        file: &'a str,
        bytes: Option<u32>,
    },
    Register {
        phone: u32,
        device: &'a str,
        secure_cert: Option<u32>,
    },
    RegisterAck {
        cluster: &'a str,
        server_cert: Option<u32>,
    },
    RegisterAbort {
        phone: u32,
    },
    RegisterReject {
        reason: &'a str,
    },
    Keepalive {
        phone: u32,
        seq: u32,
    },
    KeepaliveAck {
        seq: u32,
    },
    Reset,
    PowerOff,
    EraseTrustLists,
}

/// Phone ↔ TVS.
#[derive(Serialize, Deserialize)]
pub(super) enum WTvs<'a> {
    Tls {
        phone: u32,
        session: u64,
        #[serde(borrow)]
        bytes: &'a Bytes,
    },
    Plain {
        phone: u32,
        session: u64,
        client_cert: Option<u32>,
        #[serde(borrow)]
        request: &'a Bytes,
    },
    PlainReply {
        session: u64,
        server_cert: u32,
        #[serde(borrow)]
        reply: &'a Bytes,
    },
    Abort {
        session: u64,
        reason: &'a str,
    },
}

/// Phone ↔ CAPF.
#[derive(Serialize, Deserialize)]
pub(super) enum WCapf<'a> {
    Tls {
        phone: u32,
        session: u64,
        ipv6: bool,
        #[serde(borrow)]
        bytes: &'a Bytes,
    },
    Plain {
        phone: u32,
        session: u64,
        ipv6: bool,
        server_cert: Option<u32>,
        #[serde(borrow)]
        bytes: &'a Bytes,
    },
    Abort {
        session: u64,
        reason: &'a str,
    },
    Close {
        phone: u32,
        session: u64,
    },
    Keepalive {
        session: u64,
    },
}

/// HTTPS: the user's HTTPS services and the secure config download.
#[derive(Serialize, Deserialize)]
pub(super) enum WHttps<'a> {
    Open {
        server: &'a str,
        cert: u32,
    },
    TftpOpen {
        tftp: &'a str,
        plain_fallback: bool,
    },
    Tftp {
        phone: u32,
        session: u64,
        #[serde(borrow)]
        bytes: &'a Bytes,
    },
    TftpReply {
        session: u64,
        #[serde(borrow)]
        bytes: &'a Bytes,
        server_cert: Option<u32>,
    },
}

fn b(x: &[u8]) -> &Bytes {
    Bytes::new(x)
}

/// The shared payloads of a frame being written (files, certificates: every `Arc<[u8]>` of
/// its messages), each distinct byte string once; messages name them by index. A boot
/// window's thousand `TftpReply`s of one ITL carry its bytes once, and the receiver's
/// letters share one `Arc` again.
#[derive(Default)]
pub(super) struct BlobsOut<'a> {
    index: HashMap<&'a [u8], u32>,
    pub(super) list: Vec<&'a Bytes>,
}

impl<'a> BlobsOut<'a> {
    fn put(&mut self, x: &'a [u8]) -> u32 {
        let next = self.list.len() as u32;
        let ix = *self.index.entry(x).or_insert(next);
        if ix == next {
            self.list.push(Bytes::new(x));
        }
        ix
    }

    fn opt(&mut self, x: &'a Option<Arc<[u8]>>) -> Option<u32> {
        x.as_deref().map(|x| self.put(x))
    }
}

/// The shared payloads of a frame being read.
pub(super) struct BlobsIn(Vec<Arc<[u8]>>);

impl BlobsIn {
    pub(super) fn new(list: Vec<&Bytes>) -> BlobsIn {
        BlobsIn(list.into_iter().map(|x| Arc::from(&x[..])).collect())
    }

    fn get(&self, ix: u32) -> Result<Arc<[u8]>, CodecError> {
        self.0
            .get(ix as usize)
            .cloned()
            .ok_or_else(|| malformed(format!("payload {ix} of a frame that has {}", self.0.len())))
    }

    fn opt(&self, ix: Option<u32>) -> Result<Option<Arc<[u8]>>, CodecError> {
        ix.map(|ix| self.get(ix)).transpose()
    }
}

/// The wire form of `input`, borrowing from it; `CannotTravel` for a message that never
/// leaves its node.
pub(super) fn input_to_wire<'a>(
    input: &'a Input,
    blobs: &mut BlobsOut<'a>,
) -> Result<WInput<'a>, CodecError> {
    Ok(match input {
        Input::Start => WInput::Start,
        Input::Timer(t) => WInput::Timer(*t),
        Input::Msg(m) => WInput::Msg(to_wire(m, blobs)?),
    })
}

/// The input a wire form stands for.
pub(super) fn input_from_wire(w: WInput<'_>, blobs: &BlobsIn) -> Result<Input, CodecError> {
    Ok(match w {
        WInput::Start => Input::Start,
        WInput::Timer(t) => Input::Timer(t),
        WInput::Msg(WMsg::Boot(m)) => Input::Msg(boot_from_wire(m, blobs)?),
        WInput::Msg(WMsg::Tvs(m)) => Input::Msg(tvs_from_wire(m, blobs)?),
        WInput::Msg(WMsg::Capf(m)) => Input::Msg(capf_from_wire(m, blobs)?),
        WInput::Msg(WMsg::Https(m)) => Input::Msg(https_from_wire(m, blobs)?),
    })
}

/// The wire form of a travelling message.
pub(super) fn to_wire<'a>(m: &'a Msg, blobs: &mut BlobsOut<'a>) -> Result<WMsg<'a>, CodecError> {
    boot_to_wire(m, blobs)
        .map(WMsg::Boot)
        .or_else(|| tvs_to_wire(m, blobs).map(WMsg::Tvs))
        .or_else(|| capf_to_wire(m, blobs).map(WMsg::Capf))
        .or_else(|| https_to_wire(m, blobs).map(WMsg::Https))
        .ok_or(CodecError::CannotTravel(m.kind()))
}

fn boot_to_wire<'a>(m: &'a Msg, blobs: &mut BlobsOut<'a>) -> Option<WBoot<'a>> {
    Some(match m {
        Msg::DhcpRequest { phone } => WBoot::DhcpRequest { phone: *phone },
        Msg::DhcpAck { option150 } => WBoot::DhcpAck {
            option150: option150.iter().map(String::as_str).collect(),
        },
        Msg::TftpGet { phone, file } => WBoot::TftpGet {
            phone: *phone,
            file,
        },
        Msg::TftpReply { file, bytes } => WBoot::TftpReply {
            file,
            bytes: blobs.opt(bytes),
        },
        Msg::Register {
            phone,
            device,
            secure_cert,
        } => WBoot::Register {
            phone: *phone,
            device,
            secure_cert: blobs.opt(secure_cert),
        },
        Msg::RegisterAck {
            cluster,
            server_cert,
        } => WBoot::RegisterAck {
            cluster,
            server_cert: blobs.opt(server_cert),
        },
        Msg::RegisterAbort { phone } => WBoot::RegisterAbort { phone: *phone },
        Msg::RegisterReject { reason } => WBoot::RegisterReject { reason },
        Msg::Keepalive { phone, seq } => WBoot::Keepalive {
            phone: *phone,
            seq: *seq,
        },
        Msg::KeepaliveAck { seq } => WBoot::KeepaliveAck { seq: *seq },
        Msg::Reset => WBoot::Reset,
        Msg::PowerOff => WBoot::PowerOff,
        Msg::EraseTrustLists => WBoot::EraseTrustLists,
        _ => return None,
    })
}

fn boot_from_wire(w: WBoot<'_>, blobs: &BlobsIn) -> Result<Msg, CodecError> {
    Ok(match w {
        WBoot::DhcpRequest { phone } => Msg::DhcpRequest { phone },
        WBoot::DhcpAck { option150 } => Msg::DhcpAck {
            option150: option150.into_iter().map(str::to_owned).collect(),
        },
        WBoot::TftpGet { phone, file } => Msg::TftpGet {
            phone,
            file: file.to_owned(),
        },
        WBoot::TftpReply { file, bytes } => Msg::TftpReply {
            file: file.to_owned(),
            bytes: blobs.opt(bytes)?,
        },
        WBoot::Register {
            phone,
            device,
            secure_cert,
        } => Msg::Register {
            phone,
            device: device.to_owned(),
            secure_cert: blobs.opt(secure_cert)?,
        },
        WBoot::RegisterAck {
            cluster,
            server_cert,
        } => Msg::RegisterAck {
            cluster: cluster.to_owned(),
            server_cert: blobs.opt(server_cert)?,
        },
        WBoot::RegisterAbort { phone } => Msg::RegisterAbort { phone },
        WBoot::RegisterReject { reason } => Msg::RegisterReject {
            reason: reason.to_owned(),
        },
        WBoot::Keepalive { phone, seq } => Msg::Keepalive { phone, seq },
        WBoot::KeepaliveAck { seq } => Msg::KeepaliveAck { seq },
        WBoot::Reset => Msg::Reset,
        WBoot::PowerOff => Msg::PowerOff,
        WBoot::EraseTrustLists => Msg::EraseTrustLists,
    })
}

fn tvs_to_wire<'a>(m: &'a Msg, blobs: &mut BlobsOut<'a>) -> Option<WTvs<'a>> {
    Some(match *m {
        Msg::TvsTls {
            phone,
            session,
            ref bytes,
        } => WTvs::Tls {
            phone,
            session,
            bytes: b(bytes),
        },
        Msg::TvsPlain {
            phone,
            session,
            ref client_cert,
            ref request,
        } => WTvs::Plain {
            phone,
            session,
            client_cert: blobs.opt(client_cert),
            request: b(request),
        },
        Msg::TvsPlainReply {
            session,
            ref server_cert,
            ref reply,
        } => WTvs::PlainReply {
            session,
            server_cert: blobs.put(server_cert),
            reply: b(reply),
        },
        Msg::TvsAbort {
            session,
            ref reason,
        } => WTvs::Abort { session, reason },
        _ => return None,
    })
}

fn tvs_from_wire(w: WTvs<'_>, blobs: &BlobsIn) -> Result<Msg, CodecError> {
    Ok(match w {
        WTvs::Tls {
            phone,
            session,
            bytes,
        } => Msg::TvsTls {
            phone,
            session,
            bytes: bytes.to_vec(),
        },
        WTvs::Plain {
            phone,
            session,
            client_cert,
            request,
        } => Msg::TvsPlain {
            phone,
            session,
            client_cert: blobs.opt(client_cert)?,
            request: request.to_vec(),
        },
        WTvs::PlainReply {
            session,
            server_cert,
            reply,
        } => Msg::TvsPlainReply {
            session,
            server_cert: blobs.get(server_cert)?,
            reply: reply.to_vec(),
        },
        WTvs::Abort { session, reason } => Msg::TvsAbort {
            session,
            reason: reason.to_owned(),
        },
    })
}

fn capf_to_wire<'a>(m: &'a Msg, blobs: &mut BlobsOut<'a>) -> Option<WCapf<'a>> {
    Some(match *m {
        Msg::CapfTls {
            phone,
            session,
            ipv6,
            ref bytes,
        } => WCapf::Tls {
            phone,
            session,
            ipv6,
            bytes: b(bytes),
        },
        Msg::CapfPlain {
            phone,
            session,
            ipv6,
            ref server_cert,
            ref bytes,
        } => WCapf::Plain {
            phone,
            session,
            ipv6,
            server_cert: blobs.opt(server_cert),
            bytes: b(bytes),
        },
        Msg::CapfAbort {
            session,
            ref reason,
        } => WCapf::Abort { session, reason },
        Msg::CapfClose { phone, session } => WCapf::Close { phone, session },
        Msg::CapfKeepalive { session } => WCapf::Keepalive { session },
        _ => return None,
    })
}

fn capf_from_wire(w: WCapf<'_>, blobs: &BlobsIn) -> Result<Msg, CodecError> {
    Ok(match w {
        WCapf::Tls {
            phone,
            session,
            ipv6,
            bytes,
        } => Msg::CapfTls {
            phone,
            session,
            ipv6,
            bytes: bytes.to_vec(),
        },
        WCapf::Plain {
            phone,
            session,
            ipv6,
            server_cert,
            bytes,
        } => Msg::CapfPlain {
            phone,
            session,
            ipv6,
            server_cert: blobs.opt(server_cert)?,
            bytes: bytes.to_vec(),
        },
        WCapf::Abort { session, reason } => Msg::CapfAbort {
            session,
            reason: reason.to_owned(),
        },
        WCapf::Close { phone, session } => Msg::CapfClose { phone, session },
        WCapf::Keepalive { session } => Msg::CapfKeepalive { session },
    })
}

fn https_to_wire<'a>(m: &'a Msg, blobs: &mut BlobsOut<'a>) -> Option<WHttps<'a>> {
    Some(match *m {
        Msg::HttpsOpen {
            ref server,
            ref cert,
        } => WHttps::Open {
            server,
            cert: blobs.put(cert),
        },
        Msg::TftpHttpsOpen {
            ref tftp,
            plain_fallback,
        } => WHttps::TftpOpen {
            tftp,
            plain_fallback,
        },
        Msg::TftpHttps {
            phone,
            session,
            ref bytes,
        } => WHttps::Tftp {
            phone,
            session,
            bytes: b(bytes),
        },
        Msg::TftpHttpsReply {
            session,
            ref bytes,
            ref server_cert,
        } => WHttps::TftpReply {
            session,
            bytes: b(bytes),
            server_cert: blobs.opt(server_cert),
        },
        _ => return None,
    })
}

fn https_from_wire(w: WHttps<'_>, blobs: &BlobsIn) -> Result<Msg, CodecError> {
    Ok(match w {
        WHttps::Open { server, cert } => Msg::HttpsOpen {
            server: server.to_owned(),
            cert: blobs.get(cert)?,
        },
        WHttps::TftpOpen {
            tftp,
            plain_fallback,
        } => Msg::TftpHttpsOpen {
            tftp: tftp.to_owned(),
            plain_fallback,
        },
        WHttps::Tftp {
            phone,
            session,
            bytes,
        } => Msg::TftpHttps {
            phone,
            session,
            bytes: bytes.to_vec(),
        },
        WHttps::TftpReply {
            session,
            bytes,
            server_cert,
        } => Msg::TftpHttpsReply {
            session,
            bytes: bytes.to_vec(),
            server_cert: blobs.opt(server_cert)?,
        },
    })
}
