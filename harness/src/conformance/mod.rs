//! `dnschaos conformance`: which Route 53 guarantees does this backend keep?
//!
//! Each check runs in a hosted zone of its own, created and deleted here. The enactors' TXT lock
//! is a compare-and-swap only if "DELETE must match current values" and "batches are atomic"
//! hold, so the harness measures them rather than assuming them.

mod checks;

use serde::Serialize;

use crate::route53::BackendInfo;
use crate::error::Result;
use crate::route53::Route53;

/// One check's verdict.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    /// What real Route 53 does.
    pub expected: String,
    /// What this backend did.
    pub observed: String,
    pub conforms: bool,
}

/// All checks against one backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Report {
    pub backend: BackendInfo,
    /// Whether the checks went through the harness's strict-semantics gateway.
    pub through_gateway: bool,
    pub checks: Vec<Check>,
    pub conforming: usize,
    pub total: usize,
    pub elapsed_ms: u64,
}

impl Report {
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// A fixed-width table for terminals.
    pub fn table(&self) -> String {
        let headers = ["check", "route 53 does", "backend did", "conforms"];
        let rows: Vec<[String; 4]> = self
            .checks
            .iter()
            .map(|c| {
                [c.name.clone(), c.expected.clone(), c.observed.clone(), if c.conforms { "yes" } else { "NO" }.into()]
            })
            .collect();
        let mut widths = headers.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: [&str; 4]| {
            let mut s = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i > 0 {
                    s.push_str(" | ");
                }
                s.push_str(&format!("{cell:<w$}"));
            }
            s.trim_end().to_string()
        };
        let mut out = vec![line(headers)];
        out.push(widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("-+-"));
        for r in &rows {
            out.push(line([&r[0], &r[1], &r[2], &r[3]]));
        }
        out.push(format!(
            "{} of {} checks conform ({} backend {}, ready in {} ms)",
            self.conforming, self.total, self.backend.kind, self.backend.source, self.backend.ready_ms
        ));
        out.join("\n")
    }
}

/// Run every check. Zones are created per check and deleted afterwards, even when a check fails.
pub async fn run(r53: &Route53, backend: &BackendInfo, through_gateway: bool) -> Result<Report> {
    let clock = crate::clock::Clock::wall();
    let started = clock.now();
    let mut out = Vec::new();
    for check in checks::ALL {
        let zone_name = format!("{}.{}.dnschaos.test.", check.name, short_id());
        let zone_id = r53.create_zone(&zone_name).await?;
        let result = (check.run)(r53, zone_name.clone(), zone_id.clone()).await;
        if let Err(e) = r53.delete_zone(&zone_id).await {
            tracing::warn!(zone = zone_name, error = %e, "could not delete a conformance zone");
        }
        let verdict = match result {
            Ok(v) => v,
            Err(e) => Check {
                name: check.name.into(),
                expected: check.expected.into(),
                observed: format!("check could not run: {e}"),
                conforms: false,
            },
        };
        tracing::debug!(check = verdict.name, conforms = verdict.conforms, observed = verdict.observed);
        out.push(verdict);
    }
    let conforming = out.iter().filter(|c| c.conforms).count();
    Ok(Report {
        backend: backend.clone(),
        through_gateway,
        total: out.len(),
        conforming,
        checks: out,
        elapsed_ms: clock.since(started).as_millis() as u64,
    })
}

fn short_id() -> String {
    crate::clock::Clock::wall().unique_id()[..8].to_string()
}
