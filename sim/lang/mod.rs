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
mod messages;
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
        ScenarioError {
            file: file.to_string(),
            line,
            col,
            message: messages::humanize(e.message()),
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
        Some(p) => (p.display().to_string(), read_scenario(p)?),
    };
    let mut compiled = parse_with(&name, &text, o)?;
    compiled.source = path.map_or_else(|| PathBuf::from(DEFAULT_NAME), Path::to_path_buf);
    Ok(compiled)
}

/// The largest scenario file read: 4 MiB (the biggest bundled one is a few KiB).
pub const MAX_SCENARIO_BYTES: u64 = 4 * 1024 * 1024;

/// A scenario file's text: a regular file (not a FIFO, device or directory, which could
/// block or never end), at most [`MAX_SCENARIO_BYTES`], valid UTF-8 (else the position of
/// the first bad byte).
pub fn read_scenario(p: &Path) -> Result<String, ScenarioError> {
    use std::io::Read;
    let name = p.display().to_string();
    let fail = |line: usize, col: usize, message: String| ScenarioError {
        file: name.clone(),
        line,
        col,
        message,
    };
    let meta = std::fs::metadata(p).map_err(|e| fail(0, 0, format!("cannot read: {e}")))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(fail(
            0,
            0,
            format!("cannot read: {what} (a scenario is a .toml file)"),
        ));
    }
    let too_big = || {
        fail(
            0,
            0,
            format!(
                "is larger than the limit of {MAX_SCENARIO_BYTES} bytes (4 MiB) for a scenario"
            ),
        )
    };
    if meta.len() > MAX_SCENARIO_BYTES {
        return Err(too_big());
    }
    let mut bytes = vec![];
    std::fs::File::open(p)
        .and_then(|f| f.take(MAX_SCENARIO_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(0, 0, format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(&e.as_bytes()[..good]).into_owned();
        let (line, col) = line_col(&text, good);
        fail(
            line,
            col,
            format!(
                "byte 0x{:02X} is not UTF-8 text: save the scenario as UTF-8",
                e.as_bytes()[good]
            ),
        )
    })
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
