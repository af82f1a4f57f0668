//! Will a run fit in memory? A run holds every phone (its keys, trust lists, connections) and
//! the trace; before starting, `run` compares a per-phone estimate with the memory the system
//! has available and refuses (exit 2) what cannot fit, instead of aborting hours later with
//! "memory allocation failed".
//!
//! ```text
//!  phones × BYTES_PER_PHONE ──vs──► MemAvailable (/proc/meminfo) ──► ok | "needs about N GB, M GB available"
//! ```

/// The most phones `--phones` accepts (also the most one fleet may declare).
pub const MAX_PHONES: u32 = 1_000_000;

/// Peak memory per phone: `cucmsim run scenarios/enrollment/mass_lsc.toml --threads 2`
/// measured 777 MB peak RSS for 40,000 phones enrolled through CAPF (about 19.4 KB a phone,
/// trace included; 2026-12-04, the windowed engine); the 100,000-phone migration takes 11 KB.
pub const BYTES_PER_PHONE: u64 = 20_000;

/// Fixed cost of a run besides its phones (clusters, PKI, runtime).
const BASE_BYTES: u64 = 64 * 1024 * 1024;

/// `Err` with the numbers when `phones` would need more memory than `available` bytes.
pub fn fits(phones: u32, available: Option<u64>) -> Result<(), String> {
    let need = BASE_BYTES + u64::from(phones) * BYTES_PER_PHONE;
    match available {
        Some(have) if need > have => Err(format!(
            "{phones} phones need about {:.1} GB of memory ({BYTES_PER_PHONE} bytes a phone), \
             and {:.1} GB is available: use fewer phones (--phones)",
            need as f64 / 1e9,
            have as f64 / 1e9
        )),
        _ => Ok(()),
    }
}

/// The memory available to a new process, from `/proc/meminfo` (`None` where unknown).
pub fn available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::fits;

    #[test]
    fn a_hundred_million_phones_do_not_fit_in_16_gb() {
        let e = fits(100_000_000, Some(16_000_000_000)).unwrap_err();
        assert!(e.contains("100000000 phones need about 2000.1 GB"), "{e}");
        assert!(fits(1_000, Some(16_000_000_000)).is_ok());
        assert!(fits(1_000, None).is_ok());
    }
}
