//! Where the phones ended, for the people who approve a change: phones per cluster and state
//! at the end of the run (the migration's key fact), and the phones that did not register
//! grouped by reason, each group with a few example phones and each example's timeline (its
//! own observations in order).
//!
//! ```text
//!  trace ──one pass──► device → cluster it registered with last
//!  phones_at(end) + that ──by_cluster_and_state──► { "dst": { "Registered": 198 }, … }
//!                        ──failure_groups────────► [ { reason, phones, examples: [timeline] } ]
//! ```

use crate::checks::phones::PhoneView;
use cucmsim_core::machine::phone::status;
use cucmsim_core::machine::trace::file_name;
use cucmsim_core::machine::{Event, Kind, Observation};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The row of phones that never registered anywhere.
pub const NEVER_REGISTERED: &str = "(never registered)";
/// Example phones shown per failure group.
pub const EXAMPLES_PER_GROUP: usize = 3;
/// Observations kept of an example's timeline: the first and the last half of this many.
pub const TIMELINE_LINES: usize = 40;

/// Phones that did not register, sharing one reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailureGroup {
    /// The reason with names and serials folded out (`"ITL: signer … is not in …"`), or the
    /// state the phones ended in when they observed no refusal.
    pub reason: String,
    pub phones: u64,
    /// The states these phones ended in, with counts.
    pub states: BTreeMap<String, u64>,
    pub examples: Vec<Example>,
}

/// One example phone of a failure group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Example {
    pub device: String,
    /// Its last refusal, as the phone observed it (names and serials kept).
    pub reason: Option<String>,
    /// Its observations in order (the first and last [`TIMELINE_LINES`]`/2` when longer).
    pub timeline: Vec<Line>,
    /// Observations left out of the middle of `timeline`.
    pub omitted: u64,
}

/// One observation of an example's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    pub t_ms: u64,
    pub what: &'static str,
    pub detail: String,
}

/// The cluster each phone registered with last, by device name.
fn last_cluster(trace: &[Observation], end_ms: u64) -> HashMap<&str, &str> {
    let mut out = HashMap::new();
    for o in trace.iter().filter(|o| o.t_ms <= end_ms && o.by_phone()) {
        if let Event::Registered { cluster } = &o.event {
            out.insert(o.who.as_str(), cluster.as_str());
        }
    }
    out
}

/// Phones at the end by cluster (the one a phone is registered with, or registered with last;
/// [`NEVER_REGISTERED`] for the others) and state.
pub fn by_cluster_and_state(
    trace: &[Observation],
    end: &BTreeMap<String, PhoneView>,
    end_ms: u64,
) -> BTreeMap<String, BTreeMap<String, u64>> {
    let last = last_cluster(trace, end_ms);
    let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (device, v) in end {
        let cluster = v
            .cluster
            .as_deref()
            .or_else(|| last.get(device.as_str()).copied())
            .unwrap_or(NEVER_REGISTERED);
        *out.entry(cluster.to_string())
            .or_default()
            .entry(v.state.clone())
            .or_default() += 1;
    }
    out
}

/// The phones not registered at the end, grouped by reason (largest group first), each group
/// with up to [`EXAMPLES_PER_GROUP`] example phones and their timelines.
pub fn failure_groups(
    trace: &[Observation],
    end: &BTreeMap<String, PhoneView>,
) -> Vec<FailureGroup> {
    let mut groups: BTreeMap<String, FailureGroup> = BTreeMap::new();
    let failed: Vec<(&String, &PhoneView)> = end
        .iter()
        .filter(|(_, v)| v.state != status::REGISTERED)
        .collect();
    let refusals = refusals_since_boot(trace, failed.iter().map(|(d, _)| d.as_str()));
    for (device, v) in failed {
        let seen = refusals.get(device.as_str());
        let reason = match (seen.and_then(|r| r.first()), seen.and_then(|r| r.last())) {
            (Some(first), Some(last)) if fold(first) != fold(last) => {
                format!("{} → {}", fold(first), fold(last))
            }
            (Some(first), _) => fold(first),
            _ => format!("ended in \"{}\", no refusal observed", v.state),
        };
        let g = groups
            .entry(reason.clone())
            .or_insert_with(|| FailureGroup {
                reason,
                phones: 0,
                states: BTreeMap::new(),
                examples: vec![],
            });
        g.phones += 1;
        *g.states.entry(v.state.clone()).or_default() += 1;
        if g.examples.len() < EXAMPLES_PER_GROUP {
            g.examples.push(Example {
                device: device.clone(),
                reason: v.last_failure.clone(),
                timeline: vec![],
                omitted: 0,
            });
        }
    }
    fill_timelines(trace, &mut groups);
    let mut out: Vec<FailureGroup> = groups.into_values().collect();
    out.sort_by(|a, b| {
        b.phones
            .cmp(&a.phones)
            .then_with(|| a.reason.cmp(&b.reason))
    });
    out
}

/// A refusal's text with its variable parts (subjects, serials) folded to `…`, punctuation
/// kept, so thousands of phones share a few reasons:
/// `ITL: signer CN=a;OU=b (serial 5a02…e1) is not …` → `ITL: signer … (serial …) is not …`.
pub fn fold(reason: &str) -> String {
    let mut words: Vec<String> = vec![];
    for w in reason.split_whitespace() {
        let variable = w.contains('=') || w.chars().filter(|c| c.is_ascii_hexdigit()).count() > 12;
        if !variable {
            words.push(w.to_string());
            continue;
        }
        let tail: String = w
            .chars()
            .rev()
            .take_while(|c| matches!(c, ')' | ',' | ';' | ':' | '.'))
            .collect();
        let word = format!("…{}", tail.chars().rev().collect::<String>());
        match words.last_mut() {
            // Consecutive variable words fold into one.
            Some(last) if last.starts_with('…') => *last = word,
            _ => words.push(word),
        }
    }
    words.join(" ")
}

