//! The scenario a case runs: the user's file as a `toml_edit` document, with its seed (and,
//! under `--phones`, its fleet and expectation counts) written in, so that the text a case
//! runs is a complete scenario that replays alone. A plan renders into it: the steps
//! perturbed, its faults appended after the file's own `[[fault]]` tables. Everything else
//! (tables, keys, comments) is the user's text.
//!
//! ```text
//!  text ──lang::parse_with(phones)──► Compiled (validates; counts as --phones scales them)
//!       ──toml_edit──► doc: seed, counts written in; [[step]], [[fault]], [[expect]] taken out
//!  Base::render(plan) ──► doc + steps (dropped / swapped / delayed) + faults + expects ──► text
//! ```

use super::plan::{Item, Perturb};
use crate::lang::compile::Overrides;
use crate::lang::durations::parse_duration;
use crate::lang::{fmt_ms, parse_with, Compiled, Count, Expectation};
use toml_edit::{value, ArrayOfTables, DocumentMut, Item as TomlItem, Table};

/// A scenario ready to take plans.
#[derive(Clone)]
pub struct Base {
    /// How the scenario is named in messages and reproducers.
    pub file: String,
    /// The user's text.
    pub text: String,
    /// The scenario compiled as the cases run it (no plan).
    pub compiled: Compiled,
    /// Total phones.
    pub phones: u32,
    /// `"restart_service at 5 min"` for each step, for reproducer comments.
    pub step_names: Vec<String>,
    doc: DocumentMut,
    /// The step tables with their times (ms).
    steps: Vec<(Table, u64)>,
    faults: Vec<Table>,
    expects: Vec<Table>,
    /// The document position after every table of `doc`.
    next_position: isize,
}

impl Base {
    /// The scenario `text` (named `file`) with `phones` phones in total (`None`: as written).
    pub fn new(file: &str, text: &str, phones: Option<u32>) -> Result<Base, String> {
        let o = Overrides {
            phones,
            ..Overrides::default()
        };
        let compiled = parse_with(file, text, o).map_err(|e| e.to_string())?;
        let mut doc: DocumentMut = text.parse().map_err(|e| format!("{file}: not TOML: {e}"))?;
        doc["scenario"]["seed"] = value(compiled.spec.seed as i64);
        let root = doc.as_table_mut();
        let steps = take(root, "step");
        let faults = take(root, "fault");
        let mut expects = take(root, "expect");
        if phones.is_some() {
            bake_counts(&mut doc, &mut expects, &compiled);
        }
        let steps: Vec<(Table, u64)> = steps
            .into_iter()
            .map(|t| {
                let at = at_ms(&t).ok_or_else(|| format!("{file}: a step without a valid `at`"))?;
                Ok((t, at))
            })
            .collect::<Result<_, String>>()?;
        let step_names = steps
            .iter()
            .map(|(t, at)| {
                let action = t.get("action").and_then(|a| a.as_str()).unwrap_or("step");
                format!("{action} at {}", fmt_ms(*at))
            })
            .collect();
        let next_position = max_position(doc.as_table()) + 1;
        Ok(Base {
            file: file.to_string(),
            text: text.to_string(),
            phones: compiled.spec.phone_count(),
            compiled,
            step_names,
            doc,
            steps,
            faults,
            expects,
            next_position,
        })
    }

    /// The same scenario with `phones` phones in total.
    pub fn with_phones(&self, phones: u32) -> Result<Base, String> {
        Base::new(&self.file, &self.text, Some(phones))
    }

    /// The scenario's steps.
    pub fn step_count(&self) -> usize {
        self.steps.len()
    }

    /// The complete scenario text with `plan` applied.
    pub fn render(&self, plan: &[Item]) -> String {
        let mut doc = self.doc.clone();
        let mut position = self.next_position;
        let mut put = |doc: &mut DocumentMut, key: &str, tables: Vec<Table>| {
            if tables.is_empty() {
                return;
            }
            let mut aot = ArrayOfTables::new();
            for mut t in tables {
                t.set_position(Some(position));
                position += 1;
                aot.push(t);
            }
            doc.as_table_mut().insert(key, TomlItem::ArrayOfTables(aot));
        };
        put(&mut doc, "step", self.perturbed_steps(plan));
        let mut faults = self.faults.clone();
        for item in plan {
            if let Item::Fault(f) = item {
                faults.extend(f.tables());
            }
        }
        put(&mut doc, "fault", faults);
        put(&mut doc, "expect", self.expects.clone());
        doc.to_string()
    }

    /// The step tables after the plan's perturbations, in their new order.
    fn perturbed_steps(&self, plan: &[Item]) -> Vec<Table> {
        // (original index, time), in file order.
        let mut order: Vec<(usize, u64)> = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, (_, at))| (i, *at))
            .collect();
        for item in plan {
            let Item::Step(p) = item else { continue };
            let pos = |o: &[(usize, u64)], i: usize| o.iter().position(|(j, _)| *j == i);
            match *p {
                Perturb::DropStep { step } => order.retain(|(i, _)| *i != step),
                Perturb::DelayStep { step, by_ms } => {
                    if let Some(k) = pos(&order, step) {
                        order[k].1 += by_ms;
                    }
                }
                Perturb::SwapSteps { step } => {
                    if let (Some(a), Some(b)) = (pos(&order, step), pos(&order, step + 1)) {
                        let (ta, tb) = (order[a].1, order[b].1);
                        order[a].1 = tb;
                        order[b].1 = ta;
                        order.swap(a, b);
                    }
                }
            }
        }
        // Steps at one instant apply in file order: keep the new order stable by time.
        order.sort_by_key(|(_, at)| *at);
        order
            .into_iter()
            .map(|(i, at)| {
                let (mut t, orig) = self.steps[i].clone();
                if at != orig {
                    t["at"] = value(fmt_ms(at));
                }
                t
            })
            .collect()
    }
}

