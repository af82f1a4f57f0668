//! Shrinking a failing plan to a small one that fails the same way (same invariant, or same
//! expectation). First ddmin over the plan's items: remove halves, then quarters, and so on
//! down to single items, starting over at the same granularity after every removal that
//! keeps the failure. Then a smaller fleet (halved while the failure stays). Then each
//! remaining item is simplified: windows shorter and earlier, delays smaller. A step is
//! accepted only if the case still shows the failure; the whole is bounded by runs and time.
//!
//! ```text
//!  plan (n items) ──ddmin: drop 1/2, 1/4, …, 1/n chunks──► fewer items
//!                 ──phones / 2 while it fails──────────► smaller fleet
//!                 ──per item: for → 1 slot, for / 2; at → 0, at / 2, at − 1 slot──► simpler items
//! ```

use super::base::Base;
use super::plan::{Fault, Item, Perturb};
use std::time::Instant;

/// How much shrinking may cost.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub max_runs: u32,
    pub deadline: Instant,
}

/// A shrunk plan and what shrinking cost.
#[derive(Clone)]
pub struct Shrunk {
    pub plan: Vec<Item>,
    pub base: Base,
    /// Cases run while shrinking.
    pub runs: u32,
    /// Of those, the steps accepted (each made the plan smaller or simpler).
    pub accepted: u32,
    pub elapsed_s: f64,
}

/// Whether a plan over a base still shows the failure (`Err`: explore's own error).
pub type Reproduces<'a> = dyn FnMut(&Base, &[Item]) -> Result<bool, String> + 'a;

struct Shrinker<'a, 'b> {
    test: &'a mut Reproduces<'b>,
    budget: Budget,
    runs: u32,
    accepted: u32,
}

impl Shrinker<'_, '_> {
    fn spent(&self) -> bool {
        self.runs >= self.budget.max_runs || Instant::now() >= self.budget.deadline
    }

    /// Runs a candidate; counts it, and an acceptance.
    fn try_it(&mut self, base: &Base, plan: &[Item]) -> Result<bool, String> {
        if self.spent() {
            return Ok(false);
        }
        self.runs += 1;
        let ok = (self.test)(base, plan)?;
        if ok {
            self.accepted += 1;
        }
        Ok(ok)
    }

    /// ddmin by complements: remove chunks of 1/n of the plan.
    fn ddmin(&mut self, base: &Base, mut plan: Vec<Item>) -> Result<Vec<Item>, String> {
        let mut n = 2usize;
        while plan.len() > 1 && !self.spent() {
            let chunk = plan.len().div_ceil(n);
            let mut removed = false;
            for start in (0..plan.len()).step_by(chunk) {
                let candidate: Vec<Item> = plan
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i < start || *i >= start + chunk)
                    .map(|(_, it)| it.clone())
                    .collect();
                if self.try_it(base, &candidate)? {
                    plan = candidate;
                    removed = true;
                    break;
                }
            }
            if removed {
                n = n.saturating_sub(1).max(2);
            } else if n >= plan.len() {
                break;
            } else {
                n = (n * 2).min(plan.len());
            }
        }
        Ok(plan)
    }

    /// Halves the fleet while the failure stays.
    fn fleet(&mut self, mut base: Base, plan: &[Item]) -> Result<Base, String> {
        while base.phones > 1 && !self.spent() {
            let smaller = base.with_phones(base.phones / 2)?;
            if smaller.phones >= base.phones || !self.try_it(&smaller, plan)? {
                break;
            }
            base = smaller;
        }
        Ok(base)
    }

    /// Simplifies each item in turn until none of its candidates keeps the failure.
    fn simplify(
        &mut self,
        base: &Base,
        mut plan: Vec<Item>,
        grid: u64,
    ) -> Result<Vec<Item>, String> {
        for i in 0..plan.len() {
            'item: loop {
                for candidate in simpler(&plan[i], grid) {
                    let mut next = plan.clone();
                    next[i] = candidate;
                    if self.try_it(base, &next)? {
                        plan = next;
                        continue 'item;
                    }
                    if self.spent() {
                        return Ok(plan);
                    }
                }
                break;
            }
        }
        Ok(plan)
    }
}

/// Shrinks `plan` (which fails over `base`) within `budget`; `grid` is the time grid (ms).
pub fn shrink(
    base: &Base,
    plan: Vec<Item>,
    grid: u64,
    budget: Budget,
    test: &mut Reproduces<'_>,
) -> Result<Shrunk, String> {
    let started = Instant::now();
    let mut s = Shrinker {
        test,
        budget,
        runs: 0,
        accepted: 0,
    };
    let plan = s.ddmin(base, plan)?;
    let base = s.fleet(base.clone(), &plan)?;
    let plan = s.simplify(&base, plan, grid)?;
    Ok(Shrunk {
        plan,
        base,
        runs: s.runs,
        accepted: s.accepted,
        elapsed_s: started.elapsed().as_secs_f64(),
    })
}

