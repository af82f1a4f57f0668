//! The wire mirror of the trace: [`WObservation`] for every [`Event`] variant, with its
//! [`Refusal`], [`TrustError`], [`TrustPath`], [`FileKind`] and [`Validity`]. Decoding is
//! fallible where the program holds a closed set the frame names: a phone status
//! (`Event::State`) and an observation [`Kind`] map back to the program's own static names,
//! and a refusal's nesting (`NoTvsLeft` of `NoTvsLeft` of …) is bounded.

use super::{malformed, names, CodecError};
use cucmsim_core::machine::trace::Validity;
use cucmsim_core::machine::{Event, Kind, Observation, Refusal};
use cucmsim_core::phone::{FileKind, TrustError, TrustPath};
use cucmsim_core::tlv::verify::VerifyError;
use cucmsim_core::{DigestAlg, WallTime};
use serde::{Deserialize, Serialize};

/// The deepest `NoTvsLeft` nesting a frame may carry (a phone words one level).
pub(super) const MAX_REFUSAL_DEPTH: u8 = 8;

#[derive(Serialize, Deserialize)]
pub(super) struct WObservation<'a> {
    t_ms: u64,
    who: &'a str,
    #[serde(borrow)]
    event: WEvent<'a>,
}

#[derive(Serialize, Deserialize)]
enum WEvent<'a> {
    State {
        status: &'a str,
    },
    TrustListInstalled {
        file: WFileKind,
        path: WTrustPath,
    },
    TrustListRejected {
        file: WFileKind,
        #[serde(borrow)]
        reason: WRefusal<'a>,
        #[serde(borrow)]
        signer: Option<&'a str>,
    },
    TvsQuery {
        file: WFileKind,
        tvs_host: &'a str,
    },
    TvsAnswer {
        file: WFileKind,
        valid: bool,
        tvs_cert: Option<WValidity>,
    },
    TvsLookup {
        phone: u32,
        found: bool,
        held: bool,
    },
    ConfigAccepted {
        path: WTrustPath,
    },
    ConfigRejected {
        #[serde(borrow)]
        reason: WRefusal<'a>,
    },
    Registered {
        cluster: &'a str,
    },
    LscIssued {
        device: &'a str,
        serial_hex: &'a str,
    },
    LscInstalled {
        serial_hex: &'a str,
        issuer_cn: &'a str,
        family: &'a str,
        validity: WValidity,
    },
    CapfStatus {
        device: &'a str,
        status: &'a str,
    },
    CaEnroll {
        device: &'a str,
        #[serde(borrow)]
        result: Result<(), &'a str>,
    },
    ActorFailed {
        error: &'a str,
    },
    Note {
        kind: &'a str,
        text: &'a str,
    },
}

#[derive(Clone, Copy, Serialize, Deserialize)]
enum WFileKind {
    Ctl,
    Itl,
    Config,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
enum WTrustPath {
    FirstUse,
    RollbackItl,
    Ctl,
    Itl,
    Tvs { cached: bool },
}

/// `not_before`, `not_after`, `at` (wall seconds).
#[derive(Clone, Copy, Serialize, Deserialize)]
struct WValidity(i64, i64, i64);

/// A refusal, flat: `wraps` levels of `NoTvsLeft` around its base.
#[derive(Serialize, Deserialize)]
struct WRefusal<'a> {
    wraps: u8,
    #[serde(borrow)]
    base: WRefusalBase<'a>,
}

#[derive(Serialize, Deserialize)]
enum WRefusalBase<'a> {
    Trust(#[serde(borrow)] WTrustError<'a>),
    Other(&'a str),
}

#[derive(Serialize, Deserialize)]
enum WTrustError<'a> {
    UnknownSigner {
        subject: &'a str,
        serial: &'a str,
    },
    TvsDenied,
    TvsWrongRole {
        needed: &'a str,
    },
    BadSignature(#[serde(borrow)] WVerifyError<'a>),
    Unsigned,
    UnsupportedDigest(DigestAlg),
    ItlTooLarge {
        certs: u64,
        bytes: u64,
        max_certs: u64,
        max_bytes: u64,
    },
    KeyTooLong {
        bits: u32,
        max: u32,
    },
}

#[derive(Serialize, Deserialize)]
enum WVerifyError<'a> {
    NoSignature,
    NoSignerInHeader,
    NoSignerRecord { serial: &'a str, issuer: &'a str },
    UnsupportedDigest(u8),
    UnsupportedAlgorithm(u8),
    BadSignerKey(&'a str),
    LengthMismatch { found: u64, expected: u64 },
    Mismatch,
}

/// The wire form of an observation, borrowing from it.
pub(super) fn observation_to_wire(o: &Observation) -> Result<WObservation<'_>, CodecError> {
    Ok(WObservation {
        t_ms: o.t_ms,
        who: &o.who,
        event: event_to_wire(&o.event)?,
    })
}

