//! Durations as the scenario language writes them, and back: `"15 min"`, `"250 ms"`,
//! `"1 h 30 min"`, `"-3 days"` (milliseconds), service times `"0.2 ms"`, `"200 us"`
//! (microseconds). Pure text functions: the compiler adds the position of a bad value.
//!
//! ```text
//!  "1 h 30 min" ──parse_duration──► 5_400_000 ms ──fmt_ms──► "1 h 30 min"
//!  "200 us"     ──parse_duration_us──► 200 µs
//! ```

/// Parses `"15 min"`, `"250 ms"`, `"1 h 30 min"`, `"-3 days"` into milliseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let bad = || {
        format!("bad duration {text:?}: expected e.g. \"250 ms\", \"30 s\", \"15 min\", \"2 h\", \"7 days\"")
    };
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, t),
    };
    let mut total: i64 = 0;
    let mut rest = t;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let scale: i64 = match unit {
            "ms" => 1,
            "" | "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
            "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
            "h" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            _ => return Err(bad()),
        };
        total = n
            .checked_mul(scale)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        rest = rest[unit_len..].trim_start();
    }
    Ok(if neg { -total } else { total })
}

/// Parses a service time in µs: `"2 ms"`, `"0.2 ms"`, `"200 us"` (or `µs`), `"1.5 s"`;
/// decimals allowed, and the units of [`parse_duration`].
pub fn parse_duration_us(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "bad service time {text:?}: expected e.g. \"2 ms\", \"0.2 ms\", \"200 us\", \"1.5 s\""
        )
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim());
    if number.is_empty() || number.matches('.').count() > 1 {
        return Err(bad());
    }
    let n: f64 = number.parse().map_err(|_| bad())?;
    let scale: f64 = match unit {
        "us" | "µs" => 1.0,
        "ms" => 1e3,
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1e6,
        "m" | "min" | "mins" | "minute" | "minutes" => 60e6,
        "h" | "hour" | "hours" => 3_600e6,
        _ => return Err(bad()),
    };
    let us = (n * scale).round();
    if !(0.0..=3_600e6).contains(&us) {
        return Err(format!(
            "service time {text:?} is out of range (at most 1 h)"
        ));
    }
    Ok(us as u64)
}

/// `90 s`, `15 min`, `2 h` — the shortest exact form (one [`parse_duration`] reads back).
pub fn fmt_ms(ms: u64) -> String {
    if ms == 0 {
        return "0 s".into();
    }
    // As a person writes it: `1 h 15 min`, `2 days 3 h`, `1 min 30 s`, `1 s 500 ms` (and
    // `parse_duration` reads it back).
    let parts = [
        (86_400_000, "days"),
        (3_600_000, "h"),
        (60_000, "min"),
        (1_000, "s"),
        (1, "ms"),
    ];
    let mut rest = ms;
    let mut out: Vec<String> = vec![];
    for (unit, name) in parts {
        let n = rest / unit;
        rest %= unit;
        if n > 0 {
            let name = if name == "days" && n == 1 {
                "day"
            } else {
                name
            };
            out.push(format!("{n} {name}"));
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_a_person_writes_them_and_read_back() {
        for (ms, text) in [
            (0, "0 s"),
            (250, "250 ms"),
            (90_000, "1 min 30 s"),
            (4_500_000, "1 h 15 min"),
            (86_400_000, "1 day"),
            (7 * 86_400_000 + 3_600_000, "7 days 1 h"),
            (1_500, "1 s 500 ms"),
        ] {
            assert_eq!(fmt_ms(ms), text);
            assert_eq!(parse_duration(text).unwrap(), ms as i64, "{text}");
        }
    }
}
