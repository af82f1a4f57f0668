//! The frames themselves: the mirrors of [`WindowReq`], [`WindowResp`] and [`FinishResp`]
//! (letters, `WindowDone`s, skews, counters, cost histograms), the two header bytes, and
//! postcard underneath.

use super::names;
use super::wire_msg::{input_from_wire, input_to_wire, BlobsIn, BlobsOut, WInput};
use super::wire_trace::{observation_from_wire, observation_to_wire, WObservation};
use super::{malformed, CodecError, FinishResp, WindowReq, WindowResp, MAX_FRAME, VERSION};
use crate::bus::{Counters, Group};
use crate::cost::{self, CostMeter};
use crate::letter::Letter;
use crate::lp::{StepDelta, WindowDone};
use crate::steps::{Cause, Mail};
use serde::{Deserialize, Serialize};
use serde_bytes::Bytes;
use std::collections::BTreeMap;

/// Cost histograms by (participant kind, input kind), as a frame is read.
type Hists = BTreeMap<(&'static str, &'static str), hdrhistogram::Histogram<u64>>;

/// The first header byte of each frame kind.
const TAG_REQ: u8 = b'W';
const TAG_RESP: u8 = b'D';
const TAG_FINISH: u8 = b'F';

#[derive(Serialize, Deserialize)]
struct WLetter<'a> {
    due_ms: u64,
    src: u64,
    seq: u64,
    slot: u32,
    cause: u32,
    #[serde(borrow)]
    input: WInput<'a>,
}

#[derive(Serialize, Deserialize)]
struct WGroup<'a> {
    #[serde(borrow)]
    hosts: Vec<&'a str>,
    phones: Vec<(u32, u32)>,
}

#[derive(Serialize, Deserialize)]
struct WReq<'a> {
    /// The shared payloads its letters name ([`BlobsOut`]).
    #[serde(borrow)]
    blobs: Vec<&'a Bytes>,
    end_ms: u64,
    #[serde(borrow)]
    skews: Vec<(WGroup<'a>, i64)>,
    #[serde(borrow)]
    letters: Vec<(u32, Vec<WLetter<'a>>)>,
}

#[derive(Serialize, Deserialize)]
struct WDone<'a> {
    #[serde(borrow)]
    out: Vec<(u32, WLetter<'a>)>,
    next_due: Option<u64>,
    /// (cause, added, done, last done ms).
    steps: Vec<(u32, u64, u64, u64)>,
    events: u64,
}

#[derive(Serialize, Deserialize)]
struct WResp<'a> {
    /// The shared payloads its letters name ([`BlobsOut`]).
    #[serde(borrow)]
    blobs: Vec<&'a Bytes>,
    #[serde(borrow)]
    done: Vec<(u32, WDone<'a>)>,
    busy_ns: u64,
}

/// One cost histogram: its key, bounds and every recorded (value, count).
#[derive(Serialize, Deserialize)]
struct WHist<'a> {
    kind: &'a str,
    input: &'a str,
    bounds: (u64, u64, u8),
    recorded: Vec<(u64, u64)>,
}

#[derive(Serialize, Deserialize)]
struct WFinish<'a> {
    #[serde(borrow)]
    trace: Vec<WObservation<'a>>,
    /// sent, delivered, dropped, duplicated.
    counters: (u64, u64, u64, u64),
    #[serde(borrow)]
    costs: Vec<WHist<'a>>,
}

/// Encodes a window request.
pub fn encode_window_req(r: &WindowReq) -> Result<Vec<u8>, CodecError> {
    let mut blobs = BlobsOut::default();
    let mut letters = Vec::with_capacity(r.letters.len());
    for (lp, ls) in &r.letters {
        let ls = ls
            .iter()
            .map(|l| letter_to_wire(l, &mut blobs))
            .collect::<Result<_, _>>()?;
        letters.push((*lp, ls));
    }
    let w = WReq {
        blobs: blobs.list,
        end_ms: r.end_ms,
        skews: r
            .skews
            .iter()
            .map(|(g, s)| (group_to_wire(g), *s))
            .collect(),
        letters,
    };
    frame(TAG_REQ, &w)
}