/// Simpler versions of one item, the boldest first: a shorter window, an earlier one, a
/// smaller step delay. Each stays on the grid and inside the original window's end.
fn simpler(item: &Item, grid: u64) -> Vec<Item> {
    let grid = grid.max(1);
    let floor = |ms: u64| ms / grid * grid;
    match item {
        Item::Fault(f) => {
            let mut out = vec![];
            let mut push = |at_ms: u64, for_ms: u64| {
                let c = Fault {
                    what: f.what.clone(),
                    at_ms,
                    for_ms,
                };
                if (at_ms, for_ms) != (f.at_ms, f.for_ms) && !out.contains(&c) {
                    out.push(c);
                }
            };
            if f.for_ms > grid {
                push(f.at_ms, grid);
                push(f.at_ms, floor(f.for_ms / 2).max(grid));
            }
            if f.at_ms > 0 {
                push(0, f.for_ms);
                push(floor(f.at_ms / 2), f.for_ms);
                push(f.at_ms.saturating_sub(grid), f.for_ms);
            }
            out.into_iter().map(Item::Fault).collect()
        }
        Item::Step(Perturb::DelayStep { step, by_ms }) if *by_ms > grid => [grid, floor(by_ms / 2)]
            .into_iter()
            .filter(|d| *d >= grid && d != by_ms)
            .map(|by_ms| Item::Step(Perturb::DelayStep { step: *step, by_ms }))
            .collect(),
        Item::Step(_) => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::plan::What;
    use std::time::Duration;

    fn base() -> Base {
        let text = include_str!("../../scenarios/explore/small_migration.toml");
        Base::new("small_migration.toml", text, None).expect("valid")
    }

    fn loss(at_ms: u64) -> Item {
        Item::Fault(Fault {
            what: What::Loss {
                rate: 1.0,
                between: None,
            },
            at_ms,
            for_ms: 120_000,
        })
    }

    fn budget() -> Budget {
        Budget {
            max_runs: 500,
            deadline: Instant::now() + Duration::from_secs(60),
        }
    }

    #[test]
    fn ddmin_keeps_the_two_items_that_fail_together() {
        let plan: Vec<Item> = (0..8).map(|i| loss(i * 30_000)).collect();
        let culprits = [loss(60_000), Item::Step(Perturb::DropStep { step: 5 })];
        let mut plan = plan;
        plan.insert(5, culprits[1].clone());
        let mut test = |_: &Base, p: &[Item]| -> Result<bool, String> {
            Ok(culprits.iter().all(|c| p.contains(c)))
        };
        let s = shrink(&base(), plan, 30_000, budget(), &mut test).unwrap();
        assert_eq!(s.plan.len(), 2);
        assert!(s.plan.contains(&culprits[1]));
        // The fleet went down to one phone (the predicate ignores it).
        assert_eq!(s.base.phones, 1);
        assert!(s.accepted > 0 && s.runs >= s.accepted);
    }

    #[test]
    fn windows_get_shorter_and_earlier_while_the_failure_stays() {
        let mut test = |_: &Base, p: &[Item]| -> Result<bool, String> {
            // Fails while the loss covers 3 min.
            Ok(p.iter().any(|i| {
                matches!(i, Item::Fault(f) if f.at_ms <= 180_000 && f.at_ms + f.for_ms > 180_000)
            }))
        };
        let start = vec![Item::Fault(Fault {
            what: What::Loss {
                rate: 1.0,
                between: None,
            },
            at_ms: 150_000,
            for_ms: 300_000,
        })];
        let s = shrink(&base(), start, 30_000, budget(), &mut test).unwrap();
        let Item::Fault(f) = &s.plan[0] else {
            panic!("a fault")
        };
        assert_eq!((f.at_ms, f.for_ms), (150_000, 60_000));
    }

    #[test]
    fn shrinking_stops_at_its_run_budget() {
        let plan: Vec<Item> = (0..8).map(|i| loss(i * 30_000)).collect();
        let mut test = |_: &Base, _: &[Item]| -> Result<bool, String> { Ok(false) };
        let b = Budget {
            max_runs: 3,
            ..budget()
        };
        let s = shrink(&base(), plan, 30_000, b, &mut test).unwrap();
        assert_eq!(s.runs, 3);
        assert_eq!(s.plan.len(), 8);
    }
}
