//! Reports: the HTML and JUnit views of the fixture summary, the `report`, `baseline` and
//! `report-index` commands with their exit codes, and the headless-Chromium check of the page.
//! No backend needed. CLI tests run the real binary with `DNSCHAOS_HOME` pointing at a scratch
//! folder, so baselines never touch the repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dnschaos::summary::Summary;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/summaries/october-2025-legacy-fenced.json");
const CHECK_HTML: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/report/check-html.sh");

fn fixture() -> Summary {
    dnschaos::report::load(Path::new(FIXTURE)).expect("fixture summary loads").1
}

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_summary(dir: &Path, s: &Summary) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("summary.json");
    std::fs::write(&p, serde_json::to_string_pretty(s).unwrap()).unwrap();
    p
}

/// Run the CLI with `DNSCHAOS_HOME` = `home`.
fn cli(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dnschaos"))
        .args(args)
        .env("DNSCHAOS_HOME", home)
        .env("RUST_LOG", "warn")
        .env_remove("DNSCHAOS_REPORT_OUT")
        .output()
        .expect("run dnschaos")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "exit code\nstdout:\n{}\nstderr:\n{}", stdout(o), stderr(o));
}

#[track_caller]
fn assert_has(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "missing {n:?} in:\n{text}");
    }
}

// ---------------------------------------------------------------- HTML

#[test]
fn html_shows_the_numbers_never_the_replay_command_faults_and_both_implementations() {
    let s = fixture();
    let html = dnschaos::report::render_html(&s);
    assert_has(
        &html,
        &[
            // Header: plan, description, seed, replay, backend.
            "october-2025",
            "Lock-starved enactor A flips to an old plan",
            "<b>seed</b>2025",
            "dnschaos run chaos-plans/october-2025.yaml --enactor legacy,fenced --seed 2025",
            "localstack/localstack:4.13.1",
            "3548 ms",
            // Empty windows' numbers, in ms and at a glance.
            "25360 ms",
            "25198 ms",
            "25190 ms",
            "23989 ms",
            "75.75 s",
            "25.36 s",
            "39.10 %",
            "100.00 %",
            // Recovery that never came.
            ">never<",
            "open at end",
            // Faults, labelled on the timeline and in the tables.
            "plan-flood · flood → planner",
            "a-lock-starved · pause → enactor:0",
            "b-cleanup-overlaps",
            "third-lock-starved",
            "a-stays-slow",
            // Per probed name, and the generation step charts.
            "regional A",
            "dualstack A",
            "dualstack AAAA",
            "applied generation",
            "g117→g75",
            // Invariants, failure reasons, stuck enactors, latency, counters, cross-check.
            "0/4",
            "4/4",
            "invariant no-empty-answer violated",
            "stuck on regional",
            "291 µs",
            "2.58 ms",
            "batches committed",
            "17300 ms",
        ],
    );
    for implementation in ["legacy", "fenced"] {
        assert!(html.contains(&format!("aria-label=\"timeline of {implementation}\"")), "no timeline for {implementation}");
    }
    assert!(html.contains("every implementation on one time axis"));
    assert!(html.contains("run ended at 41.61 s"), "fenced ran shorter than legacy: its panel marks the end on the shared axis");
}

#[test]
fn html_is_self_contained_and_fetches_nothing() {
    let html = dnschaos::report::render_html(&fixture());
    let without_xmlns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for bad in ["http://", "https://", "<script", "<link", "@import", " src=", "<iframe", "<img"] {
        assert!(!without_xmlns.contains(bad), "report.html contains {bad:?}");
    }
    for (i, _) in html.match_indices("url(") {
        assert!(html[i..].starts_with("url(#"), "url() that is not a local reference: {}", &html[i..i + 40]);
    }
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
}

#[test]
fn html_escapes_text_from_the_summary() {
    let mut s = fixture();
    s.plan.description = "<script>alert(1)</script> & \"quotes\"".into();
    s.enactors[0].faults[0].id = "<b>x</b>".into();
    let html = dnschaos::report::render_html(&s);
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("<b>x</b>"));
    assert_has(&html, &["&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;", "&lt;b&gt;x&lt;/b&gt;"]);
}

