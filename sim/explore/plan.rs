//! A fault plan as explicit data: the faults explore injects (every kind of the scenario
//! language) and its perturbations of the scenario's own operator steps (one dropped, two
//! adjacent swapped, one delayed). A plan renders to `[[fault]]` tables of the normal
//! language, and reads back to a line of text for a reproducer's opening comment.
//!
//! ```text
//!  Vec<Item> ──Fault::tables──► [[fault]] tables (a clock skew: one table out, one back)
//!            ──Perturb (applied by base::Base::render)──► the [[step]] tables, reordered
//!            ──describe──► "service_down tvs on src-pub at 1 min for 2 min"
//! ```

use crate::lang::fmt_ms;
use serde::Serialize;
use std::fmt;
use toml_edit::{value, Array, Table};

/// The kinds explore draws from: the nine fault kinds of the language, then the three step
/// perturbations. Swarm testing enables a random subset of these in each case.
pub const KINDS: [&str; 12] = [
    "service_down",
    "node_crash",
    "partition",
    "loss",
    "delay",
    "duplicate",
    "clock_skew",
    "power_failure",
    "firewall_idle_timeout",
    "drop_step",
    "swap_steps",
    "delay_step",
];

/// One entry of a plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Item {
    Fault(Fault),
    Step(Perturb),
}

/// A fault over a window of virtual time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fault {
    #[serde(flatten)]
    pub what: What,
    pub at_ms: u64,
    pub for_ms: u64,
}

/// Two groups (cluster, fleet or node names) a link fault sits between.
pub type Pair = (String, String);

/// What a fault does (the keys of its `[[fault]]` table besides `at` and `for`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum What {
    ServiceDown {
        cluster: String,
        node: String,
        service: String,
    },
    NodeCrash {
        cluster: String,
        node: String,
    },
    Partition {
        between: Pair,
    },
    Loss {
        rate: f64,
        between: Option<Pair>,
    },
    Delay {
        ms: u64,
        jitter_ms: u64,
        between: Option<Pair>,
    },
    Duplicate {
        rate: f64,
        between: Option<Pair>,
    },
    /// The host's clock moves by `by_s` at `at` and back at `at + for` (two `clock_skew`
    /// tables: the language's skew is permanent and additive).
    ClockSkew {
        host: String,
        by_s: i64,
    },
    PowerFailure {
        fleet: Option<String>,
    },
    FirewallIdleTimeout {
        timeout_ms: u64,
        between: Option<Pair>,
    },
}

/// A perturbation of the scenario's steps, by the step's index in the file (from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Perturb {
    /// The operator forgets the step.
    DropStep { step: usize },
    /// The step and the next one happen in the other order (each at the other's time).
    SwapSteps { step: usize },
    /// The step happens `by_ms` later.
    DelayStep { step: usize, by_ms: u64 },
}

impl What {
    /// The fault kind as the language names it.
    pub fn kind(&self) -> &'static str {
        match self {
            What::ServiceDown { .. } => "service_down",
            What::NodeCrash { .. } => "node_crash",
            What::Partition { .. } => "partition",
            What::Loss { .. } => "loss",
            What::Delay { .. } => "delay",
            What::Duplicate { .. } => "duplicate",
            What::ClockSkew { .. } => "clock_skew",
            What::PowerFailure { .. } => "power_failure",
            What::FirewallIdleTimeout { .. } => "firewall_idle_timeout",
        }
    }
}

fn pair(p: &Pair) -> Array {
    Array::from_iter([p.0.as_str(), p.1.as_str()])
}

fn between(t: &mut Table, p: &Option<Pair>) {
    if let Some(p) = p {
        t["between"] = value(pair(p));
    }
}

fn secs(s: i64) -> String {
    let text = fmt_ms(s.unsigned_abs() * 1000);
    if s < 0 {
        format!("-{text}")
    } else {
        text
    }
}

