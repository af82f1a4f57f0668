//! The scenario language: TOML files describing clusters, phone fleets, operator steps,
//! faults and expectations (reference: `scenarios/README.md`).
//!
//! ```text
//!  text ──toml + serde (deny_unknown_fields)──► raw::File ──compile::compile──► compiled::Compiled
//!        every error: "FILE:LINE:COL: what is wrong" (exit 2), never a panic
//! ```
//!
//! `raw` is the file as serde reads it, `compile/` checks and resolves it (topology, steps,
//! faults, expectations), `compiled` is the result, `durations` the duration syntax.

pub mod compile;
pub mod compiled;
pub mod durations;
pub mod raw;

pub use compiled::{Compiled, Count, Expectation};
pub use durations::fmt_ms;

use std::fmt;
use std::path::{Path, PathBuf};

/// The scenario `cucmsim run` runs when given no file.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.toml");
/// How the embedded default is named in messages and reproduce commands.
pub const DEFAULT_NAME: &str = "scenarios/default.toml";

/// A scenario error with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    /// 1-based; 0 when the error has no position (an unreadable file).
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.col, self.message
            )
        }
    }
}

impl std::error::Error for ScenarioError {}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Parses and checks a scenario from text; `file` names it in errors.
pub fn parse_str(file: &str, text: &str) -> Result<Compiled, ScenarioError> {
    parse_with(file, text, compile::Overrides::default())
}

/// Parses and checks a scenario from text with command-line overrides.
pub fn parse_with(
    file: &str,
    text: &str,
    o: compile::Overrides,
) -> Result<Compiled, ScenarioError> {
    let raw: raw::File = toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map_or((1, 1), |s| line_col(text, s.start));
        let message = e.message().trim().replace('\n', " ");
        ScenarioError {
            file: file.to_string(),
            line,
            col,
            message,
        }
    })?;
    compile::compile_with(file, text, raw, o)
}

/// Reads, parses and checks a scenario file.
pub fn load(path: &Path) -> Result<Compiled, ScenarioError> {
    load_with(Some(path), compile::Overrides::default())
}

/// Reads, parses and checks a scenario file (no file: the bundled default) with command-line
/// overrides.
pub fn load_with(path: Option<&Path>, o: compile::Overrides) -> Result<Compiled, ScenarioError> {
    let (name, text) = match path {
        None => (DEFAULT_NAME.to_string(), DEFAULT_SCENARIO.to_string()),
        Some(p) => {
            let name = p.display().to_string();
            let text = std::fs::read_to_string(p).map_err(|e| ScenarioError {
                file: name.clone(),
                line: 0,
                col: 0,
                message: format!("cannot read: {e}"),
            })?;
            (name, text)
        }
    };
    let mut compiled = parse_with(&name, &text, o)?;
    compiled.source = path.map_or_else(|| PathBuf::from(DEFAULT_NAME), Path::to_path_buf);
    Ok(compiled)
}

/// `"; did you mean `x`?"` for the known name closest to `word` (at most 3 edits away), or
/// nothing.
pub(crate) fn suggest<'a>(word: &str, known: impl Iterator<Item = &'a str>) -> String {
    let best = known
        .map(|k| (edit_distance(word, k), k))
        .filter(|(d, _)| *d <= 3)
        .min();
    match best {
        Some((_, k)) => format!("; did you mean `{k}`?"),
        None => String::new(),
    }
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}
