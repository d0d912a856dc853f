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

#[test]
fn plans_that_need_a_process_are_refused_for_the_simulated_backend_with_their_location() {
    let out = dnschaos(&["validate", "--backend", "sim", "chaos-plans/backend-pause.yaml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("chaos-plans/backend-pause.yaml:") && err.contains("backend-pause cannot run on the simulated backend"), "{err}");
    // The others run there.
    for plan in ["chaos-plans/october-2025-replay.yaml", "chaos-plans/steady-state.yaml"] {
        let out = dnschaos(&["validate", "--backend", "sim", plan]);
        assert!(out.status.success(), "{plan}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let run = dnschaos(&["run", "--backend", "sim", "chaos-plans/backend-pause.yaml"]);
    assert_eq!(run.status.code(), Some(2), "run --backend sim of backend-pause: {}", String::from_utf8_lossy(&run.stderr));
}

/// Three simulated runs of one plan and seeds, each in a process of its own, write the same
/// event log, truth log and summary, byte for byte, but for the run's own paths.
#[test]
fn simulated_runs_repeat_byte_for_byte() {
    let base = std::env::temp_dir().join(format!("dnschaos-determinism-{}", std::process::id()));
    let mut outputs = Vec::new();
    for i in 0..3 {
        let dir = base.join(format!("run{i}"));
        let _ = std::fs::remove_dir_all(&dir);
        let out = dnschaos(&[
            "run", "chaos-plans/october-2025-replay.yaml", "--backend", "sim", "--enactor", "legacy,fenced", "--seed", "7", "--jitter-seed", "11",
            "--out", dir.to_str().unwrap(),
        ]);
        // legacy violates the SLOs under this plan: exit 1 is the finding, not a failure.
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
        let read = |f: &str| dnschaos::paths::read_text(&dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")).replace(dir.to_str().unwrap(), "RUN");
        let files = ["summary.json", "legacy/events.jsonl", "legacy/truth.jsonl", "fenced/events.jsonl", "fenced/truth.jsonl", "legacy/probes.jsonl.gz"];
        outputs.push(files.map(read));
        assert!(outputs[i][0].contains("\"simulated\": true"), "a simulated run is labelled so");
        assert!(outputs[i][0].contains("--jitter-seed 11"), "the replay command carries both seeds");
    }
    for (i, name) in ["summary.json", "legacy/events.jsonl", "legacy/truth.jsonl", "fenced/events.jsonl", "fenced/truth.jsonl", "legacy/probes.jsonl.gz"].iter().enumerate() {
        assert!(outputs[0][i].len() > 100, "{name} is empty");
        assert!(outputs[0][i] == outputs[1][i] && outputs[1][i] == outputs[2][i], "{name} differs between the runs");
    }
    let _ = std::fs::remove_dir_all(&base);
}

/// A plan with a nemesis draws its faults from the seed: `run` prints them, stores the concrete
/// plan (drawn-plan.yaml and summary.json), and that plan replays as an ordinary plan.
#[test]
fn a_drawn_schedule_is_printed_stored_and_replayable() {
    let dir = std::env::temp_dir().join(format!("dnschaos-drawn-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dnschaos(&["run", "chaos-plans/october-2025.yaml", "--backend", "sim", "--enactor", "fenced", "--seed", "9", "--out", dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    assert!(err.contains("faults drawn with seed 9"), "{err}");
    let drawn = dnschaos::scenario::load(&dir.join("drawn-plan.yaml")).unwrap();
    assert!(drawn.plan.nemesis.is_none());
    let kinds: Vec<&str> = drawn.plan.faults.iter().map(|f| f.kind.as_str()).collect();
    assert_eq!(kinds.len(), 3, "flood, lock contention and a slow A, always: {kinds:?}");
    let summary: dnschaos::summary::Summary = serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary.plan.spec.faults, drawn.plan.faults, "summary.json holds the concrete plan");
    assert_eq!(drawn.plan.seed, 9, "the drawn plan replays with its own seed");
    // Another seed, another schedule.
    let other = dnschaos::scenario::load(&repo().join("chaos-plans/october-2025.yaml")).unwrap().plan.draw(10);
    assert_ne!(other.faults, drawn.plan.faults);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The python-boto3 outside enactor's own unit tests (offline: batch contents, lock, cleanup,
/// backoff and the protocol's stop/EOF/SIGTERM handling), run with its pinned venv.
#[test]
fn python_boto3_enactor_unit_tests_pass() {
    let python = repo().join(".dnschaos/enactor-python-venv/bin/python");
    assert!(python.exists(), "{} is missing (hint: bash fixtures/setup.sh installs it)", python.display());
    let out = std::process::Command::new(&python)
        .args(["-m", "unittest", "fixtures/enactors/python-boto3/test_enactor.py"])
        .current_dir(repo())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python runs");
    assert!(out.status.success(), "python-boto3 unit tests failed:\n{}", String::from_utf8_lossy(&out.stderr));
}
