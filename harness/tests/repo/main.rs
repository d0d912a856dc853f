//! Repository checks over every tracked file (`git ls-files`): the repository names no package
//! registry or mirror host, and every URL in it is on an explicit allow-list.
//!
//! The host names this test looks for are stored reversed, so that this file does not name them
//! either.

use std::path::{Path, PathBuf};
use std::process::Command;

/// URLs allowed in tracked files: (scheme, exact host, path prefix, why). Anything else that has
/// a scheme and a concrete host fails the test.
///
/// README.md cites no external documentation page today; a documentation link it cites goes
/// here, one entry per page, with the reason. Package registries and mirrors never do.
const ALLOWED_URLS: &[(&str, &str, &str, &str)] = &[
    ("http", "127.0.0.1", "", "loopback: every server the harness runs or calls"),
    ("https", "127.0.0.1", "", "loopback"),
    ("http", "localhost", "", "loopback"),
    ("https", "localhost", "", "loopback"),
    ("http", "www.w3.org", "/2000/svg", "the SVG XML namespace of the inline report charts (a name, never fetched)"),
    ("https", "route53.amazonaws.com", "/doc/2013-04-01/", "Route 53's XML namespace in its wire format (a name, never fetched)"),
    ("https", "route53.amazonaws.com", "", "real AWS's endpoint, which the endpoint backend must recognise to refuse it without --allow-real-aws"),
    ("https", "example.invalid", "", "a reserved name that never resolves (the report test's external resource)"),
];

/// Package registries, indexes and distribution mirrors, reversed. A tracked file may not name
/// any of them, with or without a scheme (a subdomain counts too).
const REGISTRY_HOSTS_REVERSED: &[&str] = &[
    "oi.setarc",                   // the Rust crate registry, its index and download hosts
    "gro.ipyp",                    // the Python package index
    "gro.nohtyp.ipyp",             // its old name
    "gro.detsohnohtyp",            // Python package downloads
    "gro.naibed",                  // Debian archive and mirrors (deb., security., ftp.)
    "moc.utnubu",                  // Ubuntu archive and mirrors
    "oi.rekcod",                   // container registry (registry-1., index.)
    "moc.rekcod",                  // container hub and downloads
    "oi.rchg",                     // container registry
    "oi.yauq",                     // container registry
    "oi.rcg",                      // container registry and its mirror
    "swa.rce.cilbup",              // container registry
    "oi.s8k.yrtsiger",             // container registry
    "gro.sjmpn.yrtsiger",          // JavaScript package registry
    "moc.sjmpn",                   // JavaScript package registry
    "moc.gkpnray.yrtsiger",        // JavaScript package registry mirror
    "gro.gnalog.yxorp",            // Go module proxy
    "gro.gnalog.mus",              // Go checksum database
    "gro.nevam.1oper",             // Java package repository
    "gro.ehcapa.nevam.oper",       // Java package repository
    "gro.smegybur",                // Ruby package registry
    "gro.tegun",                   // .NET package registry
    "gro.adnocana",                // conda channels
    "moc.adnocana.oper",           // conda repository
    "gro.xunilenipla.ndc-ld",      // Alpine mirror
];

/// Cargo writes this exact line in Cargo.lock for every package from the Rust registry: it is the
/// package's source identity, not an address the repository points anyone at, and a lock file
/// cannot be written without it while the dependencies come from that registry. Allowed in
/// Cargo.lock only, on a line of exactly this form. Stored reversed like the host names.
const CARGO_LOCK_SOURCE_REVERSED: &str = "\"xedni-oi.setarc/gnal-tsur/moc.buhtig//:sptth+yrtsiger\" = ecruos";

fn unreverse(s: &str) -> String {
    s.chars().rev().collect()
}

/// One problem found on one line.
#[derive(Debug, PartialEq)]
struct Finding {
    line: usize,
    message: String,
}

