//! Compiling `[[fault]]`: each `kind` checks the keys it uses, resolves names and becomes
//! timed events (services stopped and started, clocks skewed, phones powered off and on) or
//! link rules (partition, loss, delay, duplicate, firewall idle timeout).
//!
//! ```text
//!  [[fault]] kind, at, for, … ──fault──► Timeline.events (Event::Service / Skew / PowerOff / ResetPhones)
//!                                      or Timeline.rules (LinkRule { from_ms, until_ms, between, effect })
//! ```

use super::context::R;
use super::timeline::Timeline;
use super::values::service;
use crate::engine::{Event, Service};
use crate::lang::raw;
use cucmsim_actors::{Group, LinkEffect, LinkRule};
use cucmsim_core::machine::ServiceAction;

fn window(t: &Timeline, f: &raw::Fault) -> R<(u64, u64)> {
    let kspan = f.kind.span();
    let at =
        f.at.as_ref()
            .ok_or_else(|| t.cx.err(kspan.clone(), "this fault needs `at`"))?;
    let lasts = f
        .lasts
        .as_ref()
        .ok_or_else(|| t.cx.err(kspan, "this fault needs `for`"))?;
    let from = t.cx.at(at)?;
    Ok((from, from + t.cx.ms(lasts)?))
}

fn between(t: &Timeline, f: &raw::Fault) -> R<Option<(Group, Group)>> {
    let Some(b) = &f.between else { return Ok(None) };
    let [x, y] = &b.get_ref()[..] else {
        return Err(t.cx.err(
            b.span(),
            "between must name exactly two clusters, fleets or nodes",
        ));
    };
    Ok(Some((t.group(x, b.span())?, t.group(y, b.span())?)))
}

/// Compiles one `[[fault]]` into `t`'s events or link rules.
pub(super) fn fault(t: &mut Timeline, f: &raw::Fault) -> R<()> {
    let kind = f.kind.get_ref().as_str();
    let kspan = f.kind.span();
    match kind {
        "service_down" | "node_crash" => services(t, f, kind),
        "partition" | "loss" | "delay" | "duplicate" => link(t, f, kind),
        "clock_skew" => clock_skew(t, f, kind),
        "power_failure" => power_failure(t, f, kind),
        "firewall_idle_timeout" => firewall_idle_timeout(t, f, kind),
        other => Err(t.cx.err(kspan, format!("unknown fault kind {other:?}: expected service_down, node_crash, partition, loss, delay, duplicate, clock_skew, power_failure or firewall_idle_timeout"))),
    }
}

/// `service_down / node_crash`: the node's services (or one) stop at `at` and start after `for`.
fn services(t: &mut Timeline, f: &raw::Fault, kind: &str) -> R<()> {
    let kspan = f.kind.span();
    if kind == "node_crash" {
        t.only(kind, &f.present(), &["cluster", "node", "at", "for"])?;
    } else {
        t.only(
            kind,
            &f.present(),
            &["cluster", "node", "service", "at", "for"],
        )?;
    }
    let (from, until) = window(t, f)?;
    let c = t.cluster(&f.cluster, kspan.clone())?;
    let node = f
        .node
        .as_ref()
        .ok_or_else(|| t.cx.err(kspan.clone(), "this fault needs `node`"))?;
    let node = t.node_of(c, node)?;
    let services: Vec<Service> = match &f.service {
        Some(s) => vec![service(t.cx, s)?],
        None if kind == "node_crash" => node.services.iter().copied().collect(),
        None => return Err(t.cx.err(kspan, "service_down needs `service`")),
    };
    for svc in services {
        t.events.push((
            from,
            Event::Service {
                host: node.name.clone(),
                service: svc,
                action: ServiceAction::Stop,
            },
        ));
        t.events.push((
            until,
            Event::Service {
                host: node.name.clone(),
                service: svc,
                action: ServiceAction::Start,
            },
        ));
    }
    Ok(())
}

