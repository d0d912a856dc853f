//! Reports: views of one run's `summary.json`, which stays the source of truth.
//!
//! - [`write_all`] renders `report.html` (one self-contained file: inline CSS and SVG, no script,
//!   no fetches) and `junit.xml` (one `<testsuite>` per implementation) from a [`Summary`] alone.
//! - [`baseline`] saves runs under `reports/baselines/NAME/` and compares later runs with them,
//!   with the thresholds documented there.
//! - [`index`] writes the nightly `index.html` that links every report under a folder.
//!
//! **Architecture invariant:** this is the only module that knows HTML (and JUnit XML). Nothing
//! here computes a verdict: every number shown is read from the summary.

pub mod baseline;
pub mod explore;
pub mod format;
mod html;
pub mod index;
mod junit;
mod timeline;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::summary::Summary;


/// File name of the HTML report inside a run folder.
pub const REPORT_HTML: &str = "report.html";
/// File name of the JUnit XML inside a run folder.
pub const JUNIT_XML: &str = "junit.xml";
pub use crate::summary::SUMMARY_JSON;

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

/// Write `summary.json` and its views (`write_all`) into `dir`; returns the files written.
/// Every command and the explorer write a run this way.
pub fn write_run(summary: &Summary, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = vec![summary.write(dir)?];
    written.extend(write_all(summary, dir)?);
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

/// Load a summary and write both views, by default next to it.
pub fn regenerate(summary_path: &Path, out: Option<&Path>) -> Result<Vec<PathBuf>> {
    let (path, summary) = load(summary_path)?;
    let dir = match out {
        Some(d) => d.to_path_buf(),
        None => path.parent().filter(|p| !p.as_os_str().is_empty()).map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(".")),
    };
    write_all(&summary, &dir)
}

/// Read a summary (see [`Summary::load`]).
pub fn load(path: &Path) -> Result<(PathBuf, Summary)> {
    Summary::load(path)
}

/// The plan's SLO bounds as the summary recorded them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slo {
    pub max_empty_window_ms: u64,
    pub max_time_to_recovery_ms: u64,
}

pub(crate) fn slo(summary: &Summary) -> Slo {
    let slo = &summary.plan.spec.slo;
    Slo { max_empty_window_ms: slo.max_empty_window.ms(), max_time_to_recovery_ms: slo.max_time_to_recovery.ms() }
}
