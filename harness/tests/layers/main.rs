//! The house rules, checked on the source: imports follow the layer table in ARCHITECTURE.md
//! (a module uses only its own layer or lower ones), nothing outside `clock.rs` reads the time,
//! draws an id or an unseeded random number by itself (a simulated run must repeat exactly),
//! and every `tokio::select!` is biased or says why not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Every `.rs` file under harness/src, with its text, test modules cut off.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = root().join("harness/src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let code = match text.find("#[cfg(test)]") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            (p.strip_prefix(&src).unwrap().display().to_string(), code)
        })
        .collect()
}

/// The module a file belongs to: its first folder or file stem, `fault::gateway` for the gateway.
fn module_of(rel: &str) -> String {
    if rel.starts_with("fault/gateway/") {
        return "fault::gateway".into();
    }
    let first = rel.split('/').next().unwrap();
    first.trim_end_matches(".rs").to_string()
}

/// The layer table of ARCHITECTURE.md: module -> layer number (1 = bottom).
fn layers() -> BTreeMap<String, u32> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let section = text.split("## Layers").nth(1).expect("ARCHITECTURE.md has a `## Layers` section");
    let mut out = BTreeMap::new();
    for line in section.lines().skip_while(|l| !l.starts_with('|')).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Ok(n) = cells[1].parse::<u32>() else { continue };
        for m in cells[2].split(',') {
            let m = m.trim().trim_matches('`');
            if !m.is_empty() {
                out.insert(m.to_string(), n);
            }
        }
    }
    assert!(out.len() > 10, "layer table too small: {out:?}");
    out
}

#[test]
fn imports_follow_the_layer_table() {
    let layers = layers();
    let mut bad = Vec::new();
    for (rel, code) in sources() {
        let me = module_of(&rel);
        if me == "lib" || me == "main" {
            continue;
        }
        let mine = *layers.get(&me).unwrap_or_else(|| panic!("{rel}: module {me} is not in ARCHITECTURE.md's layer table"));
        for (n, line) in code.lines().enumerate() {
            let mut rest = line;
            while let Some(i) = rest.find("crate::") {
                rest = &rest[i + 7..];
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let sub: String = rest[name.len()..].strip_prefix("::").unwrap_or("").chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let target = if name == "fault" && sub == "gateway" { "fault::gateway".to_string() } else { name };
                if target == me {
                    continue;
                }
                let Some(theirs) = layers.get(&target) else { continue };
                if *theirs > mine {
                    bad.push(format!("harness/src/{rel}:{}: {me} (layer {mine}) uses {target} (layer {theirs})", n + 1));
                }
            }
        }
    }
    assert!(bad.is_empty(), "imports against the data flow:\n{}", bad.join("\n"));
}

#[test]
fn only_the_clock_reads_time_or_draws_ids() {
    let mut bad = Vec::new();
    for (rel, code) in sources() {
        if rel == "clock.rs" {
            continue;
        }
        for (n, line) in code.lines().enumerate() {
            for banned in ["SystemTime::now", "Instant::now", "Uuid::new_v4", "rand::random", "thread_rng", "from_entropy", "OsRng"] {
                if line.contains(banned) && !line.trim_start().starts_with("//") {
                    bad.push(format!("harness/src/{rel}:{}: {banned}", n + 1));
                }
            }
        }
    }
    assert!(bad.is_empty(), "time or ids read outside clock.rs:\n{}", bad.join("\n"));
}

#[test]
fn every_select_is_biased_or_says_why_not() {
    let mut bad = Vec::new();
    for (rel, code) in sources() {
        let lines: Vec<&str> = code.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            if !line.contains("select! {") {
                continue;
            }
            let biased = lines.get(n + 1).is_some_and(|l| l.trim() == "biased;");
            let says_why = n > 0 && lines[n - 1].trim_start().starts_with("// Not biased:");
            if !biased && !says_why {
                bad.push(format!("harness/src/{rel}:{}", n + 1));
            }
        }
    }
    assert!(bad.is_empty(), "tokio::select! neither `biased;` nor preceded by `// Not biased: why`:\n{}", bad.join("\n"));
}
