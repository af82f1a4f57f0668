//! What `check` (and `run`, which checks first) refuses with exit 2 and `file:line:col`:
//! times after the end, a zero duration, unknown names, bad parameter values, MAC ranges that
//! overlap or wrap, periods too short for the run to end, epochs X.509 cannot date, unsafe
//! scenario names, files that are not regular or too large, non-UTF-8 bytes; and `--phones`
//! shares phones exactly and scales only counts of phones.

use super::support::{run, scratch};
use cucmsim::lang::compile::Overrides;
use cucmsim::lang::{parse_str, parse_with, Count, Expectation};

/// A small valid scenario; `extra` is appended, `meta` replaces the [scenario] body.
fn scenario(meta: &str, extra: &str) -> String {
    format!(
        "[scenario]\n{meta}\n\n[[cluster]]\nname = \"a\"\nversion = \"12.5\"\n  [[cluster.node]]\n  name = \"a-pub\"\n\n\
         [[fleet]]\nname = \"f1\"\ncount = 10\nmac_start = \"001122000000\"\ncluster = \"a\"\n\n\
         [[fleet]]\nname = \"f2\"\ncount = 30\nmac_start = \"001122100000\"\ncluster = \"a\"\n\n{extra}"
    )
}

const META: &str = "name = \"t\"\nduration = \"10 min\"";

