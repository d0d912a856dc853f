//! `explore.html`: an exploration's rates and findings, from `explore.json` alone (inline CSS
//! and SVG, no script). Per implementation: schedules, failures, the failure rate with its 95%
//! Wilson interval drawn as a bar, the October race's preconditions, signatures. Per finding:
//! what broke, the shrunk plan, its reproduction rate, whether the real backend confirmed it,
//! and a timeline of its faults against the empty-answer windows of the first failing run.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::format::esc;
use crate::analysis::explore::{Exploration, Finding, EXPLORE_HTML, EXPLORE_JSON};
use crate::error::{Error, Result};

/// Write `explore.json` and `explore.html` into `dir`.
pub fn write(x: &Exploration, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let json = dir.join(EXPLORE_JSON);
    std::fs::write(&json, serde_json::to_string_pretty(x).expect("exploration is json")).map_err(|e| Error::io(&json, e))?;
    let html = dir.join(EXPLORE_HTML);
    std::fs::write(&html, render(x)).map_err(|e| Error::io(&html, e))?;
    Ok(vec![json, html])
}

/// Read an `explore.json` (or the folder holding one).
pub fn read(path: &Path) -> Result<Exploration> {
    let file = if path.is_dir() { path.join(EXPLORE_JSON) } else { path.to_path_buf() };
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
    serde_json::from_str(&text).map_err(|e| Error::bad_input(format!("{}: not an explore.json: {e} (hint: the folder `dnschaos explore --out` wrote)", file.display())))
}

pub fn render(x: &Exploration) -> String {
    let mut h = String::new();
    let mode = if x.simulated { "simulated (virtual time); findings count once confirmed on the real backend" } else { "real backend" };
    let _ = write!(
        h,
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\">\
         <title>explore {plan}</title><style>{css}.bar{{position:relative;height:12px;background:#f1f5f9;border-radius:3px;min-width:160px}}\
         .bar i{{position:absolute;top:0;bottom:0;background:#fca5a5;border-radius:3px}}.bar b{{position:absolute;top:-2px;bottom:-2px;width:2px;background:var(--bad)}}</style></head><body><main>\
         <div class=eyebrow>dnschaos explore</div><h1>{plan}</h1><p class=desc>{mode}. Backend {backend}; schedules from seed {base}{shards}; search {search:.0} s, shrinking {shrink:.0} s.</p>",
        plan = esc(&x.plan),
        css = super::html::CSS,
        backend = esc(&x.backend),
        base = x.base_seed,
        shards = if x.shards.is_empty() { String::new() } else { format!(", shards {}", esc(&x.shards.join(", "))) },
        search = x.search_ms as f64 / 1000.0,
        shrink = x.shrink_ms as f64 / 1000.0,
    );
    h.push_str("<section><h2>Failure rates</h2><table class=score><tr><th>implementation</th><th class=num>schedules</th><th class=num>failures</th><th>rate [95% Wilson interval]</th><th></th><th class=num>race preconditions<small>old-plan flip and cleanup near a flip</small></th><th>signatures</th></tr>");
    for r in &x.implementations {
        let rate = r.rate();
        let sigs: Vec<String> = r.signatures.iter().map(|(k, v)| format!("{} &times;{v}", esc(k))).collect();
        let p = if r.schedules == 0 { 0.0 } else { r.failures as f64 / r.schedules as f64 };
        let _ = write!(
            h,
            "<tr><td class=impl>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td>\
             <td><div class=bar title=\"95% interval\"><i style=\"left:{:.1}%;width:{:.1}%\"></i><b style=\"left:{:.1}%\"></b></div></td>\
             <td class=num>{} <span class=sm>({} / {})</span></td><td>{}</td></tr>",
            esc(&r.implementation),
            r.schedules,
            r.failures,
            esc(&rate.describe()),
            100.0 * rate.low,
            100.0 * (rate.high - rate.low).max(0.005),
            100.0 * p,
            r.preconditions_met,
            r.old_plan_flips,
            r.cleanups_near_flip,
            if sigs.is_empty() { "&ndash;".into() } else { sigs.join(", ") }
        );
    }
    h.push_str("</table><p class=sm>A rate is failing schedules out of schedules run; the interval is the 95% Wilson score interval. Preconditions: schedules where both an enactor flipped to a plan older than cleanup keeps and a cleanup ran within one lock lease of another enactor's flip (flips, cleanups).</p></section>");
    h.push_str("<section><h2>Findings</h2>");
    if x.findings.is_empty() {
        h.push_str("<p>No implementation failed on any schedule.</p>");
    }
    for f in &x.findings {
        finding(&mut h, f, x.simulated);
    }
    h.push_str("</section></main></body></html>\n");
    h
}

