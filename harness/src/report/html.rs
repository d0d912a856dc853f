//! `report.html`: one self-contained page (inline CSS and SVG, no script, nothing fetched) that
//! reads at a glance on a laptop: header with the replay command and the backend, a scorecard
//! across implementations, stacked timelines on one time axis, then one card per
//! implementation with the numbers behind them.

use std::fmt::Write as _;

use super::format::{detect, esc, ms, pct, recovery, recovery_after_fault, us, utc};
use super::timeline::{self, class_colour, Axis, Enactors, CLASSES};
use super::{slo, Slo};
use crate::conformance::Report as ConformanceReport;
use crate::summary::{BackendReport, ImplementationSummary, Summary, TruthReport};

pub(super) const CSS: &str = r#"
:root{--ink:#0f172a;--mut:#64748b;--line:#e2e8f0;--bg:#f5f6f8;--card:#fff;--bad:#b91c1c;--badbg:#fef2f2;--ok:#15803d;--okbg:#f0fdf4;--warn:#a16207;--warnbg:#fefce8}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1400px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:26px;margin:2px 0 4px;display:flex;align-items:center;gap:12px}
h2{font-size:17px;margin:0 0 10px}
h3{font-size:15px;margin:0;display:flex;align-items:center;gap:8px}
h4{font-size:12px;margin:14px 0 6px;color:var(--mut);text-transform:uppercase;letter-spacing:.04em}
section,.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin-top:16px}
.eyebrow{color:var(--mut);font-size:12px;text-transform:uppercase;letter-spacing:.06em}
.desc{margin:0 0 8px;color:#334155;max-width:900px}
.top{display:grid;grid-template-columns:minmax(0,1fr) 400px;gap:16px;align-items:start}
.top>.card{margin-top:0}
.meta{display:flex;flex-wrap:wrap;gap:4px 22px;margin:6px 0 10px;font-size:13px}
.meta b{color:var(--mut);font-weight:500;margin-right:4px}
.replay{display:flex;align-items:center;gap:8px;background:#0f172a;color:#e2e8f0;border-radius:6px;padding:8px 12px;font:13px/1.4 ui-monospace,"DejaVu Sans Mono",Menlo,monospace;overflow-x:auto;white-space:nowrap}
.replay span{color:#94a3b8;user-select:none}
.headline{font-size:15px;margin:8px 0 0}
.badge{display:inline-block;font-size:12px;font-weight:700;letter-spacing:.05em;padding:2px 8px;border-radius:4px;vertical-align:middle}
.badge.pass{background:#dcfce7;color:var(--ok)}
.badge.fail{background:#fee2e2;color:var(--bad)}
.tag{display:inline-block;font-size:11px;padding:1px 6px;border-radius:3px;background:#fee2e2;color:var(--bad);margin-left:6px;font-weight:600}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--mut);font-weight:600}
th small{display:block;font-weight:400}
td.num{text-align:right;white-space:nowrap}
th.num{text-align:right}
.score td{font-size:14px}
.score th,.score td{padding:5px 6px}
.score td.impl{font-weight:700;white-space:nowrap}
td.bad{background:var(--badbg);color:var(--bad);font-weight:600}
td.warn{background:var(--warnbg);color:var(--warn)}
td.good{color:var(--ok)}
tr.reasons td{border-bottom:1px solid var(--line);padding:2px 8px 8px 24px;font-size:12.5px;color:#7f1d1d}
tr.reasons ul{margin:0;padding-left:16px}
.sm{font-size:12px;color:var(--mut)}
.small td,.small th{font-size:12.5px;padding:3px 6px}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12.5px;margin:0 0 6px;align-items:center}
.legend i{display:inline-block;width:14px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.legend svg{vertical-align:-2px;margin-right:4px}
.panel{margin-top:12px}
.panel h3{margin-bottom:2px}
.panel .facts{font-size:12.5px;color:#334155;font-weight:400}
svg.tl{display:block}
svg.tl text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
svg.tl .lbl{text-anchor:end;fill:#0f172a;font-size:12px}
svg.tl .sub{text-anchor:end;fill:#64748b;font-size:10px}
svg.tl .tick{text-anchor:middle;fill:#64748b}
svg.tl .grid{stroke:#e2e8f0;stroke-width:1}
svg.tl .shade{fill:#334155;fill-opacity:.07}
svg.tl .edge{stroke:#475569;stroke-opacity:.45;stroke-dasharray:3 3}
svg.tl .fl{fill:#0f172a;font-size:11px}
svg.tl .fl.in{fill:#fff}
svg.tl .fl.end{text-anchor:end}
svg.tl .ok{fill:#15803d;font-size:11.5px}
svg.tl .bad{fill:#b91c1c;font-size:11.5px;font-weight:600}
svg.tl .after{fill:#64748b;font-size:11px}
svg.tl .genbg{fill:#f8fafc;stroke:#e2e8f0}
svg.tl .step{fill:none;stroke:#334155;stroke-width:1.4}
svg.tl .gy{fill:#64748b;font-size:10px}
svg.tl .back{fill:none;stroke:#dc2626;stroke-width:2}
svg.tl .backl{fill:#b91c1c;font-size:11px;font-weight:600;text-anchor:end;paint-order:stroke;stroke:#fff;stroke-width:3px}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px}
.grid2>.card{margin-top:16px}
.kv{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:6px 12px;margin:4px 0}
.kv div{background:#f8fafc;border:1px solid var(--line);border-radius:6px;padding:5px 8px}
.kv b{display:block;font-size:11px;color:var(--mut);font-weight:500}
a{color:#1d4ed8}
.kv span{font-size:15px;font-weight:600;font-variant-numeric:tabular-nums}
.cbar{display:block;border-radius:3px;margin:4px 0 6px}
.yes{color:var(--ok);font-weight:600}
.no{color:var(--bad);font-weight:600}
code{font:12.5px ui-monospace,"DejaVu Sans Mono",Menlo,monospace}
.small code,.nw{white-space:nowrap}
footer{margin-top:20px;color:var(--mut);font-size:12px}
@media (max-width:1100px){.top{grid-template-columns:1fr}.kv{grid-template-columns:repeat(2,minmax(0,1fr))}}
"#;

pub(super) fn render(s: &Summary) -> String {
    let slo = slo(s);
    let mut h = String::with_capacity(64 * 1024);
    let failed: Vec<&str> = s.enactors.iter().filter(|e| !e.verdict.passed).map(|e| e.implementation.as_str()).collect();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} {} · seed {} · dnschaos</title><style>{CSS}</style></head><body><main>",
        if s.passed { "PASS" } else { "FAIL" },
        esc(&s.plan.name),
        s.seed
    );
    header(&mut h, s, &slo, &failed);
    scorecard(&mut h, s, &slo);
    timelines(&mut h, s);
    h.push_str("<div class=\"grid2\">");
    for e in &s.enactors {
        details(&mut h, e);
    }
    h.push_str("</div>");
    conformance(&mut h, &s.backend);
    let _ = writeln!(
        h,
        "<footer>Rendered by dnschaos from summary.json (the source of truth; this page is a view of it). Times are milliseconds since the \
run's event-log epoch. Plan file {}.</footer></main></body></html>",
        esc(&s.plan.path)
    );
    h
}

fn verdict_badge(passed: bool) -> &'static str {
    if passed {
        "<span class=\"badge pass\">PASS</span>"
    } else {
        "<span class=\"badge fail\">FAIL</span>"
    }
}

fn header(h: &mut String, s: &Summary, slo: &Slo, failed: &[&str]) {
    let impls: Vec<&str> = s.enactors.iter().map(|e| e.implementation.as_str()).collect();
    let _ = write!(
        h,
        "<div class=\"top\"><div><div class=\"eyebrow\">dnschaos chaos run{}</div><h1>{} {}{}</h1><p class=\"desc\">{}</p>",
        if s.simulated { " · simulated (searches; confirms nothing)" } else { "" },
        esc(&s.plan.name),
        verdict_badge(s.passed),
        if s.simulated { " <span class=\"badge\" style=\"background:#e0e7ff;color:#3730a3\">SIMULATED</span>" } else { "" },
        esc(&s.plan.description)
    );
    let _ = write!(
        h,
        "<div class=\"meta\"><span><b>seed</b>{}</span><span><b>plan</b><code>{}</code></span><span><b>duration</b>{}</span><span><b>started</b>{}</span><span><b>implementations</b>{}</span><span><b>SLO</b>max-empty-window {} · max-time-to-recovery {}</span></div>",
        s.seed,
        esc(&s.plan.path),
        ms(s.plan.duration_ms),
        utc(s.started_at_epoch_ms),
        esc(&impls.join(", ")),
        ms(slo.max_empty_window_ms),
        ms(slo.max_time_to_recovery_ms)
    );
    let _ = write!(h, "<div class=\"replay\"><span>replay $</span><code>{}</code></div>", esc(&s.replay));
    let headline = if failed.is_empty() {
        format!("All {} implementation(s) met the plan's SLOs and invariants.", s.enactors.len())
    } else {
        format!("{} of {} implementation(s) failed: <b>{}</b>.", failed.len(), s.enactors.len(), esc(&failed.join(", ")))
    };
    let _ = write!(h, "<p class=\"headline\">{headline}</p></div>");
    backend(h, &s.backend);
    h.push_str("</div>");
}

fn backend(h: &mut String, b: &BackendReport) {
    let info = &b.info;
    h.push_str("<div class=\"card\"><h2>Backend</h2><table class=\"small\">");
    let mut rows: Vec<(&str, String)> = vec![("kind", info.kind.clone()), ("source", info.source.clone())];
    if let Some(v) = &info.version {
        rows.push(("version", v.clone()));
    }
    rows.push(("ready in", format!("{} ({} ms)", ms(info.ready_ms), info.ready_ms)));
    if let Some(url) = &info.endpoint_url {
        // Shown without its scheme: the page links to nothing.
        let host = url.split_once("://").map(|(_, rest)| rest.to_string()).unwrap_or(url.clone());
        rows.push(("endpoint", host));
    }
    rows.push(("real AWS", if info.real_aws { "yes".into() } else { "no".into() }));
    for (k, v) in rows {
        let _ = write!(h, "<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
    }
    h.push_str("</table>");
    let mut any = false;
    for (report, title) in conformance_reports(b) {
        let checks = &report.checks;
        any = true;
        let deviating: Vec<&str> = checks.iter().filter(|c| !c.conforms).map(|c| c.name.as_str()).collect();
        let _ = write!(
            h,
            "<p class=\"sm\"><b>{title}:</b> {}/{} checks conform{}. <a href=\"#conformance\">Table below</a>.</p>",
            checks.len() - deviating.len(),
            checks.len(),
            if deviating.is_empty() { String::new() } else { format!("; deviates: {}", deviating.iter().map(|d| format!("<b class=\"no nw\">{}</b>", esc(d))).collect::<Vec<_>>().join(", ")) }
        );
    }
    if !any {
        h.push_str("<p class=\"sm\">Conformance: not checked in this run (it is embedded unless <code>--no-conformance</code>).</p>");
    }
    h.push_str("</div>");
}

/// The backend's conformance reports that the run embedded, with their titles.
fn conformance_reports(b: &BackendReport) -> Vec<(&ConformanceReport, &'static str)> {
    [(&b.conformance, "Conformance"), (&b.conformance_through_gateway, "Conformance through the strict gateway")]
        .into_iter()
        .filter_map(|(r, title)| r.as_ref().map(|r| (r, title)))
        .collect()
}

/// The full conformance tables, at the end of the page (the header names the deviations).
fn conformance(h: &mut String, b: &BackendReport) {
    let mut first = true;
    for (report, title) in conformance_reports(b) {
        let checks = &report.checks;
        let ok = checks.iter().filter(|c| c.conforms).count();
        let _ = write!(
            h,
            "<section{}><h2>Backend {}: {ok}/{} checks conform</h2><table class=\"small\"><tr><th>check</th><th>real Route 53</th><th>this backend</th><th></th></tr>",
            if first { " id=\"conformance\"" } else { "" },
            title.to_lowercase(),
            checks.len()
        );
        first = false;
        for c in checks {
            let get = |k: &str| match k {
                "name" => c.name.as_str(),
                "expected" => c.expected.as_str(),
                _ => c.observed.as_str(),
            };
            let conforms = c.conforms;
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td{}>{}</td><td class=\"{}\">{}</td></tr>",
                esc(get("name")),
                esc(get("expected")),
                if conforms { "" } else { " class=\"warn\"" },
                esc(get("observed")),
                if conforms { "yes" } else { "no" },
                if conforms { "conforms" } else { "deviates" }
            );
        }
        h.push_str("</table></section>");
    }
}

/// The truth log's view: exact control-plane empty time, and the probes against it.
fn truth(h: &mut String, e: &ImplementationSummary, t: &TruthReport) {
    let worst_start = t.probe_windows.iter().map(|m| m.start_error_ms.unsigned_abs()).max().unwrap_or(0);
    let worst_end = t.probe_windows.iter().filter_map(|m| m.end_error_ms).map(|x| x.unsigned_abs()).max().unwrap_or(0);
    let _ = write!(
        h,
        "<h4>What the backend held (truth log)</h4><div class=\"kv\"><div><b>commits</b><span>{}</span></div><div><b>control-plane empty</b><span>{} ms</span></div>\
<div><b>probe windows matched</b><span>{}</span></div><div><b>worst boundary error</b><span>{worst_start} / {worst_end} ms</span></div>\
<div><b>intervals probes missed</b><span>{}</span></div><div><b>probe windows without truth</b><span{}>{}</span></div>\
<div><b>backend drift</b><span>{}</span></div><div><b>harness calls faulted</b><span{}>{}</span></div></div>",
        t.commits,
        t.empty_ms,
        t.probe_windows.len(),
        t.missed.len(),
        if t.unexplained.is_empty() { "" } else { " class=\"no\"" },
        t.unexplained.len(),
        t.drift_commits,
        if e.harness_calls_faulted == 0 { "" } else { " class=\"no\"" },
        e.harness_calls_faulted
    );
    for d in &t.disagreements {
        let _ = write!(h, "<p class=\"sm no\">{}</p>", esc(d));
    }
}

fn scorecard(h: &mut String, s: &Summary, slo: &Slo) {
    let _ = write!(
        h,
        "<section><h2>Scorecard</h2><table class=\"score\"><tr><th>implementation</th><th>verdict</th>\
<th class=\"num\">total empty time</th><th class=\"num\">longest empty window<small>SLO ≤ {}</small></th>\
<th class=\"num\">time to recovery<small>SLO ≤ {}</small></th><th class=\"num\">recovery after fault</th><th class=\"num\">time to detect</th>\
<th class=\"num\">availability</th><th>invariants held</th><th class=\"num\">faults fired</th><th class=\"num\">probes</th></tr>",
        ms(slo.max_empty_window_ms),
        ms(slo.max_time_to_recovery_ms)
    );
    for e in &s.enactors {
        let longest_bad = e.longest_empty_ms > slo.max_empty_window_ms;
        let ttr_bad = e.time_to_recovery_ms.is_none_or(|t| t > slo.max_time_to_recovery_ms);
        let held = e.invariants.iter().filter(|i| i.held).count();
        let broken: Vec<&str> = e.invariants.iter().filter(|i| !i.held).map(|i| i.name.as_str()).collect();
        let applicable: Vec<_> = e.faults.iter().filter(|f| f.applicable).collect();
        let fired = applicable.iter().filter(|f| f.fired).count();
        let probes: u64 = e.probe_counts.values().sum();
        let cls = |bad: bool, warn: bool| {
            if bad {
                "num bad"
            } else if warn {
                "num warn"
            } else {
                "num good"
            }
        };
        let _ = write!(
            h,
            "<tr><td class=\"impl\">{}{}</td><td>{}</td><td class=\"{}\" title=\"{} ms\">{}<div class=\"sm\">{} window(s)</div></td><td class=\"{}\" title=\"{} ms\">{}</td>\
<td class=\"{}\">{}</td><td class=\"{}\">{}</td><td class=\"num\">{}</td><td class=\"{}\">{}</td><td class=\"{}\">{held}/{}{}</td><td class=\"{}\">{fired}/{}</td><td class=\"num\">{probes}</td></tr>",
            esc(&e.implementation),
            if e.reproduced_october_2025 { "<span class=\"tag\" title=\"an endpoint answered no records and every enactor was stuck\">reproduced Oct 2025</span>" } else { "" },
            verdict_badge(e.verdict.passed),
            cls(longest_bad, e.total_empty_ms > 0),
            e.total_empty_ms,
            ms(e.total_empty_ms),
            e.empty_windows.len(),
            cls(longest_bad, e.longest_empty_ms > 0),
            e.longest_empty_ms,
            ms(e.longest_empty_ms),
            cls(ttr_bad, false),
            recovery(e.time_to_recovery_ms),
            if e.time_to_recovery_ms.is_none() { "num bad" } else { "num" },
            recovery_after_fault(e.time_to_recovery_after_fault_ms, e.time_to_recovery_ms),
            detect(e.time_to_detect_ms, !e.windows.is_empty()),
            cls(false, e.availability_pct < 100.0),
            pct(e.availability_pct),
            if broken.is_empty() { "good" } else { "bad" },
            e.invariants.len(),
            if broken.is_empty() {
                String::new()
            } else {
                format!("<div class=\"sm nw\">failed:<br>{}</div>", broken.iter().map(|b| esc(b)).collect::<Vec<_>>().join("<br>"))
            },
            cls(fired < applicable.len(), false),
            applicable.len()
        );
        if !e.verdict.failures.is_empty() {
            h.push_str("<tr class=\"reasons\"><td colspan=\"11\"><ul>");
            for f in &e.verdict.failures {
                let _ = write!(h, "<li>{}</li>", esc(f));
            }
            h.push_str("</ul></td></tr>");
        }
    }
    h.push_str("</table></section>");
}

fn timelines(h: &mut String, s: &Summary) {
    let domain_ms = s.enactors.iter().map(|e| e.run_ms).max().unwrap_or(0).max(1);
    let axis = Axis { domain_ms };
    let enactors = Enactors::new(s.enactors.iter());
    let groups = timeline::layout(s.enactors.iter());
    let _ = write!(
        h,
        "<section><h2>{}</h2><div class=\"legend\"><span><b>probe answers:</b></span>",
        if s.enactors.len() > 1 { "Timelines — every implementation on one time axis" } else { "Timeline" }
    );
    for c in CLASSES {
        let name = c.as_str();
        let label = match name {
            "current" => "current (good)",
            "stale" => "stale (older plan)",
            "empty" => "empty (NOERROR, no records)",
            other => other,
        };
        let _ = write!(h, "<span><i style=\"background:{}\"></i>{label}</span>", class_colour(name));
    }
    h.push_str("<span><i style=\"background:#e2e5ea;border:1px dashed #475569\"></i>fault active</span></div><div class=\"legend\"><span><b>flips by:</b></span>");
    for n in enactors.names() {
        let _ = write!(
            h,
            "<span><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"12\" height=\"12\" viewBox=\"0 0 12 12\">{}</svg>{}</span>",
            enactors.mark(n, 6.0, 6.0, 4.0),
            esc(n)
        );
    }
    h.push_str("<span><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"14\" height=\"14\" viewBox=\"0 0 14 14\"><circle cx=\"7\" cy=\"7\" r=\"5.5\" fill=\"none\" stroke=\"#dc2626\" stroke-width=\"2\"/></svg>generation moved backwards</span>");
    h.push_str("<span class=\"sm\">x axis: ms since the run's epoch; hover for exact numbers</span></div>");
    for (i, e) in s.enactors.iter().enumerate() {
        let _ = write!(
            h,
            "<div class=\"panel\"><h3>{} {} <span class=\"facts\">empty {} · longest {} · recovery {} · availability {} · run {}</span></h3>{}</div>",
            esc(&e.implementation),
            verdict_badge(e.verdict.passed),
            ms(e.total_empty_ms),
            ms(e.longest_empty_ms),
            recovery(e.time_to_recovery_ms),
            pct(e.availability_pct),
            ms(e.run_ms),
            timeline::panel(i, e, &groups, &axis, &enactors)
        );
    }
    h.push_str("</section>");
}

fn details(h: &mut String, e: &ImplementationSummary) {
    let _ = write!(h, "<div class=\"card\"><h3>{} {}</h3>", esc(&e.implementation), verdict_badge(e.verdict.passed));
    let _ = write!(h, "<div class=\"sm\">enactors: {}</div>", esc(&e.enactors.join(", ")));

    // Probes: counts by class and latency.
    let total: u64 = e.probe_counts.values().sum();
    let _ = write!(h, "<h4>Probes: {total} answered or timed out</h4>{}", timeline::counts_bar(&e.probe_counts));
    h.push_str("<div class=\"legend\">");
    for (k, v) in &e.probe_counts {
        let share = if total == 0 { 0.0 } else { *v as f64 * 100.0 / total as f64 };
        let _ = write!(h, "<span><i style=\"background:{}\"></i>{} {v} ({share:.1} %)</span>", class_colour(k), esc(k));
    }
    h.push_str("</div>");
    let l = &e.latency;
    let _ = write!(
        h,
        "<div class=\"kv\"><div><b>latency p50</b><span>{}</span></div><div><b>p90</b><span>{}</span></div><div><b>p99</b><span>{}</span></div><div><b>max</b><span>{}</span></div></div><div class=\"sm\">over {} answered probes</div>",
        us(l.p50_us),
        us(l.p90_us),
        us(l.p99_us),
        us(l.max_us),
        l.count
    );

    // Bad windows.
    let _ = write!(h, "<h4>Bad windows: {}</h4>", e.windows.len());
    if e.windows.is_empty() {
        h.push_str("<p class=\"sm\">none: every name answered current or stale throughout.</p>");
    } else {
        h.push_str("<table class=\"small\"><tr><th>name</th><th>class</th><th class=\"num\">start</th><th class=\"num\">end</th><th class=\"num\">duration</th><th class=\"num\">recovery</th><th class=\"num\">detected after</th></tr>");
        let mut ws: Vec<_> = e.windows.iter().collect();
        ws.sort_by_key(|w| (w.start_ms, w.name.clone()));
        for w in ws {
            let c = w.class.as_str();
            let _ = write!(
                h,
                "<tr><td>{}</td><td><i style=\"display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:4px;background:{}\"></i>{c}</td><td class=\"num\">{} ms</td><td class=\"num\">{}</td><td class=\"num\">{} ms</td><td class=\"num{}\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&w.name),
                class_colour(c),
                w.start_ms,
                w.end_ms.map(|t| format!("{t} ms")).unwrap_or_else(|| "open at end".into()),
                w.duration_ms,
                if w.recovery_ms.is_none() { " bad" } else { "" },
                recovery(w.recovery_ms),
                w.detect_ms.map(ms).unwrap_or_else(|| "not detected".into())
            );
        }
        h.push_str("</table>");
    }

    // Invariants.
    let held = e.invariants.iter().filter(|i| i.held).count();
    let _ = write!(h, "<h4>Invariants: {held}/{} held</h4><table class=\"small\">", e.invariants.len());
    for i in &e.invariants {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td class=\"{}\">{}</td><td>{}</td></tr>",
            esc(&i.name),
            if i.held { "yes" } else { "no" },
            if i.held { "held" } else { "violated" },
            esc(i.first_violation.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</table>");

    // Faults.
    let _ = write!(h, "<h4>Faults: {}</h4>", e.faults.len());
    if !e.faults.is_empty() {
        h.push_str("<table class=\"small\"><tr><th>fault</th><th>kind → target</th><th class=\"num\">active</th><th>fired</th><th>evidence</th></tr>");
        for f in &e.faults {
            let span = match (f.start_ms, f.end_ms) {
                (Some(a), Some(b)) => format!("{a}–{b} ms"),
                (Some(a), None) => format!("{a} ms – end"),
                _ => "never started".into(),
            };
            let (cls, word) = match (f.applicable, f.fired) {
                (false, _) => ("", "n/a"),
                (true, true) => ("yes", "fired"),
                (true, false) => ("no", "NOT fired"),
            };
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td class=\"nw\">{} → {}</td><td class=\"num\">{span}</td><td class=\"{cls}\">{word}</td><td>{}</td></tr>",
                esc(&f.id),
                esc(f.kind.as_str()),
                esc(&f.target),
                esc(&f.evidence)
            );
        }
        h.push_str("</table>");
    }

    // Stuck enactors, counters, truth or cross-check, cached clients, final state.
    if e.truth.is_some() {
        let _ = write!(h, "<h4>Stuck enactors (the analysis's finding): {}</h4>", e.stuck.len());
        if e.stuck.is_empty() {
            h.push_str("<p class=\"sm\">none: no enactor was refused three times in a row for a missing alias target, nor failed for 10 s without a commit while no fault held it.</p>");
        }
    } else {
        let _ = write!(h, "<h4>Stuck enactors: {}</h4>", e.stuck.len());
        if e.stuck.is_empty() {
            h.push_str("<p class=\"sm\">none reported themselves stuck.</p>");
        }
    }
    if !e.stuck.is_empty() {
        h.push_str("<table class=\"small\">");
        for (en, why) in &e.stuck {
            let what = if e.truth.is_some() { why.join(", ") } else { format!("stuck on {}", why.join(", ")) };
            let _ = write!(h, "<tr><td><code>{}</code></td><td class=\"no\">{}</td></tr>", esc(en), esc(&what));
        }
        h.push_str("</table>");
    }
    h.push_str("<h4>Counters</h4><div class=\"kv\">");
    for (k, v) in &e.counters {
        let _ = write!(h, "<div><b>{}</b><span>{v}</span></div>", esc(&k.replace('_', " ")));
    }
    h.push_str("</div>");
    match &e.truth {
        Some(t) => truth(h, e, t),
        None if e.cross_check.control_plane_samples > 0 => {
            let c = &e.cross_check;
            let _ = write!(
                h,
                "<h4>Cross-check: probes vs control plane</h4><div class=\"kv\"><div><b>probe empty (A)</b><span>{} ms</span></div><div><b>control-plane empty</b><span>{} ms</span></div><div><b>difference</b><span>{} ms</span></div><div><b>control-plane samples</b><span>{}</span></div></div>",
                c.probe_empty_ms, c.control_plane_empty_ms, c.difference_ms, c.control_plane_samples
            );
        }
        None => h.push_str(
            "<h4>What the backend held</h4><p class=\"sm\">No truth log: this run had no strict gateway. Without it a rollback alias to a deleted \
tree is accepted (see the conformance check <code>alias-target-exists</code>), so verdicts differ from Route 53's.</p>",
        ),
    }
    if !e.cached_empty_ms.is_empty() {
        h.push_str("<h4>Through a caching resolver</h4><table class=\"small\"><tr><th>name</th><th class=\"num\">empty at the authority</th><th class=\"num\">empty for cached clients</th></tr>");
        for (name, cached) in &e.cached_empty_ms {
            let authority: u64 = e.empty_windows.iter().filter(|w| &w.name == name).map(|w| w.duration_ms).sum();
            let _ = write!(h, "<tr><td>{}</td><td class=\"num\">{authority} ms</td><td class=\"num\">{cached} ms</td></tr>", esc(name));
        }
        h.push_str("</table><p class=\"sm\">A resolver keeps an answer for its TTL and an empty one for the SOA's negative TTL: a short outage at the authority can last longer for its clients, or be hidden by a cached positive answer.</p>");
    }
    if !e.final_state.is_empty() {
        h.push_str("<h4>Final state</h4><table class=\"small\"><tr><th>endpoint</th><th>active</th><th>answer</th></tr>");
        for (ep, st) in &e.final_state {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                esc(ep),
                st.active.map(|g| format!("g{g}")).unwrap_or_else(|| "none".into()),
                if st.empty { "no" } else { "yes" },
                if st.empty { "NOERROR, no records".to_string() } else { format!("{} address(es)", st.addresses) }
            );
        }
        h.push_str("</table>");
    }
    let _ = write!(h, "<p class=\"sm\">events: <code>{}</code><br>probes: <code>{}</code></p></div>", esc(&e.events_path), esc(&e.probes_path));
}