/// The error of `text`, as `check` prints it.
fn refused(text: &str) -> String {
    match parse_str("t.toml", text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// `text` is refused at the value that follows the last occurrence of `at` (e.g. `"at = "`),
/// with a message containing `needle`.
fn assert_refused(text: &str, at: &str, needle: &str) {
    let e = refused(text);
    let offset = text
        .rfind(at)
        .unwrap_or_else(|| panic!("{at:?} not in text"))
        + at.len();
    let (line, col) = cucmsim::lang::line_col(text, offset);
    assert!(
        e.starts_with(&format!("t.toml:{line}:{col}: ")),
        "want {line}:{col}: {e}"
    );
    assert!(e.contains(needle), "{e}");
}

#[test]
fn times_after_the_end_and_a_zero_duration() {
    let step = "[[step]]\nat = \"999999 days\"\naction = \"drs_backup\"\ncluster = \"a\"\n";
    assert_refused(
        &scenario(META, step),
        "at = ",
        "after the end of the run (duration 10 min)",
    );
    let expect =
        "[[expect]]\nkind = \"phones\"\nby = \"11 min\"\nstate = \"Registered\"\ncount = 40\n";
    assert_refused(&scenario(META, expect), "by = ", "after the end");
    let fault = "[[fault]]\nkind = \"node_crash\"\ncluster = \"a\"\nnode = \"a-pub\"\nat = \"1 h\"\nfor = \"1 min\"\n";
    assert_refused(&scenario(META, fault), "at = ", "after the end");
    assert_refused(
        &scenario("name = \"t\"\nduration = \"0 s\"", ""),
        "duration = ",
        "longer than 0",
    );
    assert_refused(
        &scenario("name = \"t\"\nduration = \"8000 days\"", ""),
        "duration = ",
        "7300 days",
    );
}

#[test]
fn unknown_names_and_values() {
    let e = "[[expect]]\nkind = \"observation\"\nwhat = \"tls_failur\"\nhappens = false\n";
    assert_refused(&scenario(META, e), "what = ", "did you mean `tls_failure`?");
    let e = "[[expect]]\nkind = \"phones\"\nby = \"5 min\"\nstate = \"Registerd\"\ncount = 1\n";
    assert_refused(&scenario(META, e), "state = ", "did you mean `Registered`?");
    let s = "[[step]]\nat = \"1 min\"\naction = \"set_enterprise_parameter\"\ncluster = \"a\"\nname = \"rollback_to_pre_8\"\nvalue = \"yes please\"\n";
    assert_refused(&scenario(META, s), "value = ", "expected true or false");
    let s = "[[step]]\nat = \"1 min\"\naction = \"set_enterprise_parameter\"\ncluster = \"a\"\nname = \"phone_interaction_on_cert_update\"\nvalue = \"sometimes\"\n";
    assert_refused(
        &scenario(META, s),
        "value = ",
        "\"automatic\" or \"manual\"",
    );
    let e =
        "[[expect]]\nkind = \"observation\"\nwhat = \"registered\"\nhappens = false\ncount = 3\n";
    assert_refused(
        &scenario(META, e),
        "count = ",
        "happens = false means never",
    );
}

#[test]
fn mac_ranges_that_overlap_or_wrap() {
    let text = scenario(META, "").replace("001122100000", "001122000005");
    assert_refused(&text, "mac_start = ", "overlaps fleet \"f1\"");
    let text = scenario(META, "").replace("001122100000", "FFFFFFFFFFF0");
    assert_refused(
        &text,
        "mac_start = ",
        "run past FFFFFFFFFFFF: start at FFFFFFFFFFE2 or lower",
    );
}

#[test]
fn periods_too_short_for_the_run_to_end() {
    let text = scenario(META, "").replace(
        "cluster = \"a\"\n\n[[fleet]]\nname = \"f2\"",
        "cluster = \"a\"\nkeepalive = \"1 ms\"\n\n[[fleet]]\nname = \"f2\"",
    );
    assert_refused(&text, "keepalive = ", "keepalive 1 ms is shorter than 1 s");
    let week = "name = \"t\"\nduration = \"7000 days\"";
    let text = scenario(week, "").replace(
        "cluster = \"a\"\n\n[[fleet]]\nname = \"f2\"",
        "cluster = \"a\"\nkeepalive = \"1 s\"\n\n[[fleet]]\nname = \"f2\"",
    );
    let e = refused(&text);
    assert!(
        e.contains("would plan 6048000000 periodic events") && e.contains("limit of 20000000"),
        "{e}"
    );
}

#[test]
fn epochs_x509_cannot_date() {
    for year in ["0001", "1900", "9999"] {
        let meta = format!("{META}\nepoch = \"{year}-06-01T00:00:00Z\"");
        assert_refused(&scenario(&meta, ""), "epoch = ", "out of range");
    }
    let ok = format!("{META}\nepoch = 2030-01-01T00:00:00Z");
    parse_str("t.toml", &scenario(&ok, "")).expect("a bare TOML date-time is an epoch");
    let ok = format!("{META}\nepoch = \"2030-01-01\"");
    parse_str("t.toml", &scenario(&ok, "")).expect("a date is an epoch");
}

#[test]
fn unsafe_scenario_names() {
    for name in ["../../x", "/etc/x", ".hidden", "a b", ""] {
        let meta = format!("name = {name:?}\nduration = \"10 min\"");
        let e = refused(&scenario(&meta, ""));
        assert!(
            e.starts_with("t.toml:2:8: ") && e.contains("safe directory name") || name.is_empty(),
            "{e}"
        );
    }
    let long = "x".repeat(101);
    let meta = format!("name = \"{long}\"\nduration = \"10 min\"");
    assert!(refused(&scenario(&meta, "")).contains("not a safe directory name"));
}

#[test]
fn no_rust_type_names_in_messages() {
    let e = refused(&scenario("name = \"t\"\nduration = 1.5", ""));
    assert!(
        e.contains("expected a duration such as") && !e.contains("untagged"),
        "{e}"
    );
    let e = refused(&scenario(
        "name = \"t\"\nduration = \"10 min\"\nepoch = 5",
        "",
    ));
    assert!(
        e.contains("expected a date and time") && !e.contains("map"),
        "{e}"
    );
    let e = refused(&scenario(META, "").replace("count = 10", "count = \"ten\""));
    assert!(
        e.contains("expected a whole number") && !e.contains("i64"),
        "{e}"
    );
}

#[test]
fn files_that_are_not_regular_too_large_or_not_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a directory"), "{err}");
    let big = vec![b'#'; 5 * 1024 * 1024];
    let (_d, path) = scratch("big.toml", &big);
    let (code, _, err) = run(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("4 MiB"), "{err}");
    let mut text = scenario(META, "").into_bytes();
    text.splice(10..10, [b'x', 0xFF]);
    let (_d, path) = scratch("bad.toml", &text);
    let (code, _, err) = run(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.toml:1:12: byte 0xFF is not UTF-8"),
        "{err}"
    );
    #[cfg(unix)]
    {
        let fifo = dir.path().join("fifo.toml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let (code, _, err) = run(&["check", fifo.to_str().unwrap()]);
            assert_eq!(code, 2);
            assert!(err.contains("not a regular file"), "{err}");
        }
    }
}

#[test]
fn phones_argument_bounds() {
    for n in ["0", "100000000"] {
        let (code, _, err) = run(&["run", "--phones", n, "--quiet"]);
        assert_eq!(code, 2, "--phones {n}: {err}");
        assert!(err.contains("1..=1000000"), "{err}");
    }
    let (code, _, err) = run(&[
        "bench",
        "tvs",
        "--rate",
        "1000000000",
        "--calibrate",
        "0",
        "--service-us",
        "100",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the limit is 10000000"), "{err}");
}

fn phones_of(text: &str, total: u32) -> Vec<u32> {
    let o = Overrides {
        phones: Some(total),
        ..Overrides::default()
    };
    let c = parse_with("t.toml", text, o).unwrap_or_else(|e| panic!("{e}"));
    c.spec.fleets.iter().map(|f| f.count).collect()
}

#[test]
fn phones_gives_exactly_the_total() {
    let text = scenario(META, "");
    assert_eq!(phones_of(&text, 1), vec![0, 1]);
    assert_eq!(phones_of(&text, 2), vec![1, 1]);
    assert_eq!(phones_of(&text, 3), vec![1, 2]);
    assert_eq!(phones_of(&text, 7), vec![2, 5]);
    assert_eq!(phones_of(&text, 400), vec![100, 300]);
}

#[test]
fn phones_scales_counts_of_phones_only() {
    let e = "[[expect]]\nkind = \"observation\"\nwhat = \"certificate_regenerated\"\ncount = 6\n\n\
             [[expect]]\nkind = \"observation\"\nwhat = \"tls_failure\"\nat_least = 20\n\n\
             [[expect]]\nkind = \"phones\"\nby = \"9 min\"\nstate = \"Registered\"\nfleet = \"f1\"\ncount = 10\n\n\
             [[expect]]\nkind = \"observation\"\nwhat = \"registered\"\ncount = 4\nabsolute = true\n";
    let o = Overrides {
        phones: Some(400),
        ..Overrides::default()
    };
    let c = parse_with("t.toml", &scenario(META, e), o).unwrap();
    let counts: Vec<Option<Count>> = c
        .expectations
        .iter()
        .map(|e| match e {
            Expectation::Observation { count, .. } => *count,
            Expectation::Phones { count, .. } => Some(*count),
            _ => None,
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            Some(Count::Exactly(6)),
            Some(Count::AtLeast(200)),
            Some(Count::Exactly(100)),
            Some(Count::Exactly(4))
        ]
    );
}

#[test]
fn f05_at_400_phones_keeps_its_six_regenerations() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/catalogue/f05_cm_tvs_regenerated_together.toml");
    let o = Overrides {
        phones: Some(400),
        ..Overrides::default()
    };
    let c = cucmsim::lang::load_with(Some(&path), o).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.spec.phone_count(), 400);
    let regenerated = c.expectations.iter().find_map(|e| match e {
        Expectation::Observation { what, count, .. }
            if what.name() == "certificate_regenerated" =>
        {
            *count
        }
        _ => None,
    });
    assert_eq!(regenerated, Some(Count::Exactly(6)));
}

#[test]
fn inspect_messages_blame_the_right_file_in_words() {
    let (_d, junk) = scratch("junk.der", b"garbage that is not DER");
    let (code, _, err) = run(&["inspect", junk.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(!err.contains("NomError") && !err.contains("Der("), "{err}");
    let tftp = super::support::demo_dir().join("tftp");
    let host = std::fs::read_dir(&tftp)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let sgn = std::fs::read_dir(&host)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".cnf.xml.sgn"))
        .expect("a signed config in the demo");
    let (code, _, err) = run(&[
        "inspect",
        sgn.to_str().unwrap(),
        "--trust",
        junk.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    let blamed = format!("cucmsim inspect: --trust {}: ", junk.display());
    assert!(err.starts_with(&blamed), "{err}");
    assert!(!err.contains("NomError") && !err.contains("Der("), "{err}");
}

#[test]
fn an_event_far_after_the_end_does_not_spin() {
    // `check` refuses it; the engine must not spin on it either (it was 72 million progress
    // ticks for a 10-minute run).
    let mut c = parse_str("t.toml", &scenario(META, "")).unwrap();
    c.spec.fleets.iter_mut().for_each(|f| f.count = 1);
    c.spec.fleets[1].first = 1;
    let far = 999_999 * 86_400_000;
    c.spec.events.push((
        far,
        cucmsim::engine::Event::ResetCluster {
            cluster: "a".into(),
        },
    ));
    let started = std::time::Instant::now();
    cucmsim::reports::runner::execute(&c, None).unwrap();
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}