/// The refusals each of `devices` observed since it last booted, in order: the first is the
/// cause, the last what the phone shows.
fn refusals_since_boot<'a>(
    trace: &[Observation],
    devices: impl Iterator<Item = &'a str>,
) -> HashMap<&'a str, Vec<String>> {
    let mut out: HashMap<&str, Vec<String>> = devices.map(|d| (d, vec![])).collect();
    for o in trace.iter().filter(|o| o.by_phone()) {
        let Some(seen) = out.get_mut(o.who.as_str()) else {
            continue;
        };
        match (o.kind(), &o.event) {
            (_, Event::State { status }) if *status == status::BOOTING => seen.clear(),
            // The cause, without the signer the detail also names (examples show it).
            (_, Event::TrustListRejected { file, reason, .. }) => {
                seen.push(format!("{}: {reason}", file_name(*file)))
            }
            (
                Kind::TrustListRejected
                | Kind::ConfigRejected
                | Kind::TlsFailure
                | Kind::RegistrationRejected
                | Kind::CapfFailed,
                _,
            ) => seen.push(o.detail()),
            _ => {}
        }
    }
    out
}

/// Each example's observations, in trace order, its middle cut when long.
fn fill_timelines(trace: &[Observation], groups: &mut BTreeMap<String, FailureGroup>) {
    let mut lines: HashMap<String, Vec<&Observation>> = groups
        .values()
        .flat_map(|g| g.examples.iter().map(|e| (e.device.clone(), vec![])))
        .collect();
    for o in trace.iter().filter(|o| o.by_phone()) {
        if let Some(v) = lines.get_mut(&o.who) {
            v.push(o);
        }
    }
    let half = TIMELINE_LINES / 2;
    for e in groups.values_mut().flat_map(|g| g.examples.iter_mut()) {
        let all = lines.remove(&e.device).unwrap_or_default();
        let keep: Vec<&&Observation> = if all.len() > TIMELINE_LINES {
            e.omitted = (all.len() - TIMELINE_LINES) as u64;
            all[..half].iter().chain(&all[all.len() - half..]).collect()
        } else {
            all.iter().collect()
        };
        e.timeline = keep
            .into_iter()
            .map(|o| Line {
                t_ms: o.t_ms,
                what: o.what(),
                detail: o.detail(),
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::phones::phones_at;
    use cucmsim_core::machine::Now;
    use cucmsim_core::wall::WallTime;

    fn obs(t_ms: u64, who: &str, event: Event) -> Observation {
        let now = Now {
            mono_ms: t_ms,
            wall: WallTime(0),
        };
        Observation::new(now, who, event)
    }

    fn trace() -> Vec<Observation> {
        let reg = |c: &str| Event::Registered { cluster: c.into() };
        let st = |s: &'static str| Event::State { status: s };
        let mut t = vec![];
        for p in ["SEP000000000001", "SEP000000000002", "SEP000000000003"] {
            t.push(obs(1, p, st(status::BOOTING)));
            t.push(obs(2, p, st(status::REGISTERED)));
            t.push(obs(2, p, reg("src")));
            t.push(obs(10, p, st(status::BOOTING)));
        }
        t.push(obs(12, "SEP000000000001", st(status::REGISTERED)));
        t.push(obs(12, "SEP000000000001", reg("dst")));
        for p in ["SEP000000000002", "SEP000000000003"] {
            let refusal = |text: &str| Event::Note {
                kind: Kind::TlsFailure,
                text: text.into(),
            };
            t.push(obs(11, p, refusal(&format!("TLS: CN={p} refused"))));
            t.push(obs(11, p, refusal("gave up")));
            t.push(obs(12, p, st(status::TFTP_TIMEOUT)));
        }
        t.push(obs(1, "SEP000000000004", st(status::BOOTING)));
        t
    }

    #[test]
    fn phones_count_under_the_cluster_they_are_or_were_registered_with() {
        let t = trace();
        let end = phones_at(&t, 100);
        let table = by_cluster_and_state(&t, &end, 100);
        assert_eq!(table["dst"]["Registered"], 1);
        assert_eq!(table["src"][status::TFTP_TIMEOUT], 2);
        assert_eq!(table[NEVER_REGISTERED][status::BOOTING], 1);
    }

    #[test]
    fn reasons_fold_subjects_and_serials_but_keep_punctuation() {
        let r = "ITL: signer CN=dst-pub;OU=TAC;O=Cisco (serial 5a024e9aa5ef8c9f64a04b4ef0c223dc) is not in the phone's CTL/ITL";
        assert_eq!(
            fold(r),
            "ITL: signer … (serial …) is not in the phone's CTL/ITL"
        );
    }

    #[test]
    fn failures_group_by_reason_with_example_timelines_in_order() {
        let t = trace();
        let end = phones_at(&t, 100);
        let groups = failure_groups(&t, &end);
        assert_eq!(groups.len(), 2);
        let timeout = &groups[0];
        assert_eq!(timeout.phones, 2);
        // The first refusal since the last boot is the cause, the last what the phone shows.
        assert_eq!(timeout.reason, "TLS: … refused → gave up");
        assert_eq!(
            groups[1].reason,
            "ended in \"Booting\", no refusal observed"
        );
        let ex = &timeout.examples[0];
        assert_eq!(ex.device, "SEP000000000002");
        let times: Vec<u64> = ex.timeline.iter().map(|l| l.t_ms).collect();
        assert_eq!(times, vec![1, 2, 2, 10, 11, 11, 12]);
        assert_eq!(ex.timeline[2].what, "registered");
    }
}
