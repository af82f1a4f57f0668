//! What the benchmark offers the server and what one request costs it: the seeded generator,
//! the open model's arrival times (fixed rate or a linear ramp, evenly spaced or Poisson), the
//! closed model's clients, and service-time sampling (fixed, exponential, or the empirical
//! distribution calibrated in this run).
//!
//! ```text
//!  RateProfile r(t) ──Λ(t) = ∫r──► arrival k at Λ⁻¹(x_k):  x_k = k (even)  or  x_k = x_{k-1} + Exp(1) (Poisson)
//!  calibration histogram (µs) ──Empirical──► sample = value of the bucket holding a uniform rank
//! ```
//! Inverting the cumulative intensity makes a ramp exact for both arrival kinds: Poisson
//! arrivals of a ramp are a true non-homogeneous Poisson process, not a rate re-sampled now and
//! then. Times are µs from the start of the run (virtual µs in model mode, offsets from the
//! start instant in live mode).

use hdrhistogram::Histogram;
use serde::Serialize;

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator, good enough for arrival and
/// service sampling and identical on every platform.
#[derive(Clone, Debug)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator for `seed`, with `stream` separating independent uses of one seed.
    pub fn new(seed: u64, stream: u64) -> SplitMix {
        let mut g = SplitMix(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        g.next_u64();
        g
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Exponential with mean 1.
    pub fn exp1(&mut self) -> f64 {
        -(1.0 - self.unit()).ln()
    }
}

/// An arrival rate that goes linearly from `from_per_s` to `to_per_s` over `over_s` seconds and
/// stays at `to_per_s` afterwards (a constant rate has `from == to`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RateProfile {
    pub from_per_s: f64,
    pub to_per_s: f64,
    pub over_s: f64,
}

impl RateProfile {
    pub fn constant(per_s: f64) -> RateProfile {
        RateProfile {
            from_per_s: per_s,
            to_per_s: per_s,
            over_s: 0.0,
        }
    }

    fn slope(&self) -> f64 {
        if self.over_s > 0.0 {
            (self.to_per_s - self.from_per_s) / self.over_s
        } else {
            0.0
        }
    }

    /// Λ(t): expected arrivals in [0, t].
    pub fn cumulative(&self, t_s: f64) -> f64 {
        let ramp = t_s.min(self.over_s).max(0.0);
        let after = (t_s - self.over_s).max(0.0);
        self.from_per_s * ramp + self.slope() * ramp * ramp / 2.0 + self.to_per_s * after
    }

    /// Λ⁻¹(x): the time by which `x` arrivals are expected.
    pub fn inverse(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let at_end = self.cumulative(self.over_s);
        if x <= at_end && self.over_s > 0.0 {
            // a t² + b t = x, in the form that is stable for a → 0.
            let (a, b) = (self.slope() / 2.0, self.from_per_s);
            let root = (b * b + 4.0 * a * x).max(0.0).sqrt();
            return (2.0 * x / (b + root)).min(self.over_s);
        }
        self.over_s.max(0.0) + (x - at_end) / self.to_per_s
    }
}

/// The open model: requests arrive on a schedule, whatever the server does.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OpenLoad {
    pub rate: RateProfile,
    /// Poisson arrivals (exponential gaps) instead of evenly spaced ones.
    pub poisson: bool,
    /// Arrivals stop at this time, s …
    pub duration_s: Option<f64>,
    /// … or after this many requests, whichever comes first.
    pub requests: Option<u64>,
}

impl OpenLoad {
    /// The length of the arrival window, s: the duration, or the time by which the requested
    /// number of arrivals is expected.
    pub fn window_s(&self) -> f64 {
        let by_count = self.requests.map(|n| self.rate.inverse(n as f64));
        match (self.duration_s, by_count) {
            (Some(d), Some(c)) => d.min(c),
            (Some(d), None) => d,
            (None, Some(c)) => c,
            (None, None) => 0.0,
        }
    }

    /// Intended arrival times, µs from the start.
    pub fn arrivals(&self, seed: u64) -> Arrivals {
        Arrivals {
            load: self.clone(),
            rng: SplitMix::new(seed, 1),
            x: 0.0,
            n: 0,
        }
    }
}

/// Iterator over the intended arrival times of an [`OpenLoad`], µs.
#[derive(Clone, Debug)]
pub struct Arrivals {
    load: OpenLoad,
    rng: SplitMix,
    x: f64,
    n: u64,
}

