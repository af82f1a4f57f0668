//! Parser messages for people: serde and `toml` name Rust types (`i64`, `struct Fleet`,
//! `sequence`, `map`); a scenario author reads TOML words (a whole number, a table, an
//! array) instead.
//!
//! ```text
//!  "invalid type: string \"ten\", expected i64" ──humanize──► "wrong type: the text \"ten\", expected a whole number"
//! ```

/// Rust and serde words, and the TOML words said instead.
const WORDS: [(&str, &str); 18] = [
    ("invalid type: ", "wrong type: "),
    ("invalid value: ", "wrong value: "),
    ("expected i64", "expected a whole number"),
    ("expected i32", "expected a whole number"),
    ("expected u64", "expected a whole number, 0 or more"),
    ("expected u32", "expected a whole number, 0 or more"),
    ("expected u16", "expected a whole number, 0 to 65535"),
    ("expected u8", "expected a whole number, 0 to 255"),
    ("expected usize", "expected a whole number, 0 or more"),
    ("expected f64", "expected a number"),
    ("expected a sequence", "expected an array"),
    ("expected a map", "expected a table"),
    ("expected a string", "expected a quoted text"),
    ("expected a boolean", "expected true or false"),
    ("sequence,", "an array,"),
    ("map,", "a table,"),
    ("string \"", "the text \""),
    ("integer `", "the whole number `"),
];

/// The parser's message in TOML words, on one line.
pub(crate) fn humanize(message: &str) -> String {
    let mut m = message.trim().replace('\n', " ");
    for (from, to) in WORDS {
        m = m.replace(from, to);
    }
    replace_structs(&m)
}

/// `struct Fleet` / `enum Dur` → `a table` / `a value`.
fn replace_structs(m: &str) -> String {
    let mut out = String::with_capacity(m.len());
    let mut rest = m;
    loop {
        let hit = ["struct ", "enum "]
            .iter()
            .filter_map(|w| rest.find(w).map(|i| (i, *w)))
            .min();
        let Some((i, word)) = hit else {
            out.push_str(rest);
            return out;
        };
        let after = &rest[i + word.len()..];
        let ident = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if ident == 0 || !after.starts_with(|c: char| c.is_ascii_uppercase()) {
            out.push_str(&rest[..i + word.len()]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..i]);
        out.push_str(if word == "struct " {
            "a table"
        } else {
            "a value"
        });
        rest = &after[ident..];
    }
}

#[cfg(test)]
mod tests {
    use super::humanize;

    #[test]
    fn rust_words_become_toml_words() {
        assert_eq!(
            humanize("invalid type: string \"ten\", expected i64"),
            "wrong type: the text \"ten\", expected a whole number"
        );
        assert_eq!(
            humanize("invalid type: integer `3`, expected struct Meta"),
            "wrong type: the whole number `3`, expected a table"
        );
        assert_eq!(
            humanize("invalid type: map, expected a sequence"),
            "wrong type: a table, expected an array"
        );
    }
}