#[test]
fn html_shows_the_conformance_table_when_the_summary_has_one() {
    let mut s = fixture();
    s.backend.conformance = None;
    s.backend.conformance_through_gateway = None;
    assert!(dnschaos::report::render_html(&s).contains("Conformance: not checked"));
    let check = |name: &str, expected: &str, observed: &str, conforms| dnschaos::conformance::Check {
        name: name.into(),
        expected: expected.into(),
        observed: observed.into(),
        conforms,
    };
    s.backend.conformance = Some(dnschaos::conformance::Report {
        backend: s.backend.info.clone(),
        through_gateway: false,
        checks: vec![
            check("batch-atomicity", "all or nothing", "all or nothing", true),
            check("stale-compare-and-swap", "InvalidChangeBatch", "applied", false),
        ],
        conforming: 1,
        total: 2,
        elapsed_ms: 10,
    });
    let html = dnschaos::report::render_html(&s);
    assert_has(
        &html,
        &[
            "<b>Conformance:</b> 1/2 checks conform; deviates: <b class=\"no nw\">stale-compare-and-swap</b>",
            "Backend conformance: 1/2 checks conform",
            "batch-atomicity",
            "InvalidChangeBatch",
            "deviates",
        ],
    );
}

#[test]
fn html_renders_a_single_clean_implementation_and_an_empty_one() {
    let mut s = fixture();
    s.enactors.retain(|e| e.implementation == "fenced");
    s.passed = true;
    let html = dnschaos::report::render_html(&s);
    assert_has(&html, &["<h2>Timeline</h2>", "no bad window", "PASS", "regional"]);
    assert!(!html.contains("timeline of legacy"));
    // Nothing at all still renders.
    s.enactors.clear();
    let html = dnschaos::report::render_html(&s);
    assert!(html.contains("</html>"));
}

// ---------------------------------------------------------------- JUnit

#[test]
fn junit_has_a_suite_per_implementation_and_a_case_per_slo_invariant_and_fault() {
    let s = fixture();
    let xml = dnschaos::report::render_junit(&s);
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.has_tag_name("testsuite")).collect();
    assert_eq!(suites.len(), s.enactors.len());
    let (mut all_tests, mut all_failures) = (0, 0);
    for (suite, e) in suites.iter().zip(&s.enactors) {
        assert!(suite.attribute("name").unwrap().contains(&e.implementation));
        let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
        let expected_cases = 2 + e.invariants.len() + e.faults.len();
        assert_eq!(cases.len(), expected_cases, "{}", e.implementation);
        assert_eq!(suite.attribute("tests"), Some(expected_cases.to_string().as_str()));
        let failing_invariants = e.invariants.iter().filter(|i| !i.held).count();
        let failing_faults = e.faults.iter().filter(|f| f.applicable && !f.fired).count();
        let failing_slos = usize::from(e.longest_empty_ms > 0) + usize::from(e.time_to_recovery_ms.is_none_or(|t| t > 20_000));
        let expected_failures = failing_slos + failing_invariants + failing_faults;
        let failures: Vec<_> = cases.iter().filter_map(|c| c.children().find(|n| n.has_tag_name("failure"))).collect();
        assert_eq!(failures.len(), expected_failures, "{}", e.implementation);
        assert_eq!(suite.attribute("failures"), Some(expected_failures.to_string().as_str()));
        assert_eq!(suite.attribute("errors"), Some("0"));
        assert!(suite.attribute("time").unwrap().parse::<f64>().is_ok());
        for c in &cases {
            assert!(c.attribute("classname").is_some_and(|n| n.contains(&e.implementation)));
            assert!(c.attribute("name").is_some());
            assert!(c.attribute("time").unwrap().parse::<f64>().is_ok());
        }
        let names: Vec<&str> = cases.iter().filter_map(|c| c.attribute("name")).collect();
        for want in ["slo max-empty-window", "slo max-time-to-recovery", "invariant generation-monotonic", "invariant converges", "fault plan-flood fired", "fault a-stays-slow fired"] {
            assert!(names.contains(&want), "{}: no testcase {want:?} in {names:?}", e.implementation);
        }
        let props: Vec<(&str, &str)> = suite
            .descendants()
            .filter(|n| n.has_tag_name("property"))
            .map(|p| (p.attribute("name").unwrap(), p.attribute("value").unwrap()))
            .collect();
        assert!(props.contains(&("seed", "2025")));
        assert!(props.contains(&("plan", "october-2025")));
        assert!(props.contains(&("replay", s.replay.as_str())));
        all_tests += expected_cases;
        all_failures += expected_failures;
    }
    assert_eq!(root.attribute("tests"), Some(all_tests.to_string().as_str()));
    assert_eq!(root.attribute("failures"), Some(all_failures.to_string().as_str()));
    assert_eq!(all_failures, 6, "legacy fails both SLOs and all four invariants; fenced nothing");

    // Failures carry the numbers.
    let messages: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("failure")).filter_map(|f| f.attribute("message")).collect();
    let joined = messages.join("\n");
    assert_has(
        &joined,
        &[
            "longest empty-answer window 25360 ms > max-empty-window 0 ms (3 window(s), 75748 ms empty in total)",
            "time to recovery never: 3 window(s) never recovered",
            "max-time-to-recovery 20000 ms",
            "18486 ms: enactor:use1-az4 flipped regional back to g75 after g117",
        ],
    );
}