/// The observation a wire form stands for.
pub(super) fn observation_from_wire(w: WObservation<'_>) -> Result<Observation, CodecError> {
    Ok(Observation {
        t_ms: w.t_ms,
        who: w.who.to_owned(),
        event: event_from_wire(w.event)?,
    })
}

fn event_to_wire(e: &Event) -> Result<WEvent<'_>, CodecError> {
    Ok(match e {
        Event::State { status } => WEvent::State { status },
        Event::TrustListInstalled { file, path } => WEvent::TrustListInstalled {
            file: file.into(),
            path: path.into(),
        },
        Event::TrustListRejected {
            file,
            reason,
            signer,
        } => WEvent::TrustListRejected {
            file: file.into(),
            reason: refusal_to_wire(reason)?,
            signer: signer.as_deref(),
        },
        Event::TvsQuery { file, tvs_host } => WEvent::TvsQuery {
            file: file.into(),
            tvs_host,
        },
        Event::TvsAnswer {
            file,
            valid,
            tvs_cert,
        } => WEvent::TvsAnswer {
            file: file.into(),
            valid: *valid,
            tvs_cert: tvs_cert.as_ref().map(WValidity::from),
        },
        Event::TvsLookup { phone, found, held } => WEvent::TvsLookup {
            phone: *phone,
            found: *found,
            held: *held,
        },
        Event::ConfigAccepted { path } => WEvent::ConfigAccepted { path: path.into() },
        Event::ConfigRejected { reason } => WEvent::ConfigRejected {
            reason: refusal_to_wire(reason)?,
        },
        Event::Registered { cluster } => WEvent::Registered { cluster },
        Event::LscIssued { device, serial_hex } => WEvent::LscIssued { device, serial_hex },
        Event::LscInstalled {
            serial_hex,
            issuer_cn,
            family,
            validity,
        } => WEvent::LscInstalled {
            serial_hex,
            issuer_cn,
            family,
            validity: validity.into(),
        },
        Event::CapfStatus { device, status } => WEvent::CapfStatus { device, status },
        Event::CaEnroll { device, result } => WEvent::CaEnroll {
            device,
            result: result.as_ref().map(|_| ()).map_err(String::as_str),
        },
        Event::ActorFailed { error } => WEvent::ActorFailed { error },
        Event::Note { kind, text } => WEvent::Note {
            kind: kind.name(),
            text,
        },
    })
}

fn event_from_wire(w: WEvent<'_>) -> Result<Event, CodecError> {
    let own = str::to_owned;
    Ok(match w {
        WEvent::State { status } => Event::State {
            status: names::phone_status(status)
                .ok_or_else(|| malformed(format!("unknown phone status {status:?}")))?,
        },
        WEvent::TrustListInstalled { file, path } => Event::TrustListInstalled {
            file: file.into(),
            path: path.into(),
        },
        WEvent::TrustListRejected {
            file,
            reason,
            signer,
        } => Event::TrustListRejected {
            file: file.into(),
            reason: refusal_from_wire(reason)?,
            signer: signer.map(own),
        },
        WEvent::TvsQuery { file, tvs_host } => Event::TvsQuery {
            file: file.into(),
            tvs_host: own(tvs_host),
        },
        WEvent::TvsAnswer {
            file,
            valid,
            tvs_cert,
        } => Event::TvsAnswer {
            file: file.into(),
            valid,
            tvs_cert: tvs_cert.map(Validity::from),
        },
        WEvent::TvsLookup { phone, found, held } => Event::TvsLookup { phone, found, held },
        WEvent::ConfigAccepted { path } => Event::ConfigAccepted { path: path.into() },
        WEvent::ConfigRejected { reason } => Event::ConfigRejected {
            reason: refusal_from_wire(reason)?,
        },
        WEvent::Registered { cluster } => Event::Registered {
            cluster: own(cluster),
        },
        WEvent::LscIssued { device, serial_hex } => Event::LscIssued {
            device: own(device),
            serial_hex: own(serial_hex),
        },
        WEvent::LscInstalled {
            serial_hex,
            issuer_cn,
            family,
            validity,
        } => Event::LscInstalled {
            serial_hex: own(serial_hex),
            issuer_cn: own(issuer_cn),
            family: own(family),
            validity: validity.into(),
        },
        WEvent::CapfStatus { device, status } => Event::CapfStatus {
            device: own(device),
            status: own(status),
        },
        WEvent::CaEnroll { device, result } => Event::CaEnroll {
            device: own(device),
            result: result.map_err(own),
        },
        WEvent::ActorFailed { error } => Event::ActorFailed { error: own(error) },
        WEvent::Note { kind, text } => Event::Note {
            kind: Kind::from_name(kind)
                .ok_or_else(|| malformed(format!("unknown observation kind {kind:?}")))?,
            text: own(text),
        },
    })
}

