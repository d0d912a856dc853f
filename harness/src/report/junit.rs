//! `junit.xml`: one `<testsuite>` per implementation; one `<testcase>` per SLO
//! (max-empty-window, max-time-to-recovery), per invariant and per fault ("fault X fired").
//! Failures carry the numbers in `message`; the body lists the evidence.
//!
//! Shape (the common JUnit schema CI systems read):
//! `testsuites[name tests failures errors skipped time] / testsuite[name tests failures errors
//! skipped time timestamp] / properties / testcase[classname name time] / failure[message type]`.
//! A fault that cannot apply to an implementation (its target does not exist there) is
//! `<skipped/>`, not a pass.

use std::fmt::Write as _;

use super::format::{esc, ms};
use super::{slo, Slo};
use crate::summary::{ImplementationSummary, Summary};

/// One test case before it becomes XML.
struct Case {
    name: String,
    time_s: f64,
    outcome: Outcome,
    out: Option<String>,
}

enum Outcome {
    Pass,
    Fail { message: String, kind: &'static str, body: String },
    Skip(String),
}

pub(super) fn render(summary: &Summary) -> String {
    let slo = slo(summary);
    let suites: Vec<(&ImplementationSummary, Vec<Case>)> = summary.enactors.iter().map(|e| (e, cases(e, &slo))).collect();
    let count = |f: &dyn Fn(&Case) -> bool| suites.iter().flat_map(|(_, cs)| cs).filter(|c| f(c)).count();
    let tests = count(&|_| true);
    let failures = count(&|c| matches!(c.outcome, Outcome::Fail { .. }));
    let skipped = count(&|c| matches!(c.outcome, Outcome::Skip(_)));
    let total_s: f64 = summary.enactors.iter().map(|e| e.run_ms as f64 / 1000.0).sum();

    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"dnschaos {}{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{total_s:.3}\">",
        esc(&summary.plan.name),
        if summary.simulated { " (simulated)" } else { "" }
    );
    let timestamp = iso8601(summary.started_at_epoch_ms);
    for (e, cases) in &suites {
        let classname = format!("dnschaos.{}.{}", summary.plan.name, e.implementation);
        let f = cases.iter().filter(|c| matches!(c.outcome, Outcome::Fail { .. })).count();
        let s = cases.iter().filter(|c| matches!(c.outcome, Outcome::Skip(_))).count();
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"0\" skipped=\"{s}\" time=\"{:.3}\" timestamp=\"{timestamp}\">",
            esc(&format!("{} / {}{}", summary.plan.name, e.implementation, if summary.simulated { " (simulated)" } else { "" })),
            cases.len(),
            e.run_ms as f64 / 1000.0
        );
        x.push_str("    <properties>\n");
        let backend = format!("{} {}", summary.backend.info.kind, summary.backend.info.source);
        for (k, v) in [
            ("seed", summary.seed.to_string()),
            ("plan", summary.plan.name.clone()),
            ("plan-path", summary.plan.path.clone()),
            ("replay", summary.replay.clone()),
            ("implementation", e.implementation.clone()),
            ("backend", backend),
        ]
        .into_iter()
        .chain(summary.simulated.then(|| ("simulated", "true".to_string())))
        {
            let _ = writeln!(x, "      <property name=\"{k}\" value=\"{}\"/>", esc(&v));
        }
        x.push_str("    </properties>\n");
        for c in cases {
            let _ = write!(x, "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"", esc(&classname), esc(&c.name), c.time_s);
            if matches!(c.outcome, Outcome::Pass) && c.out.is_none() {
                x.push_str("/>\n");
                continue;
            }
            x.push_str(">\n");
            match &c.outcome {
                Outcome::Pass => {}
                Outcome::Fail { message, kind, body } => {
                    let _ = writeln!(x, "      <failure message=\"{}\" type=\"{kind}\">{}</failure>", esc(message), esc(body));
                }
                Outcome::Skip(m) => {
                    let _ = writeln!(x, "      <skipped message=\"{}\"/>", esc(m));
                }
            }
            if let Some(out) = &c.out {
                let _ = writeln!(x, "      <system-out>{}</system-out>", esc(out));
            }
            x.push_str("    </testcase>\n");
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

fn cases(e: &ImplementationSummary, slo: &Slo) -> Vec<Case> {
    let mut out = Vec::new();

    // SLO: max-empty-window.
    let windows: String = e
        .empty_windows
        .iter()
        .map(|w| {
            let end = w.end_ms.map(|t| format!("{t} ms")).unwrap_or_else(|| "open at the end of the run".into());
            format!("{}: empty from {} ms to {end} ({} ms)\n", w.name, w.start_ms, w.duration_ms)
        })
        .collect();
    out.push(Case {
        name: "slo max-empty-window".into(),
        time_s: 0.0,
        outcome: if e.longest_empty_ms > slo.max_empty_window_ms {
            Outcome::Fail {
                message: format!(
                    "longest empty-answer window {} ms > max-empty-window {} ms ({} window(s), {} ms empty in total)",
                    e.longest_empty_ms,
                    slo.max_empty_window_ms,
                    e.empty_windows.len(),
                    e.total_empty_ms
                ),
                kind: "slo",
                body: windows,
            }
        } else {
            Outcome::Pass
        },
        out: None,
    });

    // SLO: max-time-to-recovery.
    let open: Vec<String> = e
        .windows
        .iter()
        .filter(|w| w.recovery_ms.is_none())
        .map(|w| format!("{} {} from {} ms", w.name, w.class.as_str(), w.start_ms))
        .collect();
    let ttr = match e.time_to_recovery_ms {
        None => Outcome::Fail {
            message: format!(
                "time to recovery never: {} window(s) never recovered within the run of {} ms (max-time-to-recovery {} ms)",
                open.len(),
                e.run_ms,
                slo.max_time_to_recovery_ms
            ),
            kind: "slo",
            body: open.join("\n"),
        },
        Some(t) if t > slo.max_time_to_recovery_ms => Outcome::Fail {
            message: format!("time to recovery {t} ms > max-time-to-recovery {} ms", slo.max_time_to_recovery_ms),
            kind: "slo",
            body: String::new(),
        },
        Some(_) => Outcome::Pass,
    };
    out.push(Case { name: "slo max-time-to-recovery".into(), time_s: 0.0, outcome: ttr, out: None });

    for inv in &e.invariants {
        out.push(Case {
            name: format!("invariant {}", inv.name),
            time_s: 0.0,
            outcome: if inv.held {
                Outcome::Pass
            } else {
                let v = inv.first_violation.clone().unwrap_or_else(|| "violated (no detail recorded)".into());
                Outcome::Fail { message: format!("invariant {} violated: {v}", inv.name), kind: "invariant", body: v }
            },
            out: None,
        });
    }

    for f in &e.faults {
        let span = match (f.start_ms, f.end_ms) {
            (Some(s), Some(t)) => format!("active {s}..{t} ms ({})", ms(t.saturating_sub(s))),
            (Some(s), None) => format!("active from {s} ms to the end of the run"),
            _ => "never started".into(),
        };
        let time_s = match (f.start_ms, f.end_ms) {
            (Some(s), Some(t)) => t.saturating_sub(s) as f64 / 1000.0,
            _ => 0.0,
        };
        let outcome = if !f.applicable {
            Outcome::Skip(format!("fault {} ({}) does not apply to {}: {}", f.id, f.kind, e.implementation, f.evidence))
        } else if !f.fired {
            Outcome::Fail {
                message: format!("fault {} ({}) on {} never fired: {} ({span})", f.id, f.kind, f.target, f.evidence),
                kind: "fault",
                body: String::new(),
            }
        } else {
            Outcome::Pass
        };
        out.push(Case {
            name: format!("fault {} fired", f.id),
            time_s,
            outcome,
            out: Some(format!("{} on {}, {span}: {}", f.kind, f.target, f.evidence)),
        });
    }
    out
}

/// `YYYY-MM-DDTHH:MM:SS` (UTC, as JUnit's timestamp attribute expects: no zone suffix).
fn iso8601(epoch_ms: u64) -> String {
    let s = super::format::utc(epoch_ms);
    format!("{}T{}", &s[..10], &s[11..19])
}