/// Decodes a window request.
pub fn decode_window_req(b: &[u8]) -> Result<WindowReq, CodecError> {
    let w: WReq<'_> = unframe(TAG_REQ, b)?;
    let blobs = BlobsIn::new(w.blobs);
    let mut letters = Vec::with_capacity(w.letters.len());
    for (lp, ls) in w.letters {
        let ls = ls
            .into_iter()
            .map(|l| letter_from_wire(l, &blobs))
            .collect::<Result<_, _>>()?;
        letters.push((lp, ls));
    }
    Ok(WindowReq {
        end_ms: w.end_ms,
        skews: w
            .skews
            .into_iter()
            .map(|(g, s)| (group_from_wire(g), s))
            .collect(),
        letters,
    })
}

/// Encodes a window's answer.
pub fn encode_window_resp(r: &WindowResp) -> Result<Vec<u8>, CodecError> {
    let mut blobs = BlobsOut::default();
    let done = r
        .done
        .iter()
        .map(|(lp, d)| Ok((*lp, done_to_wire(d, &mut blobs)?)))
        .collect::<Result<_, CodecError>>()?;
    let w = WResp {
        blobs: blobs.list,
        done,
        busy_ns: r.busy_ns,
    };
    frame(TAG_RESP, &w)
}

/// Decodes a window's answer.
pub fn decode_window_resp(b: &[u8]) -> Result<WindowResp, CodecError> {
    let w: WResp<'_> = unframe(TAG_RESP, b)?;
    let blobs = BlobsIn::new(w.blobs);
    Ok(WindowResp {
        done: w
            .done
            .into_iter()
            .map(|(lp, d)| Ok((lp, done_from_wire(d, &blobs)?)))
            .collect::<Result<_, CodecError>>()?,
        busy_ns: w.busy_ns,
    })
}

/// Encodes a worker's harvest.
pub fn encode_finish(r: &FinishResp) -> Result<Vec<u8>, CodecError> {
    let c = &r.counters;
    let w = WFinish {
        trace: r
            .trace
            .iter()
            .map(observation_to_wire)
            .collect::<Result<_, _>>()?,
        counters: (c.sent, c.delivered, c.dropped, c.duplicated),
        costs: r.costs.histograms().map(hist_to_wire).collect(),
    };
    frame(TAG_FINISH, &w)
}

/// Decodes a worker's harvest.
pub fn decode_finish(b: &[u8]) -> Result<FinishResp, CodecError> {
    let w: WFinish<'_> = unframe(TAG_FINISH, b)?;
    let (sent, delivered, dropped, duplicated) = w.counters;
    let mut hists = BTreeMap::new();
    for h in w.costs {
        hist_from_wire(h, &mut hists)?;
    }
    let mut costs = CostMeter::default();
    for ((kind, input), h) in hists {
        costs
            .add_histogram(kind, input, h)
            .map_err(|e| malformed(format!("cost histogram {kind}/{input}: {e:?}")))?;
    }
    Ok(FinishResp {
        trace: w
            .trace
            .into_iter()
            .map(observation_from_wire)
            .collect::<Result<_, _>>()?,
        counters: Counters {
            sent,
            delivered,
            dropped,
            duplicated,
        },
        costs,
    })
}

/// Header and body; `Malformed` when the frame would exceed [`MAX_FRAME`].
fn frame<T: Serialize>(tag: u8, body: &T) -> Result<Vec<u8>, CodecError> {
    let out = postcard::to_extend(body, vec![tag, VERSION])
        .map_err(|e| malformed(format!("cannot encode: {e}")))?;
    if out.len() > MAX_FRAME {
        return Err(malformed(format!(
            "a frame of {} bytes is over the limit of {MAX_FRAME}",
            out.len()
        )));
    }
    Ok(out)
}

/// The body of a frame of kind `tag`, borrowing from `b`.
fn unframe<'a, T: Deserialize<'a>>(tag: u8, b: &'a [u8]) -> Result<T, CodecError> {
    if b.len() > MAX_FRAME {
        return Err(malformed(format!(
            "a frame of {} bytes is over the limit of {MAX_FRAME}",
            b.len()
        )));
    }
    match b {
        [t, v, body @ ..] if *t == tag && *v == VERSION => {
            let (value, rest) = postcard::take_from_bytes(body)
                .map_err(|e| malformed(format!("{}: {e}", tag_name(tag))))?;
            if !rest.is_empty() {
                return Err(malformed(format!(
                    "{} bytes after the end of a {}",
                    rest.len(),
                    tag_name(tag)
                )));
            }
            Ok(value)
        }
        [t, v, ..] if *t == tag => Err(malformed(format!(
            "a {} of codec version {v}, this node speaks {VERSION}",
            tag_name(tag)
        ))),
        [t, ..] => Err(malformed(format!(
            "expected a {}, got frame tag {t:#04x}",
            tag_name(tag)
        ))),
        [] => Err(malformed("an empty frame")),
    }
}

