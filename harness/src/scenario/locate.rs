//! Find where a value sits in a block-style YAML text, for error messages after parsing.
//!
//! serde_yaml reports locations only for errors it raises itself; checks done afterwards use
//! this to point at `faults[2].target` and the like. It understands the block style the plans
//! are written in (mappings and `- ` sequences); for anything else it falls back to the
//! nearest enclosing key it found.

/// One step of a path into the document.
#[derive(Debug, Clone, Copy)]
pub enum Seg {
    Key(&'static str),
    Index(usize),
}

/// 1-based (line, column) of the value at `path`, or of the deepest part of it found.
pub fn locate(text: &str, path: &[Seg]) -> (usize, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let meaningful = |l: &str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    // The current block: lines [start, end) with items at indentation `ind` (None = unknown yet).
    let (mut start, mut end) = (0usize, lines.len());
    let mut found = (1usize, 1usize);
    for seg in path {
        let ind = lines[start..end].iter().find(|l| meaningful(l)).map(|l| indent(l));
        let Some(ind) = ind else { break };
        match seg {
            Seg::Key(k) => {
                let prefix = format!("{k}:");
                let hit = (start..end).find(|&i| {
                    let l = lines[i];
                    meaningful(l) && indent(l) == ind && l.trim_start().trim_start_matches("- ").starts_with(&prefix)
                });
                let Some(i) = hit else { break };
                let l = lines[i];
                let key_col = l.find(&prefix).unwrap_or(0);
                let after = &l[key_col + prefix.len()..];
                let value_col = key_col + prefix.len() + (after.len() - after.trim_start().len());
                found = if after.trim().is_empty() { (i + 1, key_col + 1) } else { (i + 1, value_col + 1) };
                // The value's block: following lines indented deeper.
                let next = (i + 1..end).find(|&j| meaningful(lines[j]) && indent(lines[j]) <= ind).unwrap_or(end);
                start = i + 1;
                end = next;
            }
            Seg::Index(n) => {
                let items: Vec<usize> = (start..end)
                    .filter(|&i| meaningful(lines[i]) && indent(lines[i]) == ind && lines[i].trim_start().starts_with("- "))
                    .collect();
                let Some(&i) = items.get(*n) else { break };
                found = (i + 1, ind + 3);
                let next = items.get(n + 1).copied().unwrap_or(end);
                // Inside an item, keys sit at the column after "- ": treat the first line as part of it.
                start = i;
                end = next;
                // Re-indent: the item's keys are at ind + 2.
                let item_lines: Vec<usize> = (start..end).collect();
                if item_lines.is_empty() {
                    break;
                }
                return locate_in_item(&lines, start, end, ind + 2, &path[path.iter().position(|s| std::ptr::eq(s, seg)).unwrap_or(0) + 1..])
                    .unwrap_or(found);
            }
        }
    }
    found
}

/// Keys of a sequence item start at column `ind` (the first one after "- ").
fn locate_in_item(lines: &[&str], start: usize, end: usize, ind: usize, rest: &[Seg]) -> Option<(usize, usize)> {
    let Some(Seg::Key(k)) = rest.first() else { return Some((start + 1, ind + 1)) };
    let prefix = format!("{k}:");
    for (i, line) in lines.iter().enumerate().take(end).skip(start) {
        let body = if i == start { line.replacen("- ", "  ", 1) } else { line.to_string() };
        let lead = body.len() - body.trim_start().len();
        if lead == ind && body.trim_start().starts_with(&prefix) {
            let after = &body[lead + prefix.len()..];
            let col = lead + prefix.len() + (after.len() - after.trim_start().len());
            return Some((i + 1, col + 1));
        }
    }
    Some((start + 1, ind + 1))
}