/// `partition, loss, delay, duplicate`: a link rule between two groups (or everywhere) for a window.
fn link(t: &mut Timeline, f: &raw::Fault, kind: &str) -> R<()> {
    let kspan = f.kind.span();
    let (from, until) = window(t, f)?;
    let effect = match kind {
        "partition" => {
            t.only(kind, &f.present(), &["between", "at", "for"])?;
            if f.between.is_none() {
                return Err(t.cx.err(kspan, "partition needs `between`"));
            }
            LinkEffect::Partition
        }
        "loss" | "duplicate" => {
            t.only(kind, &f.present(), &["between", "at", "for", "rate"])?;
            let r = f
                .rate
                .as_ref()
                .ok_or_else(|| t.cx.err(kspan.clone(), format!("{kind} needs `rate`")))?;
            if !(0.0..=1.0).contains(r.get_ref()) {
                return Err(t.cx.err(r.span(), "rate must be between 0.0 and 1.0"));
            }
            if kind == "loss" {
                LinkEffect::Loss(*r.get_ref())
            } else {
                LinkEffect::Duplicate(*r.get_ref())
            }
        }
        _ => {
            t.only(
                kind,
                &f.present(),
                &["between", "at", "for", "ms", "jitter_ms"],
            )?;
            let ms =
                f.ms.as_ref()
                    .ok_or_else(|| t.cx.err(kspan.clone(), "delay needs `ms`"))?;
            let jitter = f.jitter_ms.as_ref().map(|j| *j.get_ref()).unwrap_or(0);
            if *ms.get_ref() < 0 || jitter < 0 {
                return Err(t.cx.err(ms.span(), "delays cannot be negative"));
            }
            LinkEffect::Delay {
                ms: *ms.get_ref() as u64,
                jitter_ms: jitter as u64,
            }
        }
    };
    t.rules.push(LinkRule {
        from_ms: from,
        until_ms: until,
        between: between(t, f)?,
        effect,
    });
    Ok(())
}

/// `clock_skew`: a host's (or group's) clock moves by `by` at `at`.
fn clock_skew(t: &mut Timeline, f: &raw::Fault, kind: &str) -> R<()> {
    let kspan = f.kind.span();
    t.only(kind, &f.present(), &["host", "by", "at"])?;
    let host = f
        .host
        .as_ref()
        .ok_or_else(|| t.cx.err(kspan.clone(), "clock_skew needs `host`"))?;
    let by =
        f.by.as_ref()
            .ok_or_else(|| t.cx.err(kspan, "clock_skew needs `by`"))?;
    let group = t.group(host.get_ref(), host.span())?;
    let at = f.at.as_ref().map(|a| t.cx.at(a)).transpose()?.unwrap_or(0);
    t.events.push((
        at,
        Event::Skew {
            group,
            secs: t.cx.signed_ms(by)? / 1000,
        },
    ));
    Ok(())
}

/// `power_failure`: the fleets' phones lose power for a window, then boot.
fn power_failure(t: &mut Timeline, f: &raw::Fault, kind: &str) -> R<()> {
    t.only(kind, &f.present(), &["fleet", "at", "for"])?;
    let (from, until) = window(t, f)?;
    let fleets = t.selected_fleets(&f.fleet)?;
    for (first, count) in fleets {
        t.events.push((from, Event::PowerOff { first, count }));
        t.events.push((
            until,
            Event::ResetPhones {
                first,
                count,
                over_ms: 0,
            },
        ));
    }
    Ok(())
}

/// `firewall_idle_timeout`: a firewall drops connections idle longer than `timeout`.
fn firewall_idle_timeout(t: &mut Timeline, f: &raw::Fault, kind: &str) -> R<()> {
    let kspan = f.kind.span();
    t.only(kind, &f.present(), &["between", "at", "for", "timeout"])?;
    let (from, until) = window(t, f)?;
    let timeout = f
        .timeout
        .as_ref()
        .ok_or_else(|| t.cx.err(kspan, "firewall_idle_timeout needs `timeout`"))?;
    let ms = t.cx.ms(timeout)?;
    if ms == 0 {
        return Err(t.cx.err(timeout.span(), "timeout must be longer than 0"));
    }
    t.rules.push(LinkRule {
        from_ms: from,
        until_ms: until,
        between: between(t, f)?,
        effect: LinkEffect::IdleTimeout { ms },
    });
    Ok(())
}