impl Iterator for Arrivals {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        if self.load.requests.is_some_and(|max| self.n >= max) {
            return None;
        }
        if self.load.poisson {
            self.x += self.rng.exp1();
        } else if self.n > 0 {
            self.x += 1.0;
        }
        let t_s = self.load.rate.inverse(self.x);
        if !t_s.is_finite() || self.load.duration_s.is_some_and(|d| t_s >= d) {
            return None;
        }
        self.n += 1;
        Some((t_s * 1e6).round() as u64)
    }
}

/// The closed model: `clients` each send, wait for the answer (or refusal), think, send again.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClosedLoad {
    pub clients: u32,
    pub think_us: u64,
    /// Exponential think times with mean `think_us` instead of fixed ones.
    pub poisson: bool,
    /// No new request is sent after this time, s …
    pub duration_s: Option<f64>,
    /// … or once this many have been sent.
    pub requests: Option<u64>,
    /// The interval at which one client means to send, for hdrhistogram's coordinated-omission
    /// correction (`record_correct`): think time + the uncontended service time by default.
    pub expected_interval_us: u64,
}

impl ClosedLoad {
    /// Client `i`'s first send, µs: the clients start evenly spread over one think time.
    pub fn first_send_us(&self, i: u32) -> u64 {
        self.think_us * u64::from(i) / u64::from(self.clients.max(1))
    }

    /// A think time, µs (at least 1 ms after a refusal, so a refused client cannot spin).
    pub fn think(&self, rng: &mut SplitMix, refused: bool) -> u64 {
        let t = if self.poisson {
            (self.think_us as f64 * rng.exp1()).round() as u64
        } else {
            self.think_us
        };
        if refused {
            t.max(1000)
        } else {
            t
        }
    }
}

/// An empirical distribution read from a histogram: sampling returns the median equivalent
/// value of the bucket holding a uniformly drawn rank (the histogram's 3 significant digits).
#[derive(Clone, Debug, PartialEq)]
pub struct Empirical {
    cumulative: Vec<u64>,
    values: Vec<u64>,
    mean: f64,
}

impl Empirical {
    pub fn from_histogram(h: &Histogram<u64>) -> Option<Empirical> {
        let mut cumulative = vec![];
        let mut values = vec![];
        let mut total = 0u64;
        for v in h.iter_recorded() {
            total += v.count_at_value();
            cumulative.push(total);
            values.push(h.median_equivalent(v.value_iterated_to()).max(1));
        }
        (total > 0).then(|| Empirical {
            cumulative,
            values,
            mean: h.mean(),
        })
    }

    pub fn sample(&self, rng: &mut SplitMix) -> u64 {
        let total = *self.cumulative.last().unwrap_or(&1);
        let rank = rng.next_u64() % total;
        let ix = self.cumulative.partition_point(|&c| c <= rank);
        self.values[ix.min(self.values.len() - 1)]
    }
}

/// How long the server works on one request, µs.
#[derive(Clone, Debug, PartialEq)]
pub enum ServiceTime {
    /// `--service-us X`: every request takes X.
    Fixed(u64),
    /// Exponential with this mean: for checking the queue against M/M/c (library use).
    Exponential(f64),
    /// The calibrated distribution of this run.
    Empirical(Empirical),
}

impl ServiceTime {
    pub fn sample(&self, rng: &mut SplitMix) -> u64 {
        match self {
            ServiceTime::Fixed(us) => *us,
            ServiceTime::Exponential(mean) => (mean * rng.exp1()).round().max(1.0) as u64,
            ServiceTime::Empirical(e) => e.sample(rng),
        }
    }

    pub fn mean_us(&self) -> f64 {
        match self {
            ServiceTime::Fixed(us) => *us as f64,
            ServiceTime::Exponential(mean) => *mean,
            ServiceTime::Empirical(e) => e.mean,
        }
    }

    /// One line for the report.
    pub fn describe(&self) -> String {
        match self {
            ServiceTime::Fixed(us) => format!("fixed {us} µs (--service-us)"),
            ServiceTime::Exponential(mean) => format!("exponential, mean {mean:.0} µs"),
            ServiceTime::Empirical(e) => format!(
                "sampled from the calibrated distribution (mean {:.0} µs)",
                e.mean
            ),
        }
    }

    /// `"fixed"`, `"exponential"` or `"calibrated"`.
    pub fn source(&self) -> &'static str {
        match self {
            ServiceTime::Fixed(_) => "fixed",
            ServiceTime::Exponential(_) => "exponential",
            ServiceTime::Empirical(_) => "calibrated",
        }
    }
}