impl Fault {
    /// The `[[fault]]` tables of the language that inject this fault.
    pub fn tables(&self) -> Vec<Table> {
        let mut t = Table::new();
        t["kind"] = value(self.what.kind());
        match &self.what {
            What::ServiceDown {
                cluster,
                node,
                service,
            } => {
                t["cluster"] = value(cluster.as_str());
                t["node"] = value(node.as_str());
                t["service"] = value(service.as_str());
            }
            What::NodeCrash { cluster, node } => {
                t["cluster"] = value(cluster.as_str());
                t["node"] = value(node.as_str());
            }
            What::Partition { between: p } => t["between"] = value(pair(p)),
            What::Loss { rate, between: p } | What::Duplicate { rate, between: p } => {
                t["rate"] = value(*rate);
                between(&mut t, p);
            }
            What::Delay {
                ms,
                jitter_ms,
                between: p,
            } => {
                t["ms"] = value(*ms as i64);
                if *jitter_ms > 0 {
                    t["jitter_ms"] = value(*jitter_ms as i64);
                }
                between(&mut t, p);
            }
            What::ClockSkew { host, by_s } => {
                t["host"] = value(host.as_str());
                t["by"] = value(secs(*by_s));
                t["at"] = value(fmt_ms(self.at_ms));
                let mut back = t.clone();
                back["by"] = value(secs(-by_s));
                back["at"] = value(fmt_ms(self.at_ms + self.for_ms));
                return vec![t, back];
            }
            What::PowerFailure { fleet } => {
                if let Some(f) = fleet {
                    t["fleet"] = value(f.as_str());
                }
            }
            What::FirewallIdleTimeout {
                timeout_ms,
                between: p,
            } => {
                t["timeout"] = value(fmt_ms(*timeout_ms));
                between(&mut t, p);
            }
        }
        t["at"] = value(fmt_ms(self.at_ms));
        t["for"] = value(fmt_ms(self.for_ms));
        vec![t]
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |p: &Option<Pair>| match p {
            Some((a, b)) => format!(" between {a} and {b}"),
            None => " everywhere".into(),
        };
        match &self.what {
            What::ServiceDown { node, service, .. } => write!(f, "{service} down on {node}")?,
            What::NodeCrash { node, .. } => write!(f, "{node} crashes")?,
            What::Partition { between: (a, b) } => write!(f, "partition between {a} and {b}")?,
            What::Loss { rate, between } => write!(f, "loss {rate}{}", on(between))?,
            What::Delay {
                ms,
                jitter_ms,
                between,
            } => write!(f, "delay {ms} ms (jitter {jitter_ms} ms){}", on(between))?,
            What::Duplicate { rate, between } => write!(f, "duplicate {rate}{}", on(between))?,
            What::ClockSkew { host, by_s } => {
                write!(f, "clock of {host} moved by {}", secs(*by_s))?
            }
            What::PowerFailure { fleet } => write!(
                f,
                "power failure of {}",
                fleet.as_deref().unwrap_or("every phone")
            )?,
            What::FirewallIdleTimeout {
                timeout_ms,
                between,
            } => write!(
                f,
                "firewall idle timeout {}{}",
                fmt_ms(*timeout_ms),
                on(between)
            )?,
        }
        write!(f, " at {} for {}", fmt_ms(self.at_ms), fmt_ms(self.for_ms))
    }
}

impl Perturb {
    /// The step it perturbs.
    pub fn step(&self) -> usize {
        match self {
            Perturb::DropStep { step }
            | Perturb::SwapSteps { step }
            | Perturb::DelayStep { step, .. } => *step,
        }
    }
}

/// One line for a plan item; `steps` names the scenario's steps (`"restart_service at 5 min"`).
pub fn describe(item: &Item, steps: &[String]) -> String {
    let name = |i: usize| {
        let s = steps.get(i).map_or("?", String::as_str);
        format!("step {} ({s})", i + 1)
    };
    match item {
        Item::Fault(f) => format!("fault: {f}"),
        Item::Step(Perturb::DropStep { step }) => format!("operator: {} forgotten", name(*step)),
        Item::Step(Perturb::SwapSteps { step }) => {
            format!(
                "operator: {} and {} in the other order",
                name(*step),
                name(step + 1)
            )
        }
        Item::Step(Perturb::DelayStep { step, by_ms }) => {
            format!("operator: {} done {} late", name(*step), fmt_ms(*by_ms))
        }
    }
}