/// Removes the array of tables `key` from `root` and returns its tables.
fn take(root: &mut Table, key: &str) -> Vec<Table> {
    match root.remove(key) {
        Some(TomlItem::ArrayOfTables(a)) => a.into_iter().collect(),
        _ => vec![],
    }
}

/// A step's `at` in ms.
fn at_ms(t: &Table) -> Option<u64> {
    let v = t.get("at")?;
    if let Some(s) = v.as_str() {
        return u64::try_from(parse_duration(s).ok()?).ok();
    }
    v.as_integer()
        .and_then(|s| u64::try_from(s).ok())
        .map(|s| s * 1000)
}

/// Writes the fleet counts and expectation counts `--phones` scaled them to into the text.
fn bake_counts(doc: &mut DocumentMut, expects: &mut [Table], c: &Compiled) {
    if let Some(fleets) = doc
        .get_mut("fleet")
        .and_then(|f| f.as_array_of_tables_mut())
    {
        for (t, f) in fleets.iter_mut().zip(&c.spec.fleets) {
            t["count"] = value(i64::from(f.count));
        }
    }
    for (t, e) in expects.iter_mut().zip(&c.expectations) {
        let count = match e {
            Expectation::Phones { count, .. } | Expectation::CapfStatus { count, .. } => {
                Some(*count)
            }
            Expectation::Observation { count, .. } => *count,
            Expectation::NoInvariantViolation => None,
        };
        let (key, n) = match count {
            Some(Count::Exactly(n)) => ("count", n),
            Some(Count::AtLeast(n)) => ("at_least", n),
            Some(Count::AtMost(n)) => ("at_most", n),
            None => continue,
        };
        t[key] = value(n as i64);
    }
}

/// The largest document position of any table under `t`.
fn max_position(t: &Table) -> isize {
    let mut max = t.position().unwrap_or(0);
    for (_, item) in t.iter() {
        match item {
            TomlItem::Table(sub) => max = max.max(max_position(sub)),
            TomlItem::ArrayOfTables(a) => {
                for sub in a.iter() {
                    max = max.max(max_position(sub));
                }
            }
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::plan::{Fault, What};
    use crate::lang::parse_str;

    const TEXT: &str = include_str!("../../scenarios/explore/small_migration.toml");

    fn actions(text: &str) -> Vec<(String, String)> {
        let doc: DocumentMut = text.parse().unwrap();
        doc["step"]
            .as_array_of_tables()
            .unwrap()
            .iter()
            .map(|t| {
                let s = |k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                (s("action"), s("at"))
            })
            .collect()
    }

    #[test]
    fn no_plan_renders_the_same_scenario_with_its_comments() {
        let b = Base::new("s.toml", TEXT, None).unwrap();
        let text = b.render(&[]);
        assert!(text.starts_with("# A small working migration"));
        let again = parse_str("s.toml", &text).unwrap();
        assert_eq!(again.spec.events.len(), b.compiled.spec.events.len());
        assert_eq!(again.expectations.len(), 4);
        assert_eq!(b.step_names[5], "restart_service at 5 min");
    }

    #[test]
    fn perturbations_drop_swap_and_delay_steps() {
        let b = Base::new("s.toml", TEXT, None).unwrap();
        let plan = [
            Item::Step(Perturb::DropStep { step: 0 }),
            Item::Step(Perturb::SwapSteps { step: 2 }),
            Item::Step(Perturb::DelayStep {
                step: 5,
                by_ms: 240_000,
            }),
        ];
        let got = actions(&b.render(&plan));
        let want = [
            ("bulk_export", "2 min"),
            ("bulk_import", "3 min"),
            ("bulk_consolidate", "4 min"),
            ("bulk_import", "4 min"),
            ("set_option150", "6 min"),
            ("reset_phones", "7 min"),
            ("restart_service", "9 min"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, t)| (a.to_string(), t.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn faults_are_appended_and_phones_written_in() {
        let b = Base::new("s.toml", TEXT, Some(4)).unwrap();
        let skew = Item::Fault(Fault {
            what: What::ClockSkew {
                host: "lobby".into(),
                by_s: -400 * 86_400,
            },
            at_ms: 60_000,
            for_ms: 60_000,
        });
        let text = b.render(&[skew]);
        assert_eq!(text.matches("[[fault]]").count(), 2);
        assert!(text.contains("by = \"-400 days\"") && text.contains("by = \"400 days\""));
        let c = parse_str("s.toml", &text).unwrap();
        assert_eq!(c.spec.phone_count(), 4);
        assert!(text.contains("count = 4"));
        assert!(!text.contains("count = 20"));
    }
}
