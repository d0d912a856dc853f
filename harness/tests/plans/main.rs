//! Chaos plans: every shipped plan validates; every malformed plan in fixtures/bad-plans is
//! rejected with its expected file:line:column message, and `dnschaos run` starts nothing for it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn dnschaos(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dnschaos")).args(args).current_dir(repo()).output().expect("run dnschaos")
}

fn files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v
}

/// Split `LINE:COL: text` into the location and the text.
fn expectation(first_line: &str) -> (Option<String>, String) {
    let want = first_line.trim_start_matches("# expect:").trim();
    let mut parts = want.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(l), Some(c), Some(rest)) if l.parse::<u32>().is_ok() && c.parse::<u32>().is_ok() => {
            (Some(format!(":{l}:{c}:")), rest.trim().to_string())
        }
        _ => (None, want.to_string()),
    }
}

#[test]
fn shipped_plans_validate() {
    let plans = files("chaos-plans");
    assert!(plans.len() >= 2, "expected chaos plans, found {plans:?}");
    for p in plans {
        let out = dnschaos(&["validate", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}: {}", p.display(), String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn every_bad_plan_is_rejected_with_its_location() {
    let bad = files("fixtures/bad-plans");
    assert!(bad.len() >= 10, "the corpus should have at least 10 plans, has {}", bad.len());
    for p in bad {
        let text = std::fs::read_to_string(&p).unwrap();
        let first = text.lines().next().unwrap_or_default();
        assert!(first.starts_with("# expect:"), "{} lacks its `# expect:` line", p.display());
        let (loc, msg) = expectation(first);
        let out = dnschaos(&["validate", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: exit {:?}: {err}", p.display(), out.status.code());
        let line = err.lines().find(|l| l.starts_with("error:")).unwrap_or_else(|| panic!("{}: no error line in {err}", p.display()));
        let name = p.file_name().unwrap().to_string_lossy();
        assert!(line.contains(&*name), "{}: error does not name the file: {line}", p.display());
        if let Some(loc) = loc {
            assert!(line.contains(&format!("{name}{loc}")), "{}: expected location {loc} in: {line}", p.display());
        }
        assert!(line.contains(&msg), "{}: expected {msg:?} in: {line}", p.display());
    }
}

#[test]
fn run_starts_nothing_for_a_bad_plan() {
    let p = repo().join("fixtures/bad-plans/unknown-fault-kind.yaml");
    let started = Instant::now();
    let out = dnschaos(&["run", p.to_str().unwrap(), "--backend", "container"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    // No backend was started: that takes seconds; rejecting takes milliseconds.
    assert!(started.elapsed().as_secs() < 5, "took {:?}", started.elapsed());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("backend ready"));
}
