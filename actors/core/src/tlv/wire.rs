//! Byte-level TLV primitives: a bounds-checked reader that reports offsets (a [`ParseError`]
//! names the byte offset and what was expected there), and writers. Nothing here can panic on
//! any input.

use std::fmt;

/// A parse failure: where, and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub expected: String,
}

impl ParseError {
    pub fn new(offset: usize, expected: impl Into<String>) -> Self {
        ParseError {
            offset,
            expected: expected.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: expected {}", self.offset, self.expected)
    }
}

impl std::error::Error for ParseError {}

/// A TLV read from the buffer.
#[derive(Clone, Copy, Debug)]
pub struct Tlv<'a> {
    pub tag: u8,
    /// Offset of the tag byte.
    pub start: usize,
    /// Offset just past the value.
    pub end: usize,
    pub value: &'a [u8],
}

/// Reads `tag len16 value` at `pos`, requiring it to end no later than `limit`.
pub fn read_tlv<'a>(
    buf: &'a [u8],
    pos: usize,
    limit: usize,
    context: &str,
) -> Result<Tlv<'a>, ParseError> {
    let limit = limit.min(buf.len());
    if pos + 3 > limit {
        return Err(ParseError::new(
            pos,
            format!(
                "a 3-byte tag and length in {context}, found {} bytes",
                limit.saturating_sub(pos)
            ),
        ));
    }
    let tag = buf[pos];
    let len = u16::from_be_bytes([buf[pos + 1], buf[pos + 2]]) as usize;
    let end = pos + 3 + len;
    if end > limit {
        return Err(ParseError::new(
            pos,
            format!(
                "tag {tag} with {len} value bytes inside {context}, but only {} remain",
                limit - pos - 3
            ),
        ));
    }
    Ok(Tlv {
        tag,
        start: pos,
        end,
        value: &buf[pos + 3..end],
    })
}

/// Appends `tag len16 value`. Values over 65,535 bytes cannot be encoded; callers check.
pub fn put_tlv(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

/// A NUL-terminated string value.
pub fn cstr(text: &str) -> Vec<u8> {
    let mut v = text.as_bytes().to_vec();
    v.push(0);
    v
}

/// Reads a NUL-terminated (or unterminated) string value, lossily.
pub fn read_cstr(value: &[u8]) -> String {
    let trimmed = match value.iter().position(|&b| b == 0) {
        Some(i) => &value[..i],
        None => value,
    };
    String::from_utf8_lossy(trimmed).into_owned()
}
