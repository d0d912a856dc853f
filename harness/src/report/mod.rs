//! Reports: views of one run's `summary.json`, which stays the source of truth.
//!
//! - [`write_all`] renders `report.html` (one self-contained file: inline CSS and SVG, no script,
//!   no fetches) and `junit.xml` (one `<testsuite>` per implementation) from a [`Summary`] alone.
//! - [`baseline`] saves runs under `reports/baselines/NAME/` and compares later runs with them,
//!   with the thresholds documented there.
//! - [`index`] writes the nightly `index.html` that links every report under a folder.
//! - [`Progress`] is the live status line of a long run.
//!
//! **Architecture invariant:** this is the only module that knows HTML (and JUnit XML). Nothing
//! here computes a verdict: every number shown is read from the summary.

pub mod baseline;
pub mod format;
mod html;
pub mod index;
mod junit;
mod progress;
mod timeline;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::runner::summary::Summary;
use crate::scenario::Dur;

pub use progress::{Mode as ProgressMode, Progress};

/// File name of the HTML report inside a run folder.
pub const REPORT_HTML: &str = "report.html";
/// File name of the JUnit XML inside a run folder.
pub const JUNIT_XML: &str = "junit.xml";
/// File name of the run's source of truth.
pub const SUMMARY_JSON: &str = "summary.json";

/// Render `report.html` and `junit.xml` for `summary` into `dir` (created if missing) and return
/// the paths written. Called by `dnschaos run` after it wrote `summary.json`, and by
/// `dnschaos report`.
pub fn write_all(summary: &Summary, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut written = Vec::new();
    for (name, text) in [(REPORT_HTML, render_html(summary)), (JUNIT_XML, render_junit(summary))] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

/// The HTML report as a string.
pub fn render_html(summary: &Summary) -> String {
    html::render(summary)
}

/// The JUnit XML as a string.
pub fn render_junit(summary: &Summary) -> String {
    junit::render(summary)
}

/// `dnschaos report SUMMARY.json [-o DIR]`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The run's summary.json (or the run folder holding it).
    pub summary: PathBuf,
    /// Where report.html and junit.xml go (default: the summary's folder).
    #[arg(short = 'o', long = "out", env = "DNSCHAOS_REPORT_OUT")]
    pub out: Option<PathBuf>,
}

/// Run `dnschaos report`, printing the files written; returns the exit code.
pub fn run(args: &ReportArgs) -> Result<i32> {
    for p in regenerate(&args.summary, args.out.as_deref())? {
        println!("wrote {}", p.display());
    }
    Ok(crate::error::exit::OK)
}

/// Load a summary and write both views, by default next to it. the summary and write both views, by default
/// next to it.
pub fn regenerate(summary_path: &Path, out: Option<&Path>) -> Result<Vec<PathBuf>> {
    let (path, summary) = load(summary_path)?;
    let dir = match out {
        Some(d) => d.to_path_buf(),
        None => path.parent().filter(|p| !p.as_os_str().is_empty()).map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(".")),
    };
    write_all(&summary, &dir)
}

/// Read a summary. `path` may be the file or the run folder holding `summary.json`. Returns the
/// file's path and the summary; every failure is one line of bad input with a hint.
pub fn load(path: &Path) -> Result<(PathBuf, Summary)> {
    let file = if path.is_dir() { path.join(SUMMARY_JSON) } else { path.to_path_buf() };
    let hint = "(hint: pass the summary.json that `dnschaos run` wrote, or its folder)";
    let text = std::fs::read_to_string(&file).map_err(|e| {
        let what = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => format!("cannot read it: {e}"),
        };
        Error::bad_input(format!("{}: {what} {hint}", file.display()))
    })?;
    let summary = serde_json::from_str(&text)
        .map_err(|e| Error::bad_input(format!("{}: not a dnschaos summary: {e} {hint}", file.display())))?;
    Ok((file, summary))
}

/// The plan's SLO bounds as the summary recorded them (the plan's defaults when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slo {
    pub max_empty_window_ms: u64,
    pub max_time_to_recovery_ms: u64,
}

pub(crate) fn slo(summary: &Summary) -> Slo {
    let defaults = crate::scenario::SloSpec::default();
    let field = |key: &str, default: &Dur| -> u64 {
        summary
            .plan
            .spec
            .get("slo")
            .and_then(|s| s.get(key))
            .and_then(|v| serde_json::from_value::<Dur>(v.clone()).ok())
            .unwrap_or(*default)
            .ms()
    };
    Slo {
        max_empty_window_ms: field("max-empty-window", &defaults.max_empty_window),
        max_time_to_recovery_ms: field("max-time-to-recovery", &defaults.max_time_to_recovery),
    }
}
