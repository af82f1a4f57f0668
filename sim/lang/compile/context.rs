//! The compiler's context: the file being compiled (for `file:line:col` errors) and the
//! scenario's epoch; durations read against it.
//!
//! ```text
//!  span of a raw value ──Ctx::err──► ScenarioError "FILE:LINE:COL: what is wrong"
//!  S<Dur> ──Ctx::ms / signed_ms──► milliseconds (or the error at that value)
//! ```

use crate::lang::durations::parse_duration;
use crate::lang::raw::{Dur, S};
use crate::lang::{line_col, ScenarioError};
use cucmsim_core::WallTime;
use std::ops::Range;

/// What every check of the compiler reads: where errors point, and the epoch.
pub(in crate::lang) struct Ctx<'a> {
    pub(in crate::lang) file: &'a str,
    pub(in crate::lang) text: &'a str,
    /// The simulated wall clock at t = 0 (times like "Operation Completes By" are offsets).
    pub(in crate::lang) epoch: WallTime,
    /// The scenario's duration: steps, faults and expectations happen within it.
    pub(in crate::lang) duration_ms: u64,
}

/// A compiler result: the value, or the error at the offending value.
pub(in crate::lang) type R<T> = Result<T, ScenarioError>;

impl Ctx<'_> {
    pub(in crate::lang) fn err(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> ScenarioError {
        let (line, col) = line_col(self.text, span.start);
        ScenarioError {
            file: self.file.to_string(),
            line,
            col,
            message: message.into(),
        }
    }

    pub(in crate::lang) fn ms(&self, d: &S<Dur>) -> R<u64> {
        let v = self.signed_ms(d)?;
        u64::try_from(v).map_err(|_| self.err(d.span(), "a duration here cannot be negative"))
    }

    /// A time within the run (`at` of a step or fault, `by` of an expectation): not negative
    /// and not after `duration`.
    pub(in crate::lang) fn at(&self, d: &S<Dur>) -> R<u64> {
        let ms = self.ms(d)?;
        if ms > self.duration_ms {
            return Err(self.err(
                d.span(),
                format!(
                    "{} is after the end of the run (duration {}): nothing happens or is checked after it",
                    d.get_ref().as_written(),
                    crate::lang::durations::fmt_ms(self.duration_ms)
                ),
            ));
        }
        Ok(ms)
    }

    pub(in crate::lang) fn signed_ms(&self, d: &S<Dur>) -> R<i64> {
        match d.get_ref() {
            Dur::Secs(s) => s
                .checked_mul(1000)
                .ok_or_else(|| self.err(d.span(), "duration too large")),
            Dur::Text(t) => parse_duration(t).map_err(|m| self.err(d.span(), m)),
        }
    }
}