/// Every problem in the text of file `path`.
fn scan(path: &str, text: &str) -> Vec<Finding> {
    let hosts: Vec<String> = REGISTRY_HOSTS_REVERSED.iter().map(|h| unreverse(h)).collect();
    let cargo_source = unreverse(CARGO_LOCK_SOURCE_REVERSED);
    let mut findings = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if path == "Cargo.lock" && line.trim() == cargo_source {
            continue;
        }
        for url in urls(line) {
            if !url_allowed(&url) {
                findings.push(Finding {
                    line: i + 1,
                    message: format!(
                        "url {:?} is not on the allow-list (hint: use 127.0.0.1, or add a documentation link README.md cites to ALLOWED_URLS in harness/tests/repo/main.rs with the reason)",
                        url.text
                    ),
                });
            }
        }
        let lower = line.to_ascii_lowercase();
        for host in &hosts {
            if let Some(name) = names_host(&lower, host) {
                findings.push(Finding {
                    line: i + 1,
                    message: format!(
                        "names the package registry or mirror host {name:?} (hint: take it from the machine's configuration or an environment variable instead)"
                    ),
                });
            }
        }
    }
    findings
}

#[derive(Debug)]
struct Url {
    /// From the scheme to the end of the URL.
    text: String,
    scheme: String,
    host: String,
    path: String,
}

/// Every URL (scheme, `://`, host, path) in `line` whose host is concrete: a bare scheme
/// (`"http://"`) or a template (`http://{}`, `http://$addr`) has no host and is not a URL to check.
fn urls(line: &str) -> Vec<Url> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = line[from..].find("://").map(|i| i + from) {
        from = at + 3;
        // The scheme: letters, digits, '+', '.', '-', starting with a letter (`${x:-http://`).
        let mut scheme_start = line[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '.' || c == '-'))
            .map_or(0, |i| i + 1);
        while scheme_start < at && !bytes[scheme_start].is_ascii_alphabetic() {
            scheme_start += 1;
        }
        let scheme = line[scheme_start..at].to_ascii_lowercase();
        if scheme.is_empty() {
            continue;
        }
        let rest = &line[at + 3..];
        let host_len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-')).unwrap_or(rest.len());
        let host = rest[..host_len].to_ascii_lowercase();
        if !host.chars().any(|c| c.is_ascii_alphanumeric()) {
            continue; // no host (`file:///x`), a template (`http://{}`) or an ellipsis (`file://...`)
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | ')' | ']' | '}' | ','))
            .unwrap_or(rest.len());
        let after_host = &rest[host_len..end];
        let path = after_host.trim_start_matches(|c: char| c == ':' || c.is_ascii_digit()).to_string();
        out.push(Url { text: line[scheme_start..at + 3 + end].to_string(), scheme, host, path });
    }
    out
}

fn url_allowed(url: &Url) -> bool {
    // A scheme such as `registry+https` is the https URL it carries.
    let scheme = url.scheme.rsplit('+').next().unwrap_or(&url.scheme);
    ALLOWED_URLS
        .iter()
        .any(|(s, host, prefix, _)| *s == scheme && *host == url.host && url.path.starts_with(prefix))
}