#[test]
fn junit_fails_an_unfired_fault_and_skips_an_inapplicable_one() {
    let mut s = fixture();
    let e = &mut s.enactors[1];
    e.faults[0].fired = false;
    e.faults[0].evidence = "0 plans emitted while active".into();
    e.faults[1].applicable = false;
    let doc_text = dnschaos::report::render_junit(&s);
    let doc = roxmltree::Document::parse(&doc_text).unwrap();
    let suite = doc.descendants().filter(|n| n.has_tag_name("testsuite")).nth(1).unwrap();
    assert_eq!(suite.attribute("failures"), Some("1"));
    assert_eq!(suite.attribute("skipped"), Some("1"));
    let case = |name: &str| suite.children().find(|c| c.attribute("name") == Some(name)).unwrap();
    let failure = case("fault plan-flood fired").children().find(|n| n.has_tag_name("failure")).expect("failure");
    assert!(failure.attribute("message").unwrap().contains("never fired: 0 plans emitted while active"));
    assert!(case("fault a-lock-starved fired").children().any(|n| n.has_tag_name("skipped")));
}

// ---------------------------------------------------------------- dnschaos report

#[test]
fn report_command_writes_html_and_junit_next_to_the_summary_or_into_out() {
    let home = scratch("report-cmd");
    let summary = write_summary(&home.join("run"), &fixture());
    let o = cli(&home, &["report", summary.to_str().unwrap()]);
    assert_exit(&o, 0);
    for f in ["report.html", "junit.xml"] {
        assert!(home.join("run").join(f).is_file(), "{f} not written");
    }
    let out = home.join("elsewhere");
    let o = cli(&home, &["report", summary.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_exit(&o, 0);
    assert!(out.join("report.html").is_file() && out.join("junit.xml").is_file());
    // The run folder works as well as the file.
    let o = cli(&home, &["report", home.join("run").to_str().unwrap()]);
    assert_exit(&o, 0);
    // And the library entry point the run command calls.
    let written = dnschaos::report::write_all(&fixture(), &home.join("lib")).unwrap();
    assert_eq!(written, vec![home.join("lib/report.html"), home.join("lib/junit.xml")]);
}

#[test]
fn report_command_rejects_bad_input_in_one_line_with_exit_2() {
    let home = scratch("report-bad");
    let missing = home.join("nope/summary.json");
    let not_summary = home.join("other.json");
    std::fs::write(&not_summary, "{\"hello\": 1}").unwrap();
    let not_json = home.join("junk.json");
    std::fs::write(&not_json, "this is not json").unwrap();
    for (path, want) in [(&missing, "no such file"), (&not_summary, "not a dnschaos summary"), (&not_json, "not a dnschaos summary")] {
        let o = cli(&home, &["report", path.to_str().unwrap()]);
        assert_exit(&o, 2);
        let err = stderr(&o);
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "one line, got:\n{err}");
        assert!(lines[0].starts_with("error: "), "{err}");
        assert_has(lines[0], &[want, "hint:"]);
    }
}

// ---------------------------------------------------------------- baselines

#[test]
fn an_identical_run_is_within_noise_and_exits_0() {
    let home = scratch("baseline-same");
    let run = home.join("run");
    write_summary(&run, &fixture());
    let o = cli(&home, &["baseline", "save", "base", "--from", run.to_str().unwrap()]);
    assert_exit(&o, 0);
    assert_has(&stdout(&o), &["saved baseline base", "legacy", "fenced"]);
    let stored = home.join("reports/baselines/base");
    assert!(stored.join("summary.json").is_file() && stored.join("baseline.json").is_file());

    let o = cli(&home, &["baseline", "compare", "base", "--from", run.to_str().unwrap()]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert_has(&out, &["october-2025 legacy (seeds 2025): within noise", "october-2025 fenced (seeds 2025): within noise", "thresholds:", "max(500 ms, 20 %)", "0 regressed"]);
    assert!(!out.contains("REGRESSION"), "{out}");
}

#[test]
fn a_baseline_from_fenced_compared_with_a_run_of_legacy_on_the_same_plan_exits_non_zero_and_names_what_got_worse() {
    let home = scratch("baseline-fenced-legacy");
    let run = home.join("run");
    write_summary(&run, &fixture());
    let o = cli(&home, &["baseline", "save", "fenced-oct", "--from", run.to_str().unwrap(), "--enactor", "fenced"]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("only fenced counts"), "{}", stdout(&o));

    let o = cli(&home, &["baseline", "compare", "fenced-oct", "--from", run.to_str().unwrap(), "--enactor", "legacy"]);
    assert_exit(&o, dnschaos::error::exit::VIOLATED);
    assert_has(
        &stdout(&o),
        &[
            "october-2025 legacy vs baseline fenced (seeds 2025): regressed",
            "total empty time 0 ms -> 75748 ms",
            "longest empty window 0 ms -> 25360 ms",
            "time to recovery 0 ms -> never",
            "availability 100.00 % -> 39.10 %",
            "invariant no-empty-answer held -> violated",
            "invariant generation-monotonic held -> violated",
            "verdict pass -> FAIL",
            "1 regressed",
            "REGRESSION",
        ],
    );

    // The other way round, legacy's baseline makes fenced an improvement, not a regression.
    let o = cli(&home, &["baseline", "save", "legacy-oct", "--from", run.to_str().unwrap(), "--enactor", "legacy"]);
    assert_exit(&o, 0);
    let o = cli(&home, &["baseline", "compare", "legacy-oct", "--from", run.to_str().unwrap(), "--enactor", "fenced"]);
    assert_exit(&o, 0);
    assert_has(&stdout(&o), &["october-2025 fenced vs baseline legacy (seeds 2025): improved", "time to recovery never -> 0 ms", "1 improved"]);
}

/// A night split over two shards and merged (`report-index A B --out`, `baseline compare --from
/// A B`) gives the same index and the same gate verdict as the same runs in one folder, with a
/// baseline and without one (judged by the plans' `expect:` tables).
#[test]
fn merging_two_shards_gives_the_same_index_and_gate_as_one_unsharded_night() {
    let home = scratch("shards");
    let base: Summary = dnschaos::report::load(&fixture_summaries()[0]).unwrap().1;
    let (one, s0, s1) = (home.join("unsharded/night"), home.join("shard-0"), home.join("shard-1"));
    for seed in 1..=4u64 {
        let mut s = base.clone();
        s.seed = seed;
        let rel = format!("{}/seed-{seed}", s.plan.name);
        write_summary(&one.join(&rel), &s);
        write_summary(&(if seed % 2 == 0 { &s0 } else { &s1 }).join(&rel), &s);
    }
    let merged = home.join("merged/night");
    let strip = |html: String| {
        let mut out = String::new();
        for (i, part) in html.split("href=\"").enumerate() {
            out.push_str(if i == 0 { part } else { part.split_once('"').map(|(_, rest)| rest).unwrap_or(part) });
        }
        out
    };
    assert_exit(&cli(&home, &["report-index", one.to_str().unwrap()]), 0);
    assert_exit(&cli(&home, &["report-index", s0.to_str().unwrap(), s1.to_str().unwrap(), "--out", merged.to_str().unwrap()]), 0);
    let (a, b) = (std::fs::read_to_string(one.join("index.html")).unwrap(), std::fs::read_to_string(merged.join("index.html")).unwrap());
    assert!(a.contains("seed-3") && b.contains("../../shard-1/"), "links point at the runs");
    assert_eq!(strip(a), strip(b), "the merged index differs from the unsharded one");
    // Two folders holding the same run are refused.
    let o = cli(&home, &["report-index", one.to_str().unwrap(), one.to_str().unwrap(), "--out", merged.to_str().unwrap()]);
    assert_exit(&o, 2);
    assert_has(&stderr(&o), &["the same run"]);

    // The gate with no baseline: the plans' expect: tables.
    let gate = |from: &[&Path], extra: &[&str]| {
        let mut args = vec!["baseline", "compare", "nightly"];
        args.extend_from_slice(extra);
        args.push("--from");
        args.extend(from.iter().map(|p| p.to_str().unwrap()));
        let o = cli(&home, &args);
        let text: Vec<String> = stdout(&o).lines().filter(|l| !l.contains("--from") && !l.contains(" vs ")).map(str::to_string).collect();
        (o.status.code(), text)
    };
    let (code_one, text_one) = gate(&[&one], &["--or-expect"]);
    let (code_two, text_two) = gate(&[&s0, &s1], &["--or-expect"]);
    assert_eq!(code_one, code_two);
    assert!(text_one.iter().any(|l| l.contains("judged 8 run(s) by expectation") || l.contains("not judged")), "{text_one:?}");
    let mut sorted_one = text_one.clone();
    let mut sorted_two = text_two.clone();
    sorted_one.sort();
    sorted_two.sort();
    assert_eq!(sorted_one, sorted_two, "the expectation gate differs between sharded and unsharded");
    // With a baseline: the same comparison.
    assert_exit(&cli(&home, &["baseline", "save", "nightly", "--from", one.to_str().unwrap()]), 0);
    let (code_one, text_one) = gate(&[&one], &[]);
    let (code_two, text_two) = gate(&[&s0, &s1], &[]);
    assert_eq!((code_one, &text_one), (code_two, &text_two), "the baseline gate differs between sharded and unsharded");
    assert_eq!(code_one, Some(0), "{text_one:?}");
}

#[test]
fn a_missing_baseline_is_an_error_with_a_hint_and_exit_2() {
    let home = scratch("baseline-missing");
    let run = home.join("run");
    write_summary(&run, &fixture());
    let o = cli(&home, &["baseline", "compare", "nightly", "--from", run.to_str().unwrap()]);
    assert_exit(&o, 2);
    assert_has(&stderr(&o), &["no baseline \"nightly\"", "hint: save one with `dnschaos baseline save nightly --from DIR`"]);
    for (args, want) in [
        (vec!["baseline", "save", "../escape", "--from", run.to_str().unwrap()], "not a plain name"),
        (vec!["baseline", "save", "x", "--from", "/nonexistent/run"], "no such file or folder"),
        (vec!["baseline", "save", "x", "--from", run.to_str().unwrap(), "--enactor", "bogus"], "no bogus results"),
    ] {
        let o = cli(&home, &args);
        assert_exit(&o, 2);
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn a_run_that_matches_nothing_in_the_baseline_is_bad_input() {
    let home = scratch("baseline-nomatch");
    write_summary(&home.join("run"), &fixture());
    assert_exit(&cli(&home, &["baseline", "save", "base", "--from", home.join("run").to_str().unwrap()]), 0);
    let mut other = fixture();
    other.plan.name = "steady-state".into();
    write_summary(&home.join("other"), &other);
    let o = cli(&home, &["baseline", "compare", "base", "--from", home.join("other").to_str().unwrap()]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("matches baseline base"), "{}", stderr(&o));
}

#[test]
fn sweep_folders_with_seed_subfolders_are_saved_and_compared() {
    let home = scratch("baseline-sweep");
    let sweep = home.join("sweep");
    for seed in [1, 2] {
        let mut s = fixture();
        s.seed = seed;
        write_summary(&sweep.join(format!("seed-{seed}")), &s);
    }
    let o = cli(&home, &["baseline", "save", "sweep", "--from", sweep.to_str().unwrap()]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("2 summary file(s)"), "{}", stdout(&o));
    for seed in [1, 2] {
        assert!(home.join(format!("reports/baselines/sweep/seed-{seed}/summary.json")).is_file());
    }
    // Same seeds: within noise.
    let o = cli(&home, &["baseline", "compare", "sweep", "--from", sweep.to_str().unwrap()]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("october-2025 fenced (seeds 1,2): within noise"), "{}", stdout(&o));
    // Seed 2 of fenced goes bad: the worst seed is named.
    let mut bad = fixture();
    bad.seed = 2;
    bad.enactors[1].availability_pct = 98.0;
    write_summary(&sweep.join("seed-2"), &bad);
    let o = cli(&home, &["baseline", "compare", "sweep", "--from", sweep.to_str().unwrap()]);
    assert_exit(&o, 1);
    assert!(stdout(&o).contains("availability 100.00 % -> 98.00 % (-2.00 points > allowed -0.50) (worst seed 2)"), "{}", stdout(&o));
}

/// One change to fenced's numbers against fenced's own baseline, and the verdict it must get.
fn check_threshold(name: &str, change: impl FnOnce(&mut dnschaos::summary::ImplementationSummary), exit: i32, want: &str) {
    let home = scratch(&format!("threshold-{name}"));
    let mut base = fixture();
    base.enactors.retain(|e| e.implementation == "fenced");
    write_summary(&home.join("base"), &base);
    assert_exit(&cli(&home, &["baseline", "save", "b", "--from", home.join("base").to_str().unwrap()]), 0);
    let mut run = base.clone();
    change(&mut run.enactors[0]);
    write_summary(&home.join("run"), &run);
    let o = cli(&home, &["baseline", "compare", "b", "--from", home.join("run").to_str().unwrap()]);
    assert_exit(&o, exit);
    assert!(stdout(&o).contains(want), "{name}: want {want:?} in:\n{}", stdout(&o));
}

#[test]
fn thresholds_separate_noise_from_regressions() {
    check_threshold("avail-noise", |e| e.availability_pct = 99.6, 0, "within noise");
    check_threshold("avail-drop", |e| e.availability_pct = 99.4, 1, "availability 100.00 % -> 99.40 %");
    check_threshold("empty-noise", |e| (e.total_empty_ms, e.longest_empty_ms) = (400, 400), 0, "within noise");
    check_threshold("empty-grows", |e| e.total_empty_ms = 600, 1, "total empty time 0 ms -> 600 ms (+600 ms > allowed +500 ms)");
    check_threshold("never", |e| e.time_to_recovery_ms = None, 1, "time to recovery 0 ms -> never");
    check_threshold("invariant", |e| {
        e.invariants[1].held = false;
        e.invariants[1].first_violation = Some("1 ms: deleted".into());
    }, 1, "invariant active-never-deleted held -> violated in seed 2025: 1 ms: deleted");
    check_threshold("fault", |e| e.faults[2].fired = false, 1, "fault b-cleanup-overlaps fired -> did not fire");
}

// ---------------------------------------------------------------- nightly index

#[test]
fn report_index_links_every_run_and_renders_missing_reports() {
    let home = scratch("index");
    let night = home.join("2025-10-20");
    for seed in [1, 2] {
        let mut s = fixture();
        s.seed = seed;
        write_summary(&night.join("october-2025").join(format!("seed-{seed}")), &s);
    }
    std::fs::write(night.join("baseline-compare.txt"), "result: 1 regressed, 0 improved, 0 within noise -> REGRESSION\n").unwrap();
    let o = cli(&home, &["report-index", night.to_str().unwrap()]);
    assert_exit(&o, 0);
    let index = std::fs::read_to_string(night.join("index.html")).unwrap();
    assert_has(&index, &["october-2025/seed-1/report.html", "october-2025/seed-2/junit.xml", "Baseline gate: REGRESSION", "FAIL", "PASS"]);
    for seed in [1, 2] {
        assert!(night.join(format!("october-2025/seed-{seed}/report.html")).is_file());
    }
    assert!(!index.replace("xmlns=\"http://www.w3.org/2000/svg\"", "").contains("http"));
    // A gate that could not compare is not "ok".
    std::fs::write(night.join("baseline-compare.txt"), "error: no baseline \"nightly\" in x (hint: ...)\n").unwrap();
    assert_exit(&cli(&home, &["report-index", night.to_str().unwrap()]), 0);
    let index = std::fs::read_to_string(night.join("index.html")).unwrap();
    assert!(index.contains("Baseline gate: error (no comparison)"), "{index}");
}

// ---------------------------------------------------------------- headless Chromium

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()))
    })
}

