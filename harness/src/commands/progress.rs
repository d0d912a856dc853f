//! A live status line for long runs: elapsed time, phase, probes done and the current verdict.
//!
//! On a terminal it is an indicatif bar over the run's planned duration. When stderr is not a
//! terminal (CI, pipes) it prints plain lines, one per phase or verdict change, and never a
//! control character. `DNSCHAOS_PROGRESS=bar|lines|off` overrides the choice.
//!
//! ```no_run
//! use dnschaos::commands::progress::Progress;
//! let p = Progress::new(30_000);
//! p.phase("legacy: faults active");
//! p.set_probes(1_200);
//! p.set_verdict("empty answers seen");
//! p.finish();
//! ```

use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::Duration;

use crate::clock::Clock;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// An indicatif bar on stderr (a terminal).
    Bar,
    /// Plain lines on stderr on phase and verdict changes (CI, pipes).
    Lines,
    /// Nothing at all.
    Quiet,
}

impl Mode {
    /// `DNSCHAOS_PROGRESS` if set to bar, lines or off; else a bar on a terminal, lines elsewhere.
    pub fn detect() -> Mode {
        match std::env::var("DNSCHAOS_PROGRESS").ok().as_deref() {
            Some("bar") => Mode::Bar,
            Some("lines") => Mode::Lines,
            Some("off") | Some("quiet") => Mode::Quiet,
            _ if std::io::stderr().is_terminal() && std::env::var("TERM").map(|t| t != "dumb").unwrap_or(true) => Mode::Bar,
            _ => Mode::Lines,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    phase: String,
    probes: u64,
    verdict: String,
    finished: bool,
}

/// The progress of one run. Cheap to update from any thread (`Sync`).
pub struct Progress {
    total_ms: u64,
    clock: Clock,
    start: tokio::time::Instant,
    mode: Mode,
    bar: Option<ProgressBar>,
    state: Mutex<State>,
}

impl Progress {
    /// Progress over a run planned to take `total_ms`, shown as [`Mode::detect`] decides.
    pub fn new(total_ms: u64) -> Self {
        Self::with_mode(total_ms, Mode::detect())
    }

    /// Progress shown in the given mode.
    pub fn with_mode(total_ms: u64, mode: Mode) -> Self {
        let bar = (mode == Mode::Bar).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total_ms.max(1)), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{spinner} {elapsed_precise} [{bar:28}] {percent:>3}% {prefix} {wide_msg}")
                .expect("progress template is valid")
                .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        let clock = Clock::wall();
        Progress { total_ms, start: clock.now(), clock, mode, bar, state: Mutex::new(State::default()) }
    }

    /// How this progress is shown.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Enter a phase (e.g. "legacy: faults active"). Printed as a line outside a terminal.
    pub fn phase(&self, phase: &str) {
        let changed = self.update(|s| {
            let changed = s.phase != phase;
            s.phase = phase.to_string();
            changed
        });
        if changed {
            self.line();
        }
    }

    /// Probes done so far (shown on the bar only; too frequent for lines).
    pub fn set_probes(&self, probes: u64) {
        self.update(|s| {
            s.probes = probes;
            false
        });
    }

    /// The verdict as it stands (e.g. "ok so far", "empty answers seen"). Printed as a line
    /// outside a terminal when it changes.
    pub fn set_verdict(&self, verdict: &str) {
        let changed = self.update(|s| {
            let changed = s.verdict != verdict;
            s.verdict = verdict.to_string();
            changed
        });
        if changed {
            self.line();
        }
    }

    /// Clear the bar and print one closing line (nothing in quiet mode). Idempotent.
    pub fn finish(&self) {
        let first = self.update(|s| !std::mem::replace(&mut s.finished, true));
        if !first {
            return;
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.mode != Mode::Quiet {
            eprintln!("{}", self.status("done in"));
        }
    }

    /// The status as one plain line: `[  12.3 s] legacy: faults active · 1200 probes · ok`.
    pub fn status_line(&self) -> String {
        self.status("")
    }

    fn status(&self, lead: &str) -> String {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let secs = self.clock.since(self.start).as_secs_f64();
        let mut parts = vec![];
        if !st.phase.is_empty() {
            parts.push(st.phase.clone());
        }
        parts.push(format!("{} probes", st.probes));
        if !st.verdict.is_empty() {
            parts.push(st.verdict.clone());
        }
        let lead = if lead.is_empty() { String::new() } else { format!("{lead} ") };
        format!("[{lead}{secs:>6.1} s of {:.0} s] {}", self.total_ms as f64 / 1000.0, parts.join(" · "))
    }

    /// Apply `f` to the state, refresh the bar, and return what `f` returned.
    fn update(&self, f: impl FnOnce(&mut State) -> bool) -> bool {
        let (out, prefix, msg) = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let out = f(&mut st);
            (out, st.phase.clone(), format!("{} probes{}", st.probes, if st.verdict.is_empty() { String::new() } else { format!(" · {}", st.verdict) }))
        };
        if let Some(bar) = &self.bar {
            bar.set_position((self.clock.since(self.start).as_millis() as u64).min(self.total_ms.max(1)));
            bar.set_prefix(prefix);
            bar.set_message(msg);
        }
        out
    }

    fn line(&self) {
        if self.mode == Mode::Lines {
            eprintln!("{}", self.status_line());
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            if !bar.is_finished() {
                bar.finish_and_clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_has_elapsed_phase_probes_and_verdict() {
        let p = Progress::with_mode(30_000, Mode::Quiet);
        p.phase("legacy: faults active");
        p.set_probes(1200);
        p.set_verdict("empty answers seen");
        let line = p.status_line();
        assert!(line.starts_with('['), "{line}");
        assert!(line.contains("s of 30 s]"), "{line}");
        assert!(line.ends_with("legacy: faults active · 1200 probes · empty answers seen"), "{line}");
        p.finish();
        p.finish();
    }

    #[test]
    fn bar_mode_does_not_panic_without_a_terminal() {
        let p = Progress::with_mode(1_000, Mode::Bar);
        p.phase("x");
        p.set_probes(3);
        p.set_verdict("ok");
        p.finish();
    }

    #[test]
    fn progress_is_shareable_across_threads() {
        fn assert_sync<T: Sync + Send>() {}
        assert_sync::<Progress>();
    }
}

impl crate::runner::Observer for Progress {
    fn phase(&self, line: &str) {
        Progress::phase(self, line);
    }

    fn probes(&self, total: u64) {
        self.set_probes(total);
    }

    fn verdict(&self, line: &str) {
        self.set_verdict(line);
    }
}