/// The name in `lower` (a lowercased line) that is `host` or a subdomain of it, if any.
fn names_host(lower: &str, host: &str) -> Option<String> {
    let mut from = 0;
    while let Some(at) = lower[from..].find(host).map(|i| i + from) {
        let before = lower[..at].chars().next_back();
        let after = lower[at + host.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
        if boundary(before) && boundary(after) {
            // Widen to the whole name: `registry-1.` in front of the registry's domain.
            let start = lower[..at]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                .map_or(0, |i| i + 1);
            return Some(lower[start..at + host.len()].trim_start_matches(['.', '-']).to_string());
        }
        from = at + 1;
    }
    None
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("harness/ has a parent").to_path_buf()
}

/// The tracked files, relative to the repository root.
fn tracked_files() -> Vec<String> {
    let root = repo_root();
    let out = Command::new("git").arg("-C").arg(&root).args(["ls-files", "-z"]).output().unwrap_or_else(|e| {
        panic!("cannot run git ls-files in {}: {e} (hint: this test needs git and a git checkout)", root.display())
    });
    assert!(
        out.status.success(),
        "git ls-files in {} failed: {} (hint: this test needs a git checkout)",
        root.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).split('\0').filter(|p| !p.is_empty()).map(str::to_string).collect()
}

#[test]
fn tracked_files_name_no_registry_host_and_only_allowed_urls() {
    let files = tracked_files();
    assert!(files.len() > 50, "git ls-files listed only {} files in {}", files.len(), repo_root().display());
    let mut problems = Vec::new();
    let mut scanned = 0;
    for path in &files {
        let full = repo_root().join(path);
        let Ok(bytes) = std::fs::read(&full) else {
            // Deleted in the work tree but still tracked: nothing to read.
            continue;
        };
        if bytes.contains(&0) {
            continue; // binary (the report screenshot)
        }
        scanned += 1;
        for f in scan(path, &String::from_utf8_lossy(&bytes)) {
            problems.push(format!("{path}:{}: {}", f.line, f.message));
        }
    }
    assert!(scanned > 50, "only {scanned} text files scanned");
    assert!(problems.is_empty(), "{} problem(s) in tracked files:\n{}", problems.len(), problems.join("\n"));
}

/// `scan` of one line in `path` yields exactly these messages' first words (`url` / `names`).
fn check(path: &str, line: &str, expected: &[&str]) {
    let got: Vec<String> =
        scan(path, line).into_iter().map(|f| f.message.split_whitespace().next().unwrap_or("").to_string()).collect();
    assert_eq!(got, expected, "scan of {path}: {line:?}: {:?}", scan(path, line));
}

#[test]
fn the_scan_finds_what_it_should() {
    let debian = unreverse("gro.naibed.bed");
    let pypi = unreverse("gro.ipyp");
    let docker = format!("registry-1.{}", unreverse("oi.rekcod"));
    let cargo_source = unreverse(CARGO_LOCK_SOURCE_REVERSED);
    // Allowed URLs and things that are no URL.
    check("a.rs", "let url = \"http://127.0.0.1:4566/_localstack/health\";", &[]);
    check("a.md", "open https://localhost:8080/x", &[]);
    check("a.rs", "format!(\"http://{}\", addr)", &[]);
    check("a.rs", "u.starts_with(\"http://\") || u.starts_with(\"https://\")", &[]);
    check("a.sh", "curl http://$host:$port/", &[]);
    check("a.md", "--dump-dom file://... and file:///tmp/x.html", &[]);
    check("a.rs", "<svg xmlns=\"http://www.w3.org/2000/svg\">", &[]);
    check("a.rs", "xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"", &[]);
    check("Cargo.lock", &cargo_source, &[]);
    check("a.md", "the word PyPI, a path ~/.cargo/registry/index/, docker pull localstack/localstack:4.13.1", &[]);
    // Everything else fails, naming what it found. (URLs that must fail are joined at run time,
    // so that this file holds none.)
    let url = |scheme: &str, rest: &str| format!("{scheme}{}{rest}", "://");
    check("a.rs", &format!("see {}", url("http", "localhost.example.org/")), &["url"]);
    check("a.rs", &format!("see {}", url("https", "www.w3.org/TR/other")), &["url"]);
    check("a.md", &format!("docs at {}", url("https", "docs.example.org/page")), &["url"]);
    check("a.sh", &format!("mirror=\"${{mirror:-{}}}\"", url("http", &format!("{debian}/debian"))), &["url", "names"]);
    check("a.sh", &format!("pip download --index-url {}", url("https", &format!("{pypi}/simple"))), &["url", "names"]);
    check("a.sh", &format!("docker pull {docker}/library/x"), &["names"]);
    check("a.md", &format!("mirror: {}", debian.to_uppercase()), &["names"]);
    check("a.rs", &url("ftp", &format!("{debian}/x")), &["url", "names"]);
    // The Cargo.lock form is allowed in Cargo.lock only, and only as that whole line.
    check("other.toml", &cargo_source, &["url", "names"]);
    check("Cargo.lock", &format!("{cargo_source} # and more"), &["url", "names"]);
    // A longer name that merely contains a registry name is not that registry.
    check("a.md", &format!("{pypi}x and x{pypi}"), &[]);
}
