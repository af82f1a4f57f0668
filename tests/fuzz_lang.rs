//! A fuzzer for the scenario language on stable Rust (the cargo-fuzz targets
//! `fuzz/fuzz_targets/scenario_check.rs` and `steps_compile.rs` do the same under libFuzzer):
//! mutated bundled scenarios through the whole text → compile path (`check`), and random
//! `[[step]]` tables through the steps' compiler. Any panic is a failure; every input must
//! give a scenario or a positioned error.
//!
//! The default test runs a few thousand inputs (seconds). For a long run:
//! `CUCMSIM_FUZZ_SECS=300 cargo test --test tests fuzz_lang -- --ignored --nocapture`.

use cucmsim::lang::compile::Overrides;
use cucmsim::lang::parse_with;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const ACTIONS: &[&str] = &[
    "bulk_export",
    "bulk_consolidate",
    "bulk_import",
    "upload_certificate",
    "set_option150",
    "reset_phones",
    "restart_service",
    "set_enterprise_parameter",
    "regenerate_certificate",
    "itl_reset",
    "ctl_update",
    "drs_backup",
    "drs_restore",
    "delete_itl",
    "capf_operation",
    "capf_set_keepalive",
    "capf_offline_sign",
    "capf_cli",
    "certificate_monitor",
    "https_service",
    "tftp_https",
    "ctl_set_cluster",
    "imp_regenerate",
    "imp_restart_services",
    "presence_ha",
    "sip_federation",
    "ipsec_trust_check",
    "delete_trust_certificate",
    "jabber_install_certificate",
    "jabber_login",
    "multi_san_csr",
    "upload_ca_certificate",
    "upload_multi_san",
    "multi_san_restart_services",
    "sftp_remove",
];

const KEYS: &[&str] = &[
    "cluster",
    "node",
    "fleet",
    "types",
    "store",
    "certificate",
    "tftp",
    "service",
    "name",
    "value",
    "type",
    "over",
    "operation",
    "auth_mode",
    "auth_string",
    "key_order",
    "rsa_key_size",
    "ec_key_size",
    "completes_by",
    "security_profile",
    "apply_config",
    "minutes",
    "ca",
    "command",
    "lsc_expires_before",
    "notify_days",
    "key",
    "plain_fallback",
    "mode",
    "period",
    "defect",
    "nodes",
    "file",
];

const WORDS: &[&str] = &[
    "a",
    "b",
    "a-pub",
    "a-sub",
    "b-pub",
    "f1",
    "f2",
    "tvs",
    "tftp",
    "callmanager",
    "capf",
    "tomcat",
    "itlrecovery",
    "all",
    "CallManager-trust",
    "tomcat-trust",
    "Phone-SAST-trust",
    "install",
    "delete",
    "troubleshoot",
    "null_string",
    "by_auth_string",
    "existing_lsc",
    "by_existing_certificate",
    "rsa",
    "ec",
    "rsa4096",
    "ec-p256",
    "localkey",
    "remotekey",
    "mixed-mode",
    "non-secure",
    "authenticated",
    "encrypted",
    "CSCuy43181",
    "CSCup28852",
    "CSCur97909",
    "true",
    "sha512",
    "automatic",
    "1 min",
    "0 s",
    "-5 min",
    "999999 days",
    "250 ms",
    "1 h 15 min",
    "",
    "\u{0}",
    "é",
    "rollback_to_pre_8",
    "ipv6",
    "a-pub_tomcat.pkcs12",
];

/// A random TOML value.
fn value(r: &mut Rng) -> String {
    match r.below(7) {
        0 | 1 => format!("{:?}", r.pick(WORDS)),
        2 => r
            .pick(&[
                "0",
                "1",
                "-1",
                "7",
                "2048",
                "4096",
                "9223372036854775807",
                "-9223372036854775808",
            ])
            .to_string(),
        3 => r.pick(&["true", "false", "1.5", "nan", "-inf"]).to_string(),
        4 => format!("[{:?}, {:?}]", r.pick(WORDS), r.pick(WORDS)),
        5 => "[]".to_string(),
        _ => format!("{{ x = {:?} }}", r.pick(WORDS)),
    }
}

/// A random `[[step]]` table: an action (or a wrong one), some keys with random values.
fn random_step(r: &mut Rng) -> String {
    let mut s = format!(
        "[[step]]\nat = {}\n",
        r.pick(&["\"1 min\"", "\"5 min\"", "0", "\"0 s\"", "60"])
    );
    if r.below(20) != 0 {
        s += &format!("action = {:?}\n", r.pick(ACTIONS));
    }
    let mut used = vec![];
    for _ in 0..r.below(6) {
        let k = *r.pick(KEYS);
        if !used.contains(&k) {
            used.push(k);
            s += &format!("{k} = {}\n", value(r));
        }
    }
    s
}

