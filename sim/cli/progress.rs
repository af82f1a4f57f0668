//! Progress of a run on stderr, for `run` and `bench scale`: on a terminal a bar redrawn in
//! place (building the world, then virtual time), elsewhere (CI logs, pipes) a plain line when
//! a phase starts and then every few seconds. Times in one style, `h:mm:ss`: virtual time
//! reached of the total, wall time, and an ETA from the pace so far.
//!
//! ```text
//!  Progress::Building { done, total } ──► ⠂ building [===>    ] 512/1,000 phones (0:00:03)
//!  Progress::Running { virtual_ms, .. } ──► ⠂ running  [=====>  ] virtual 0:07:12 of 0:20:00, ETA 0:00:14 (0:00:08)
//!  not a terminal ──► cucmsim run: running: virtual 0:07:12 of 0:20:00, ETA 0:00:14, wall 0:00:08
//! ```

use crate::engine::Progress;
use crate::reports::wording::hms;
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use std::io::IsTerminal;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a plain progress line is written when stderr is not a terminal.
pub const LINE_EVERY: Duration = Duration::from_secs(5);

enum Mode {
    Hidden,
    Bar(ProgressBar),
    /// Plain lines: one at each phase's start, then every [`LINE_EVERY`] from a ticker thread
    /// (the engine can be silent for long, building keys), each prefixed (`cucmsim run: `).
    Lines(Ticker),
}

/// The latest line, printed every [`LINE_EVERY`] until the ticker is stopped.
struct Ticker {
    prefix: String,
    latest: Arc<Mutex<String>>,
    stop: mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    fn start(prefix: &str, started: Instant) -> Ticker {
        let latest = Arc::new(Mutex::new(String::new()));
        let (stop, stopped) = mpsc::channel::<()>();
        let (shared, prefix_t) = (latest.clone(), prefix.to_string());
        let thread = std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(LINE_EVERY) {
                let line = shared.lock().map(|l| l.clone()).unwrap_or_default();
                if !line.is_empty() {
                    let wall = hms(started.elapsed().as_millis() as u64);
                    eprintln!("{prefix_t}{line}, wall {wall}");
                }
            }
        });
        Ticker {
            prefix: prefix.to_string(),
            latest,
            stop,
            thread: Some(thread),
        }
    }

    /// Records the latest line; prints it at once when `now`.
    fn set(&self, line: String, now: bool, started: Instant) {
        if now {
            let wall = hms(started.elapsed().as_millis() as u64);
            eprintln!("{}{line}, wall {wall}", self.prefix);
        }
        if let Ok(mut l) = self.latest.lock() {
            *l = line;
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    None,
    Building,
    Running,
}

/// The progress display of one run.
pub struct RunProgress {
    mode: Mode,
    started: Instant,
    /// When virtual time started (the ETA counts from there).
    running_since: Option<Instant>,
    phase: Phase,
}

/// `1,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bar_style() -> ProgressStyle {
    // Fits 80 columns: "⠂ running  [====>       ] virtual 0:07:12 of 0:20:00, ETA 0:00:14 (0:00:08)",
    // the wall time in brackets.
    ProgressStyle::with_template("{spinner} {prefix:<8} [{bar:12}] {msg} ({wall})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("wall", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}", hms(s.elapsed().as_millis() as u64));
        })
        .progress_chars("=> ")
}

impl RunProgress {
    /// Hidden when `quiet`; a bar when stderr is a terminal; plain lines prefixed with
    /// `prefix` otherwise.
    pub fn new(quiet: bool, prefix: &str) -> RunProgress {
        let started = Instant::now();
        let mode = if quiet {
            Mode::Hidden
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(1);
            bar.set_style(bar_style());
            bar.set_prefix("starting");
            // Redrawn on its own, so the bar moves while a long step gives no news.
            bar.enable_steady_tick(Duration::from_millis(120));
            Mode::Bar(bar)
        } else {
            Mode::Lines(Ticker::start(prefix, started))
        };
        RunProgress {
            mode,
            started,
            running_since: None,
            phase: Phase::None,
        }
    }

    /// Takes the engine's news.
    pub fn update(&mut self, p: Progress) {
        let phase = match p {
            Progress::Building { .. } => Phase::Building,
            Progress::Running { .. } => Phase::Running,
        };
        let changed = phase != self.phase;
        self.phase = phase;
        if changed && phase == Phase::Running {
            self.running_since = Some(Instant::now());
        }
        let (label, done, total, msg) = match p {
            Progress::Building { done, total } => {
                ("building", done, total, building_message(done, total))
            }
            Progress::Running {
                virtual_ms,
                total_ms,
            } => (
                "running",
                virtual_ms,
                total_ms,
                self.running_message(virtual_ms, total_ms),
            ),
        };
        match &mut self.mode {
            Mode::Hidden => {}
            Mode::Bar(bar) => {
                bar.set_prefix(label);
                bar.set_length(total.max(1));
                bar.set_position(done);
                bar.set_message(msg);
            }
            Mode::Lines(ticker) => {
                let label = if label == "building" {
                    "building the world"
                } else {
                    label
                };
                ticker.set(format!("{label}: {msg}"), changed, self.started)
            }
        }
    }

    fn running_message(&self, virtual_ms: u64, total_ms: u64) -> String {
        let mut msg = format!("virtual {} of {}", hms(virtual_ms), hms(total_ms));
        let since = self.running_since.map(|t| t.elapsed());
        if let Some(eta) = since.and_then(|s| eta(s, virtual_ms, total_ms)) {
            msg += &format!(", ETA {}", hms(eta.as_millis() as u64));
        }
        msg
    }

    /// Clears the bar; in the log, stops the ticker and writes a last line.
    pub fn finish(self) {
        match self.mode {
            Mode::Bar(bar) => bar.finish_and_clear(),
            Mode::Lines(ticker) => {
                let prefix = ticker.prefix.clone();
                drop(ticker);
                let wall = hms(self.started.elapsed().as_millis() as u64);
                eprintln!("{prefix}finished, wall {wall}");
            }
            Mode::Hidden => {}
        }
    }
}

fn building_message(done: u64, total: u64) -> String {
    if done == 0 {
        format!("the clusters, then {} phones", thousands(total))
    } else {
        format!("{}/{} phones", thousands(done), thousands(total))
    }
}

/// The wall time left at the pace so far: `elapsed` for `done_ms` of `total_ms` virtual ms.
/// `None` until there is a pace to go by (a little virtual time and wall time done).
pub fn eta(elapsed: Duration, done_ms: u64, total_ms: u64) -> Option<Duration> {
    if done_ms == 0 || elapsed < Duration::from_millis(200) || done_ms > total_ms {
        return None;
    }
    let left = (total_ms - done_ms) as f64 / done_ms as f64;
    Some(elapsed.mul_f64(left))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_follows_the_pace_so_far() {
        let e = eta(Duration::from_secs(10), 5 * 60_000, 20 * 60_000);
        assert_eq!(e, Some(Duration::from_secs(30)));
        assert_eq!(eta(Duration::from_secs(10), 0, 60_000), None);
        assert_eq!(eta(Duration::from_millis(10), 1, 60_000), None);
    }

    #[test]
    fn messages_name_the_phase_and_count_phones() {
        assert_eq!(building_message(512, 1000), "512/1,000 phones");
        assert!(building_message(0, 200).contains("then 200 phones"));
    }
}