fn refusal_to_wire(r: &Refusal) -> Result<WRefusal<'_>, CodecError> {
    let mut wraps = 0u8;
    let mut at = r;
    loop {
        match at {
            Refusal::NoTvsLeft(inner) => {
                wraps += 1;
                if wraps > MAX_REFUSAL_DEPTH {
                    return Err(malformed(format!(
                        "a refusal nested deeper than {MAX_REFUSAL_DEPTH} levels"
                    )));
                }
                at = inner;
            }
            Refusal::Trust(e) => {
                let base = WRefusalBase::Trust(trust_error_to_wire(e));
                return Ok(WRefusal { wraps, base });
            }
            Refusal::Other(text) => {
                let base = WRefusalBase::Other(text);
                return Ok(WRefusal { wraps, base });
            }
        }
    }
}

fn refusal_from_wire(w: WRefusal<'_>) -> Result<Refusal, CodecError> {
    if w.wraps > MAX_REFUSAL_DEPTH {
        return Err(malformed(format!(
            "a refusal nested {} levels deep (at most {MAX_REFUSAL_DEPTH})",
            w.wraps
        )));
    }
    let mut r = match w.base {
        WRefusalBase::Trust(e) => Refusal::Trust(trust_error_from_wire(e)?),
        WRefusalBase::Other(text) => Refusal::Other(text.to_owned()),
    };
    for _ in 0..w.wraps {
        r = Refusal::NoTvsLeft(Box::new(r));
    }
    Ok(r)
}

fn trust_error_to_wire(e: &TrustError) -> WTrustError<'_> {
    let n = |x: usize| x as u64;
    match e {
        TrustError::UnknownSigner { subject, serial } => {
            WTrustError::UnknownSigner { subject, serial }
        }
        TrustError::TvsDenied => WTrustError::TvsDenied,
        TrustError::TvsWrongRole { needed } => WTrustError::TvsWrongRole { needed },
        TrustError::BadSignature(v) => WTrustError::BadSignature(verify_to_wire(v)),
        TrustError::Unsigned => WTrustError::Unsigned,
        TrustError::UnsupportedDigest(d) => WTrustError::UnsupportedDigest(*d),
        TrustError::ItlTooLarge {
            certs,
            bytes,
            max_certs,
            max_bytes,
        } => WTrustError::ItlTooLarge {
            certs: n(*certs),
            bytes: n(*bytes),
            max_certs: n(*max_certs),
            max_bytes: n(*max_bytes),
        },
        TrustError::KeyTooLong { bits, max } => WTrustError::KeyTooLong {
            bits: *bits,
            max: *max,
        },
    }
}

fn size(x: u64) -> Result<usize, CodecError> {
    usize::try_from(x).map_err(|_| malformed(format!("size {x} does not fit this machine")))
}

fn trust_error_from_wire(w: WTrustError<'_>) -> Result<TrustError, CodecError> {
    let own = str::to_owned;
    Ok(match w {
        WTrustError::UnknownSigner { subject, serial } => TrustError::UnknownSigner {
            subject: own(subject),
            serial: own(serial),
        },
        WTrustError::TvsDenied => TrustError::TvsDenied,
        WTrustError::TvsWrongRole { needed } => TrustError::TvsWrongRole {
            needed: own(needed),
        },
        WTrustError::BadSignature(v) => TrustError::BadSignature(verify_from_wire(v)?),
        WTrustError::Unsigned => TrustError::Unsigned,
        WTrustError::UnsupportedDigest(d) => TrustError::UnsupportedDigest(d),
        WTrustError::ItlTooLarge {
            certs,
            bytes,
            max_certs,
            max_bytes,
        } => TrustError::ItlTooLarge {
            certs: size(certs)?,
            bytes: size(bytes)?,
            max_certs: size(max_certs)?,
            max_bytes: size(max_bytes)?,
        },
        WTrustError::KeyTooLong { bits, max } => TrustError::KeyTooLong { bits, max },
    })
}