/// Returns false (test passes as not applicable) when chromium is missing and not required;
/// panics when `DNSCHAOS_REQUIRE_CHROMIUM=1` and it is missing.
fn have_chromium() -> bool {
    if chromium().is_some() {
        return true;
    }
    if std::env::var("DNSCHAOS_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
        panic!("DNSCHAOS_REQUIRE_CHROMIUM=1 but chromium is not installed (hint: apt-get install -y chromium)");
    }
    eprintln!("note: chromium not installed; the headless check did not run (set DNSCHAOS_REQUIRE_CHROMIUM=1 to make this fail)");
    false
}

#[test]
fn headless_chromium_loads_the_report_without_console_errors_or_fetches_and_screenshots_it() {
    if !have_chromium() {
        return;
    }
    let dir = scratch("chromium");
    dnschaos::report::write_all(&fixture(), &dir).unwrap();
    let png = dir.join("report.png");
    let o = Command::new("bash").arg(CHECK_HTML).arg(dir.join("report.html")).arg(&png).output().unwrap();
    assert_exit(&o, 0);
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // 1400 px wide: the IHDR width field.
    assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 1400);
}

#[test]
fn headless_chromium_check_fails_on_console_errors_and_network_fetches() {
    if !have_chromium() {
        return;
    }
    let dir = scratch("chromium-bad");
    let bad = dir.join("bad.html");
    std::fs::write(
        &bad,
        "<!DOCTYPE html><html><body><p>x</p><img src=\"https://example.invalid/x.png\"><script>console.error('boom'); undefinedFn();</script></body></html>",
    )
    .unwrap();
    let o = Command::new("bash").arg(CHECK_HTML).arg(&bad).arg(dir.join("bad.png")).output().unwrap();
    assert_exit(&o, 1);
    assert_has(&stderr(&o), &["console messages", "Uncaught ReferenceError", "fetched over the network", "example.invalid"]);
}

