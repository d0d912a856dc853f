//! `index.html` for a folder of runs (the nightly's `reports/nightly/<date>/`): one row per
//! summary with each implementation's verdict and headline numbers, linking its report.
//! Summaries without a `report.html` get one rendered first. A `baseline-compare.txt` in the
//! folder (the nightly gate's output) is shown at the top.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::baseline::find_summaries_in;
use super::format::{esc, ms, pct, recovery};
use super::{write_all, JUNIT_XML, REPORT_HTML};
use crate::error::{exit, Error, Result};

/// File the nightly script writes the gate's output to, shown at the top of the index.
pub const COMPARE_TXT: &str = "baseline-compare.txt";

/// `dnschaos report-index DIR... [--out DIR]`.
#[derive(Debug, clap::Args)]
pub struct IndexArgs {
    /// Folders holding run folders (e.g. reports/nightly/2025-10-20, or the shards of one night).
    #[arg(required = true, num_args = 1..)]
    pub dirs: Vec<PathBuf>,
    /// Where index.html goes (and where the gate's baseline-compare.txt is read); default the
    /// only DIR. Links to the runs are relative to it.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Run `report-index`, printing the path written.
pub fn run(args: &IndexArgs) -> Result<i32> {
    let out = match (&args.out, args.dirs.as_slice()) {
        (Some(o), _) => o.clone(),
        (None, [one]) => one.clone(),
        (None, _) => return Err(Error::bad_input("report-index of several folders needs --out DIR (hint: where index.html goes)")),
    };
    let path = write_index(&args.dirs, &out)?;
    println!("wrote {}", path.display());
    Ok(exit::OK)
}

/// `target` as a path relative to the folder `base` ('/'-separated), through their canonical
/// forms; `target` itself when they share no root.
fn relative(base: &Path, target: &Path) -> String {
    let (Ok(b), Ok(t)) = (base.canonicalize(), target.canonicalize()) else { return target.display().to_string() };
    let (bc, tc): (Vec<_>, Vec<_>) = (b.components().collect(), t.components().collect());
    let common = bc.iter().zip(&tc).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), bc.len() - common).collect();
    parts.extend(tc[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    parts.join("/")
}

/// Write `OUT/index.html` for the runs under `dirs` and return its path.
pub fn write_index(dirs: &[PathBuf], out: &Path) -> Result<PathBuf> {
    for dir in dirs {
        if !dir.is_dir() {
            return Err(Error::bad_input(format!("{}: not a folder (hint: pass the folder that holds the run folders)", dir.display())));
        }
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let dir = out;
    let mut found = find_summaries_in(dirs)?;
    // One order whatever the sharding: by plan, seed, then place.
    found.sort_by(|a, b| (&a.summary.plan.name, a.summary.seed, &a.rel).cmp(&(&b.summary.plan.name, b.summary.seed, &b.rel)));
    let mut rows = String::new();
    let (mut runs, mut failing) = (0, 0);
    for f in &found {
        let run_dir = f.path.parent().map(Path::to_path_buf).unwrap_or_else(|| dir.to_path_buf());
        if !run_dir.join(REPORT_HTML).is_file() || !run_dir.join(JUNIT_XML).is_file() {
            write_all(&f.summary, &run_dir)?;
        }
        // Shown: the run's place in its night (the same however the night was sharded); linked:
        // from the index's folder.
        let place = f.rel.parent().map(|p| p.to_string_lossy().replace('\\', "/")).unwrap_or_default();
        let rel_dir = relative(out, &run_dir);
        let rel_dir = if rel_dir.is_empty() || rel_dir == "." { String::new() } else { rel_dir };
        let link = |file: &str| if rel_dir.is_empty() { file.to_string() } else { format!("{rel_dir}/{file}") };
        let s = &f.summary;
        runs += 1;
        let mut cells = String::new();
        for e in &s.enactors {
            if !e.verdict.passed {
                failing += 1;
            }
            let _ = write!(
                cells,
                "<div class=\"impl\"><b>{}</b> <span class=\"badge {}\">{}</span> <span class=\"n\">empty {} · recovery {} · availability {}</span></div>",
                esc(&e.implementation),
                if e.verdict.passed { "pass" } else { "fail" },
                if e.verdict.passed { "PASS" } else { "FAIL" },
                ms(e.total_empty_ms),
                recovery(e.time_to_recovery_ms),
                pct(e.availability_pct)
            );
        }
        let _ = write!(
            rows,
            "<tr><td><b>{}</b><div class=\"n\">{}</div></td><td>{}</td><td>{cells}</td><td><a href=\"{}\">report</a> · <a href=\"{}\">junit</a> · <a href=\"{}\">summary</a></td></tr>",
            esc(&s.plan.name),
            esc(&place),
            s.seed,
            esc(&link(REPORT_HTML)),
            esc(&link(JUNIT_XML)),
            esc(&link(super::SUMMARY_JSON))
        );
    }
    let gate = match std::fs::read_to_string(dir.join(COMPARE_TXT)) {
        Ok(t) => {
            // The gate's verdict, from the last line `dnschaos baseline compare` prints.
            let (class, word) = if t.contains("-> REGRESSION") {
                ("gate bad", "REGRESSION")
            } else if t.contains("-> ok") {
                ("gate", "ok")
            } else if t.contains("saved baseline") {
                ("gate", "baseline saved")
            } else {
                ("gate bad", "error (no comparison)")
            };
            format!("<section class=\"{class}\"><h2>Baseline gate: {word}</h2><pre>{}</pre></section>", esc(&t))
        }
        Err(_) => String::new(),
    };
    let title = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| dir.display().to_string());
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>dnschaos nightly {t}</title><style>\
body{{margin:0;background:#f5f6f8;color:#0f172a;font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",sans-serif}}\
main{{max-width:1400px;margin:0 auto;padding:20px 24px}}h1{{font-size:24px;margin:0 0 4px}}h2{{font-size:16px;margin:0 0 8px}}\
section{{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:14px 16px;margin-top:16px}}.gate.bad{{border-color:#fca5a5;background:#fef2f2}}\
pre{{white-space:pre-wrap;font:12.5px ui-monospace,\"DejaVu Sans Mono\",monospace;margin:0}}\
table{{border-collapse:collapse;width:100%}}th,td{{text-align:left;padding:6px 8px;border-bottom:1px solid #e2e8f0;vertical-align:top}}th{{font-size:12px;color:#64748b}}\
.badge{{font-size:11px;font-weight:700;padding:1px 6px;border-radius:3px}}.pass{{background:#dcfce7;color:#15803d}}.fail{{background:#fee2e2;color:#b91c1c}}\
.n{{color:#64748b;font-size:12.5px}}.impl{{margin:1px 0}}a{{color:#1d4ed8}}\
</style></head><body><main><h1>dnschaos nightly {t}</h1><div class=\"n\">{runs} run(s); {failing} implementation result(s) failing their SLOs (failing SLOs alone do not fail the gate: regressions against the baseline do)</div>\
{gate}<section><h2>Runs</h2><table><tr><th>plan</th><th>seed</th><th>implementations</th><th>files</th></tr>{rows}</table></section></main></body></html>\n",
        t = esc(&title)
    );
    let path = dir.join("index.html");
    std::fs::write(&path, html).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}