fn verify_to_wire(v: &VerifyError) -> WVerifyError<'_> {
    match v {
        VerifyError::NoSignature => WVerifyError::NoSignature,
        VerifyError::NoSignerInHeader => WVerifyError::NoSignerInHeader,
        VerifyError::NoSignerRecord { serial, issuer } => {
            WVerifyError::NoSignerRecord { serial, issuer }
        }
        VerifyError::UnsupportedDigest(c) => WVerifyError::UnsupportedDigest(*c),
        VerifyError::UnsupportedAlgorithm(c) => WVerifyError::UnsupportedAlgorithm(*c),
        VerifyError::BadSignerKey(why) => WVerifyError::BadSignerKey(why),
        VerifyError::LengthMismatch { found, expected } => WVerifyError::LengthMismatch {
            found: *found as u64,
            expected: *expected as u64,
        },
        VerifyError::Mismatch => WVerifyError::Mismatch,
    }
}

fn verify_from_wire(w: WVerifyError<'_>) -> Result<VerifyError, CodecError> {
    Ok(match w {
        WVerifyError::NoSignature => VerifyError::NoSignature,
        WVerifyError::NoSignerInHeader => VerifyError::NoSignerInHeader,
        WVerifyError::NoSignerRecord { serial, issuer } => VerifyError::NoSignerRecord {
            serial: serial.to_owned(),
            issuer: issuer.to_owned(),
        },
        WVerifyError::UnsupportedDigest(c) => VerifyError::UnsupportedDigest(c),
        WVerifyError::UnsupportedAlgorithm(c) => VerifyError::UnsupportedAlgorithm(c),
        WVerifyError::BadSignerKey(why) => VerifyError::BadSignerKey(why.to_owned()),
        WVerifyError::LengthMismatch { found, expected } => VerifyError::LengthMismatch {
            found: size(found)?,
            expected: size(expected)?,
        },
        WVerifyError::Mismatch => VerifyError::Mismatch,
    })
}

impl From<&FileKind> for WFileKind {
    fn from(k: &FileKind) -> WFileKind {
        match k {
            FileKind::Ctl => WFileKind::Ctl,
            FileKind::Itl => WFileKind::Itl,
            FileKind::Config => WFileKind::Config,
        }
    }
}

impl From<WFileKind> for FileKind {
    fn from(k: WFileKind) -> FileKind {
        match k {
            WFileKind::Ctl => FileKind::Ctl,
            WFileKind::Itl => FileKind::Itl,
            WFileKind::Config => FileKind::Config,
        }
    }
}

impl From<&TrustPath> for WTrustPath {
    fn from(p: &TrustPath) -> WTrustPath {
        match p {
            TrustPath::FirstUse => WTrustPath::FirstUse,
            TrustPath::RollbackItl => WTrustPath::RollbackItl,
            TrustPath::Ctl => WTrustPath::Ctl,
            TrustPath::Itl => WTrustPath::Itl,
            TrustPath::Tvs { cached } => WTrustPath::Tvs { cached: *cached },
        }
    }
}

impl From<WTrustPath> for TrustPath {
    fn from(p: WTrustPath) -> TrustPath {
        match p {
            WTrustPath::FirstUse => TrustPath::FirstUse,
            WTrustPath::RollbackItl => TrustPath::RollbackItl,
            WTrustPath::Ctl => TrustPath::Ctl,
            WTrustPath::Itl => TrustPath::Itl,
            WTrustPath::Tvs { cached } => TrustPath::Tvs { cached },
        }
    }
}

impl From<&Validity> for WValidity {
    fn from(v: &Validity) -> WValidity {
        WValidity(v.not_before.0, v.not_after.0, v.at.0)
    }
}

impl From<WValidity> for Validity {
    fn from(WValidity(nb, na, at): WValidity) -> Validity {
        Validity {
            not_before: WallTime(nb),
            not_after: WallTime(na),
            at: WallTime(at),
        }
    }
}