/// A base scenario the random steps are compiled against.
const BASE: &str = "[scenario]\nname = \"fuzz\"\nduration = \"10 min\"\n\n\
[[cluster]]\nname = \"a\"\nversion = \"12.5\"\nsecurity_mode = \"mixed\"\n  [[cluster.node]]\n  name = \"a-pub\"\n  [[cluster.node]]\n  name = \"a-sub\"\n\n\
[[cluster]]\nname = \"b\"\nversion = \"10.5\"\n  [[cluster.node]]\n  name = \"b-pub\"\n\n\
[[fleet]]\nname = \"f1\"\ncount = 3\nmac_start = \"001122000000\"\ncluster = \"a\"\n\n\
[[fleet]]\nname = \"f2\"\ncount = 2\nmac_start = \"001122100000\"\ncluster = \"b\"\n\n";

/// Every bundled scenario's text.
fn corpus() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("scenarios dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(std::fs::read_to_string(&p).expect("read scenario"));
            }
        }
    }
    let mut out = vec![];
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
        &mut out,
    );
    out.sort();
    out
}

/// One mutation of `text`: bytes flipped, inserted, deleted, lines duplicated or dropped,
/// values swapped for odd ones, a random step appended.
fn mutate(r: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..1 + r.below(4) {
        let n = lines.len().max(1);
        let i = r.below(n).min(lines.len().saturating_sub(1));
        match r.below(8) {
            0 if !lines.is_empty() => {
                lines.remove(i);
            }
            1 if !lines.is_empty() => {
                let l = lines[i].clone();
                lines.insert(r.below(n), l);
            }
            2 if !lines.is_empty() => {
                if let Some(eq) = lines[i].find('=') {
                    let key = lines[i][..eq].to_string();
                    lines[i] = format!("{key}= {}", value(r));
                }
            }
            3 => lines.insert(i, random_step(r)),
            4 if !lines.is_empty() => {
                let mut b = lines[i].clone().into_bytes();
                if !b.is_empty() {
                    let j = r.below(b.len());
                    b[j] = b[j].wrapping_add(1 + r.below(255) as u8);
                }
                lines[i] = String::from_utf8_lossy(&b).into_owned();
            }
            5 => lines.truncate(r.below(n)),
            6 => lines.insert(i, format!("{} = {}", r.pick(KEYS), value(r))),
            _ => lines.insert(
                i,
                r.pick(&[
                    "[[step]]",
                    "[[expect]]",
                    "[[fault]]",
                    "[[fleet]]",
                    "[scenario]",
                    "[[cluster]]",
                    "[cluster.tvs]",
                    "[[cluster.node]]",
                ])
                .to_string(),
            ),
        }
    }
    lines.join("\n")
}

/// Compiles `text` (sometimes with --phones); a panic fails with the input.
fn compile(r: &mut Rng, text: &str) {
    let o = Overrides {
        phones: match r.below(4) {
            0 => Some(1 + r.below(50) as u32),
            _ => None,
        },
        ..Overrides::default()
    };
    let result = catch_unwind(AssertUnwindSafe(|| parse_with("fuzz.toml", text, o)));
    match result {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => assert!(
            e.line > 0 || e.message.contains("missing"),
            "no position: {e}\n{text}"
        ),
        Err(_) => panic!(
            "the scenario language panicked on:\n{text}\n(phones {:?})",
            o.phones
        ),
    }
}

/// Runs both fuzzers for `budget`; returns (inputs through check, random steps).
fn fuzz(seed: u64, budget: Duration) -> (u64, u64) {
    let corpus = corpus();
    let mut r = Rng(seed | 1);
    let start = Instant::now();
    let (mut checked, mut steps) = (0u64, 0u64);
    while start.elapsed() < budget {
        let base = r.pick(&corpus).clone();
        let text = mutate(&mut r, &base);
        compile(&mut r, &text);
        checked += 1;
        let mut text = BASE.to_string();
        for _ in 0..1 + r.below(3) {
            text += &random_step(&mut r);
        }
        compile(&mut r, &text);
        steps += 1;
    }
    (checked, steps)
}

#[test]
fn fuzz_lang_quick() {
    let (checked, steps) = fuzz(0x5EED, Duration::from_secs(3));
    assert!(checked > 50 && steps > 50, "{checked} {steps}");
}

#[test]
#[ignore = "long run: CUCMSIM_FUZZ_SECS=300"]
fn fuzz_lang_long() {
    let secs: u64 = std::env::var("CUCMSIM_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed = std::env::var("CUCMSIM_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let (checked, steps) = fuzz(seed, Duration::from_secs(secs));
    println!("fuzz_lang: {secs} s, seed {seed}: {checked} mutated scenarios checked, {steps} random-step scenarios compiled, no panic");
}