fn tag_name(tag: u8) -> &'static str {
    match tag {
        TAG_REQ => "window request",
        TAG_RESP => "window answer",
        _ => "finish frame",
    }
}

fn letter_to_wire<'a>(l: &'a Letter, blobs: &mut BlobsOut<'a>) -> Result<WLetter<'a>, CodecError> {
    Ok(WLetter {
        due_ms: l.due_ms,
        src: l.src,
        seq: l.seq,
        slot: l.slot,
        cause: l.mail.cause.0,
        input: input_to_wire(&l.mail.input, blobs)?,
    })
}

fn letter_from_wire(w: WLetter<'_>, blobs: &BlobsIn) -> Result<Letter, CodecError> {
    Ok(Letter {
        due_ms: w.due_ms,
        src: w.src,
        seq: w.seq,
        slot: w.slot,
        mail: Mail {
            input: input_from_wire(w.input, blobs)?,
            cause: Cause(w.cause),
        },
    })
}

fn group_to_wire(g: &Group) -> WGroup<'_> {
    WGroup {
        hosts: g.hosts.iter().map(String::as_str).collect(),
        phones: g.phones.clone(),
    }
}

fn group_from_wire(w: WGroup<'_>) -> Group {
    Group {
        hosts: w.hosts.into_iter().map(str::to_owned).collect(),
        phones: w.phones,
    }
}

fn done_to_wire<'a>(d: &'a WindowDone, blobs: &mut BlobsOut<'a>) -> Result<WDone<'a>, CodecError> {
    Ok(WDone {
        out: d
            .out
            .iter()
            .map(|(lp, l)| Ok((*lp, letter_to_wire(l, blobs)?)))
            .collect::<Result<_, CodecError>>()?,
        next_due: d.next_due,
        steps: d
            .steps
            .iter()
            .map(|(c, s)| (*c, s.added, s.done, s.last_done_ms))
            .collect(),
        events: d.events,
    })
}

fn done_from_wire(w: WDone<'_>, blobs: &BlobsIn) -> Result<WindowDone, CodecError> {
    Ok(WindowDone {
        out: w
            .out
            .into_iter()
            .map(|(lp, l)| Ok((lp, letter_from_wire(l, blobs)?)))
            .collect::<Result<_, CodecError>>()?,
        next_due: w.next_due,
        steps: w
            .steps
            .into_iter()
            .map(|(c, added, done, last_done_ms)| {
                let d = StepDelta {
                    added,
                    done,
                    last_done_ms,
                };
                (c, d)
            })
            .collect(),
        events: w.events,
    })
}

fn hist_to_wire<'a>(
    (kind, input, h): (&'static str, &'static str, &'a hdrhistogram::Histogram<u64>),
) -> WHist<'a> {
    WHist {
        kind,
        input,
        bounds: (h.low(), h.high(), h.sigfig()),
        recorded: h
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect(),
    }
}

/// A cost histogram back, re-recorded value by value into the one of its key in `into`, with
/// the meter's bounds (the only bounds a meter uses; anything else is refused rather than
/// allocated). One histogram per distinct key, however many entries name it.
fn hist_from_wire(w: WHist<'_>, into: &mut Hists) -> Result<(), CodecError> {
    let kind = names::addr_kind(w.kind)
        .ok_or_else(|| malformed(format!("unknown participant kind {:?}", w.kind)))?;
    let input = names::input_kind(w.input)
        .ok_or_else(|| malformed(format!("unknown input kind {:?}", w.input)))?;
    let want = (cost::HIST_LOWEST, cost::HIST_HIGHEST, cost::HIST_SIGFIG);
    if w.bounds != want {
        return Err(malformed(format!(
            "cost histogram {kind}/{input} has bounds {:?}, not {want:?}",
            w.bounds
        )));
    }
    let h = into
        .entry((kind, input))
        .or_insert_with(cost::new_histogram);
    for (value, count) in w.recorded {
        h.record_n(value, count)
            .map_err(|e| malformed(format!("cost histogram {kind}/{input}: {e:?}")))?;
    }
    Ok(())
}