#[test]
fn headless_chromium_check_fails_on_sideways_scroll_and_clipped_labels() {
    if !have_chromium() {
        return;
    }
    let dir = scratch("chromium-layout");
    let bad = dir.join("wide.html");
    std::fs::write(
        &bad,
        "<!DOCTYPE html><html><body><table><tr><td style=\"white-space:nowrap\">".to_string()
            + &"a wide scorecard cell ".repeat(80)
            + "</td></tr></table><svg width=\"300\" height=\"40\"><text x=\"10\" y=\"20\" text-anchor=\"end\">g3 at 1.76 s (5 backward flips)</text></svg></body></html>",
    )
    .unwrap();
    let o = Command::new("bash").arg(CHECK_HTML).arg(&bad).arg(dir.join("wide.png")).output().unwrap();
    assert_exit(&o, 1);
    assert_has(&stderr(&o), &["does not fit 1280 px", "document scrolls sideways", "clipped SVG label \"g3 at 1.76 s (5 backward flips)\""]);
}

#[test]
fn headless_chromium_requirement_is_enforced() {
    // The switch CI sets must turn a missing chromium into a failure, not a skip.
    let o = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "headless_chromium_loads_the_report_without_console_errors_or_fetches_and_screenshots_it"])
        .env("DNSCHAOS_REQUIRE_CHROMIUM", "1")
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert!(!o.status.success(), "must fail when chromium is required and missing:\n{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains("DNSCHAOS_REQUIRE_CHROMIUM=1 but chromium is not installed"));
}