fn finding(h: &mut String, f: &Finding, simulated: bool) {
    let _ = write!(
        h,
        "<div class=panel><h3>{} <span class=tag>{}</span></h3><p class=facts>{} &middot; {} failing schedule(s), first seeds {}</p>",
        esc(&f.implementation),
        esc(&f.signature),
        esc(&f.description),
        f.count,
        f.seeds.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
    );
    // After shrinking, the windows are those of one run of the shrunk plan (see `shrink_all`).
    let shown = f.shrunk.as_ref().map(|s| &s.faults).unwrap_or(&f.faults);
    let _ = write!(h, "<p class=sm>{}</p>", if f.shrunk.is_some() { "Faults of the shrunk plan and the empty answers of one run of it:" } else { "Faults and empty answers of the first failing schedule:" });
    h.push_str(&timeline(shown, &f.empty_windows, f.run_ms.max(1)));
    match &f.shrunk {
        Some(s) => {
            let status = match &s.confirmation {
                Some(c) => esc(&c.describe()),
                None if simulated => "simulated only: not yet confirmed on the real backend".into(),
                None => "found on the real backend".into(),
            };
            let _ = write!(
                h,
                "<p class=facts>Shrunk from {} to {} fault(s) in {} candidates ({} runs){}. Reproduces {} of reruns with varied jitter. {status}. \
                 Plan: <a href=\"{file}\">{file}</a>; run: <a href=\"{run}/report.html\">report</a>.</p><div class=replay><span>$</span>{}</div>",
                f.drawn_count(),
                s.faults.len(),
                s.candidates,
                s.runs,
                format!(
                    "{}{}",
                    if s.picked.is_empty() { String::new() } else { format!("; picked the {}", esc(&s.picked)) },
                    if s.pinned.is_empty() { String::new() } else { format!("; delta debugging started from {} hold(s) placed from a failing run's events, not drawn ({})", s.pinned.len(), esc(&s.pinned_from)) }
                ),
                esc(&s.repro.describe()),
                esc(&s.replay),
                file = esc(&s.plan_file),
                run = esc(&format!("{}-run", s.plan_file.trim_end_matches(".yaml"))),
            );
            if !s.without.is_empty() {
                let each: Vec<String> = s.without.iter().map(|(id, r)| format!("without {}: {}", esc(id), esc(&r.describe()))).collect();
                let _ = write!(
                    h,
                    "<p class=sm>{}: {}</p>",
                    if s.one_minimal { "1-minimal (each under 20%)" } else { "not 1-minimal (some rate without a fault stays at or above 20%: the design fails that often without it)" },
                    each.join("; ")
                );
            }
        }
        None => {
            if let Some(dir) = &f.run_dir {
                let _ = write!(h, "<p class=facts>Not shrunk. First failing run: <a href=\"{0}/report.html\">{0}</a></p>", esc(dir));
            }
        }
    }
    h.push_str("</div>");
}

/// Faults as bars, empty-answer windows as red bars under them, on the run's time axis.
fn timeline(faults: &[crate::scenario::FaultSpec], empty: &[crate::summary::EmptyWindow], run_ms: u64) -> String {
    let (w, left, row) = (900.0, 150.0, 16.0);
    let x = |t: u64| left + (w - left - 10.0) * (t.min(run_ms) as f64 / run_ms as f64);
    let rows = faults.len() + 1;
    let height = row * rows as f64 + 18.0;
    let mut s = format!("<svg width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\" font-size=\"11\" font-family=\"system-ui,sans-serif\" role=img aria-label=\"faults and empty answers\">");
    for (i, f) in faults.iter().enumerate() {
        let y = i as f64 * row;
        let start = f.at.ms();
        let end = start + f.duration.map(|d| d.ms()).unwrap_or(0);
        let label = format!("{} {}", f.kind.as_str(), f.target.clone().unwrap_or_default());
        let _ = write!(
            s,
            "<text text-anchor=end x=\"{:.0}\" y=\"{:.0}\">{}</text><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"10\" fill=\"#94a3b8\"><title>{}</title></rect>",
            left - 6.0,
            y + 10.0,
            esc(&label),
            x(start),
            y + 2.0,
            (x(end) - x(start)).max(2.0),
            esc(&format!("{} at {} ms for {} ms", f.id.clone().unwrap_or_default(), start, end - start))
        );
    }
    let y = faults.len() as f64 * row;
    let _ = write!(s, "<text text-anchor=end x=\"{:.0}\" y=\"{:.0}\" fill=\"#b91c1c\">empty answers</text>", left - 6.0, y + 10.0);
    for e in empty {
        let end = e.end_ms.unwrap_or(run_ms);
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"10\" fill=\"#b91c1c\"><title>{} empty {} ms{}</title></rect>",
            x(e.start_ms),
            y + 2.0,
            (x(end) - x(e.start_ms)).max(2.0),
            esc(&e.name),
            e.duration_ms,
            if e.end_ms.is_none() { " (to the end)" } else { "" }
        );
    }
    let _ = write!(s, "<text x=\"{left}\" y=\"{:.0}\" fill=\"#64748b\">0 s</text><text x=\"{:.0}\" y=\"{:.0}\" text-anchor=end fill=\"#64748b\">{:.1} s</text></svg>", height - 2.0, w - 10.0, height - 2.0, run_ms as f64 / 1000.0);
    s
}