// ---------------------------------------------------------------- schema and golden views

fn fixture_summaries() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/summaries");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    files.sort();
    assert!(files.len() >= 2, "fixture summaries in {}", dir.display());
    files
}

#[test]
fn every_fixture_summary_loads_and_reserialises_to_the_same_json() {
    for path in fixture_summaries() {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut before: serde_json::Value = serde_json::from_str(&text).unwrap();
        let (_, typed) = dnschaos::report::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let after = serde_json::to_value(&typed).unwrap();
        // The one field a reader may add: the schema version of a file written before it existed.
        if before.get("schema_version").is_none() {
            before["schema_version"] = serde_json::json!(1);
        }
        assert_eq!(before, after, "{} changed in a load and save", path.display());
    }
}

#[test]
fn reports_render_byte_identically_to_the_golden_views() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/report/golden");
    for path in fixture_summaries() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let s = dnschaos::report::load(&path).unwrap().1;
        for (file, text) in [("report.html", dnschaos::report::render_html(&s)), ("junit.xml", dnschaos::report::render_junit(&s))] {
            let want = std::fs::read_to_string(golden.join(&name).join(file)).unwrap_or_else(|e| panic!("golden {name}/{file}: {e}"));
            assert!(text == want, "{name}/{file} differs from fixtures/report/golden (regenerate it with `dnschaos report` only when the change is intended)");
        }
    }
}
