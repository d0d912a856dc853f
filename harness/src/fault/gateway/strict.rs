//! Route 53's change-batch semantics, simulated on a zone's current record sets. Pure: no IO.
//!
//! [`simulate`] applies a batch in order to a copy of the zone and collects every problem Route 53
//! would report; [`net_changes`] turns the accepted outcome into the batch the gateway forwards.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use super::wire::{Action, Change, Element};

/// What identifies a record set in a zone: name, type and (for routing policies) set identifier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Key {
    /// Normalised: lower case, escapes decoded, no trailing dot.
    pub name: String,
    /// Upper case.
    pub rtype: String,
    pub set_id: Option<String>,
}

impl Key {
    pub fn of(rrset: &Element) -> Key {
        Key {
            name: normalise_name(rrset.child_text("Name").unwrap_or("")),
            rtype: rrset.child_text("Type").unwrap_or("").to_ascii_uppercase(),
            set_id: rrset.child_text("SetIdentifier").map(str::to_string),
        }
    }

    /// `[name='x.', type='TXT']`, as Route 53 names a record set in its messages.
    pub(super) fn describe(&self) -> String {
        match &self.set_id {
            Some(id) => format!("[name='{}.', type='{}', set-identifier='{id}']", self.name, self.rtype),
            None => format!("[name='{}.', type='{}']", self.name, self.rtype),
        }
    }
}

/// A zone's record sets by key, as stored upstream.
pub(super) type Zone = BTreeMap<Key, Element>;

/// Index upstream record sets. Should the upstream hold two sets with one key (a backend without
/// strict semantics allows that), the first listed stands for the key.
pub(super) fn zone_of(record_sets: Vec<Element>) -> Zone {
    let mut zone = Zone::new();
    for rrset in record_sets {
        zone.entry(Key::of(&rrset)).or_insert(rrset);
    }
    zone
}

/// Apply `changes` in order to `before`, the record sets of hosted zone `zone_id`. `Ok` is the
/// zone afterwards; `Err` lists every problem, in Route 53's wording, and means the whole batch
/// is rejected.
///
/// Besides the per-key rules (CREATE of an existing set, DELETE of a missing or different one),
/// a CREATE or UPSERT of an alias to a name in this zone needs a record set of that name and
/// type (any set identifier) in the zone as it stands after the batch's earlier changes. Aliases
/// the batch does not write are never re-validated, so deleting a set an alias targets is
/// accepted: that is how October 2025 happened.
pub(super) fn simulate(before: &Zone, changes: &[Change], zone_id: &str) -> Result<Zone, Vec<String>> {
    let mut zone = before.clone();
    let mut problems = Vec::new();
    for change in changes {
        let key = Key::of(&change.rrset);
        if change.action != Action::Delete {
            if let Some(target) = missing_alias_target(&zone, &change.rrset, &key.rtype, zone_id) {
                problems.push(format!(
                    "Tried to create an alias that targets {target}., type {} in zone {zone_id}, but that target was not found",
                    key.rtype
                ));
            }
        }
        match change.action {
            Action::Create => match zone.entry(key) {
                Entry::Occupied(e) => {
                    problems.push(format!("Tried to create resource record set {} but it already exists", e.key().describe()))
                }
                Entry::Vacant(e) => {
                    e.insert(change.rrset.clone());
                }
            },
            Action::Delete => match zone.get(&key) {
                None => problems.push(format!("Tried to delete resource record set {} but it was not found", key.describe())),
                Some(current) if content(current, &key.rtype) != content(&change.rrset, &key.rtype) => problems.push(format!(
                    "Tried to delete resource record set {} but the values provided do not match the current values",
                    key.describe()
                )),
                Some(_) => {
                    zone.remove(&key);
                }
            },
            Action::Upsert => {
                zone.insert(key, change.rrset.clone());
            }
        }
    }
    if problems.is_empty() {
        Ok(zone)
    } else {
        Err(problems)
    }
}

/// The target of `rrset`'s alias when it points into zone `zone_id` at a name and type the zone
/// does not hold; `None` for an alias whose target exists, points elsewhere, or no alias.
fn missing_alias_target(zone: &Zone, rrset: &Element, rtype: &str, zone_id: &str) -> Option<String> {
    let alias = rrset.child("AliasTarget")?;
    let target_zone = alias.child_text("HostedZoneId").unwrap_or("").trim_start_matches("/hostedzone/");
    if !target_zone.eq_ignore_ascii_case(zone_id.trim_start_matches("/hostedzone/")) {
        return None;
    }
    let target = normalise_name(alias.child_text("DNSName").unwrap_or(""));
    let exists = zone.keys().any(|k| k.name == target && k.rtype == rtype);
    (!exists).then_some(target)
}

/// The batch that takes the upstream from `before` to `after`: DELETEs of the record sets that
/// are gone (as stored upstream), then UPSERTs of those that are new or changed. Net no-op pairs
/// (DELETE v + CREATE v) vanish, and no CREATE reaches the upstream: the simulation has already
/// proved the key absent, and LocalStack's CREATE checks its change history, not its records.
/// An UPSERT of an existing set carries the upstream's spelling of the name, so that a backend
/// that compares names case-sensitively replaces rather than adds.
pub(super) fn net_changes(before: &Zone, after: &Zone) -> Vec<Change> {
    let deletes = before
        .iter()
        .filter(|(key, _)| !after.contains_key(*key))
        .map(|(_, rrset)| Change { action: Action::Delete, rrset: rrset.clone() });
    let upserts = after.iter().filter_map(|(key, rrset)| match before.get(key) {
        Some(old) if content(old, &key.rtype) == content(rrset, &key.rtype) => None,
        Some(old) => {
            let mut rrset = rrset.clone();
            if let (Some(name), Some(stored)) = (rrset.child_mut("Name"), old.child("Name")) {
                name.text = stored.text.clone();
            }
            Some(Change { action: Action::Upsert, rrset })
        }
        None => Some(Change { action: Action::Upsert, rrset: rrset.clone() }),
    });
    deletes.chain(upserts).collect()
}

/// How `actual` differs from `expected`, one line per record set: missing, unexpected, or
/// holding other content. Empty when the backend holds exactly what Route 53 would.
pub(super) fn differences(expected: &Zone, actual: &Zone) -> Vec<String> {
    let mut out = Vec::new();
    for (key, want) in expected {
        match actual.get(key) {
            None => out.push(format!("missing {}", key.describe())),
            Some(got) if content(got, &key.rtype) != content(want, &key.rtype) => out.push(format!("differs {}", key.describe())),
            Some(_) => {}
        }
    }
    out.extend(actual.keys().filter(|k| !expected.contains_key(*k)).map(|k| format!("unexpected {}", k.describe())));
    out
}

/// Record sets that `expected` holds and `actual` lacks, as UPSERT changes that put them back
/// (UPSERT, not CREATE, for the reason [`net_changes`] gives).
pub(super) fn missing(expected: &Zone, actual: &Zone) -> Vec<Change> {
    expected
        .iter()
        .filter(|(key, _)| !actual.contains_key(*key))
        .map(|(_, rrset)| Change { action: Action::Upsert, rrset: rrset.clone() })
        .collect()
}

/// Everything a DELETE must match, normalised: TTL, values, alias target and routing fields.
fn content(rrset: &Element, rtype: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for field in ["TTL", "Weight", "Region", "Failover", "MultiValueAnswer", "HealthCheckId"] {
        if let Some(v) = rrset.child_text(field) {
            out.push((field, v.to_ascii_lowercase()));
        }
    }
    if let Some(geo) = rrset.child("GeoLocation") {
        let mut parts: Vec<String> = geo.children.iter().map(|c| format!("{}={}", c.name, c.text.trim())).collect();
        parts.sort();
        out.push(("GeoLocation", parts.join(",")));
    }
    if let Some(alias) = rrset.child("AliasTarget") {
        let zone = alias.child_text("HostedZoneId").unwrap_or("").trim_start_matches("/hostedzone/");
        let target = normalise_name(alias.child_text("DNSName").unwrap_or(""));
        let health = alias.child_text("EvaluateTargetHealth").unwrap_or("false").to_ascii_lowercase();
        out.push(("AliasTarget", format!("{zone} {target} {health}")));
    }
    if let Some(records) = rrset.child("ResourceRecords") {
        let txt = matches!(rtype, "TXT" | "SPF");
        let mut values: Vec<String> = records
            .children
            .iter()
            .filter_map(|r| r.child_text("Value"))
            .map(|v| if txt { txt_strings(v).join("\u{0}") } else { v.to_string() })
            .collect();
        values.sort();
        out.push(("ResourceRecords", values.join("\n")));
    }
    out
}

/// `Lock.Example.COM.` and `lock.example.com` are one name; `\052` is `*`.
pub(super) fn normalise_name(name: &str) -> String {
    let name = name.trim();
    let name = name.strip_suffix('.').unwrap_or(name);
    decode_escapes(name).to_ascii_lowercase()
}

/// Decode `\OOO` (octal, as Route 53 writes them: `\052` is `*`) and `\X` escapes.
fn decode_escapes(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            let digits: String = chars[i + 1..].iter().take(3).collect();
            if digits.len() == 3 && digits.chars().all(|c| c.is_digit(8)) {
                if let Some(c) = u8::from_str_radix(&digits, 8).ok().map(char::from) {
                    out.push(c);
                    i += 4;
                    continue;
                }
            }
            out.push(chars[i + 1]);
            i += 2;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The character strings of a TXT value: `"a b" "c"` is `["a b", "c"]`; unquoted words count
/// as strings of their own, so `v1` and `"v1"` compare equal.
fn txt_strings(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = value.trim().chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    // Keep the escape for decode_escapes, so that `\"` does not end the string.
                    '\\' => {
                        s.push('\\');
                        if let Some(n) = chars.next() {
                            s.push(n);
                        }
                    }
                    c => s.push(c),
                }
            }
            out.push(decode_escapes(&s));
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                s.push(c);
                chars.next();
            }
            out.push(decode_escapes(&s));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rrset(name: &str, ty: &str, ttl: u32, values: &[&str]) -> Element {
        let records = values
            .iter()
            .map(|v| Element { name: "ResourceRecord".into(), text: String::new(), children: vec![Element::leaf("Value", v)] })
            .collect();
        Element {
            name: "ResourceRecordSet".into(),
            text: String::new(),
            children: vec![
                Element::leaf("Name", name),
                Element::leaf("Type", ty),
                Element::leaf("TTL", &ttl.to_string()),
                Element { name: "ResourceRecords".into(), text: String::new(), children: records },
            ],
        }
    }

    fn weighted(name: &str, id: &str, weight: u32, value: &str) -> Element {
        let mut r = rrset(name, "A", 60, &[value]);
        r.children.insert(2, Element::leaf("SetIdentifier", id));
        r.children.insert(3, Element::leaf("Weight", &weight.to_string()));
        r
    }

    fn c(action: Action, rrset: Element) -> Change {
        Change { action, rrset }
    }

    use Action::{Create, Delete, Upsert};

    /// Simulate `changes` on `zone`; expect the listed problems (empty: accepted).
    fn check(zone: &[Element], changes: Vec<Change>, problems: &[&str]) {
        let got = simulate(&zone_of(zone.to_vec()), &changes, "Z1");
        match (got, problems.is_empty()) {
            (Ok(_), true) => {}
            (Err(p), false) => assert_eq!(p, problems),
            (got, _) => panic!("expected problems {problems:?}, got {got:?}"),
        }
    }

    #[test]
    fn batches_follow_route53() {
        let v1 = || rrset("lock.z.", "TXT", 60, &["\"v1\""]);
        let v2 = || rrset("lock.z.", "TXT", 60, &["\"v2\""]);
        // Compare-and-swap: fresh value wins, stale value loses.
        check(&[v1()], vec![c(Delete, v1()), c(Create, v2())], &[]);
        // Route 53 reports every problem: the failed DELETE leaves the set there for the CREATE.
        check(&[v2()], vec![c(Delete, v1()), c(Create, rrset("lock.z.", "TXT", 60, &["\"v3\""]))], &[
            "Tried to delete resource record set [name='lock.z.', type='TXT'] but the values provided do not match the current values",
            "Tried to create resource record set [name='lock.z.', type='TXT'] but it already exists",
        ]);
        // Delete + create of the same value in one batch.
        check(&[v1()], vec![c(Delete, v1()), c(Create, v1())], &[]);
        // Duplicate create, missing delete, and both problems at once.
        check(&[v1()], vec![c(Create, v2())], &["Tried to create resource record set [name='lock.z.', type='TXT'] but it already exists"]);
        check(&[], vec![c(Delete, v1())], &["Tried to delete resource record set [name='lock.z.', type='TXT'] but it was not found"]);
        check(&[], vec![c(Create, v1()), c(Delete, rrset("x.z.", "A", 60, &["192.0.2.1"]))], &[
            "Tried to delete resource record set [name='x.z.', type='A'] but it was not found",
        ]);
        // TTL must match too; UPSERT always passes; a CREATE after a DELETE in one batch passes.
        check(&[v1()], vec![c(Delete, rrset("lock.z.", "TXT", 300, &["\"v1\""]))], &[
            "Tried to delete resource record set [name='lock.z.', type='TXT'] but the values provided do not match the current values",
        ]);
        check(&[v1()], vec![c(Upsert, v2()), c(Upsert, v1())], &[]);
        check(&[], vec![c(Create, v1()), c(Delete, v1())], &[]);
        // Weighted members are separate record sets.
        check(&[weighted("w.z.", "lb-1", 10, "192.0.2.1")], vec![c(Create, weighted("w.z.", "lb-2", 10, "192.0.2.2"))], &[]);
        check(&[weighted("w.z.", "lb-1", 10, "192.0.2.1")], vec![c(Delete, weighted("w.z.", "lb-1", 20, "192.0.2.1"))], &[
            "Tried to delete resource record set [name='w.z.', type='A', set-identifier='lb-1'] but the values provided do not match the current values",
        ]);
    }

    fn alias(name: &str, ty: &str, target: &str, zone: &str, weighted: Option<&str>) -> Element {
        let mut children = vec![Element::leaf("Name", name), Element::leaf("Type", ty)];
        if let Some(id) = weighted {
            children.push(Element::leaf("SetIdentifier", id));
            children.push(Element::leaf("Weight", "1"));
        }
        children.push(Element {
            name: "AliasTarget".into(),
            text: String::new(),
            children: vec![Element::leaf("HostedZoneId", zone), Element::leaf("DNSName", target), Element::leaf("EvaluateTargetHealth", "false")],
        });
        Element { name: "ResourceRecordSet".into(), text: String::new(), children }
    }

    #[test]
    fn an_alias_needs_its_target_in_the_zone_as_the_batch_left_it() {
        let missing = |t: &str| format!("Tried to create an alias that targets {t}., type A in zone Z1, but that target was not found");
        let leaf = || rrset("lb-1.g5.z.", "A", 60, &["192.0.2.1"]);
        let root = |id| weighted("g5.z.", id, 10, "192.0.2.1");
        // A weighted root (any set identifier) is a target.
        check(&[root("g5-lb-1")], vec![c(Upsert, alias("api.z.", "A", "g5.z.", "/hostedzone/Z1", None))], &[]);
        // Created earlier in the batch: accepted; later in the batch: rejected.
        check(&[], vec![c(Create, leaf()), c(Create, alias("g5.z.", "A", "lb-1.g5.z.", "Z1", Some("x")))], &[]);
        check(&[], vec![c(Create, alias("g5.z.", "A", "lb-1.g5.z.", "Z1", Some("x"))), c(Create, leaf())], &[&missing("lb-1.g5.z")]);
        // Another type at that name is no target; an alias into another zone is not checked here.
        check(&[rrset("g5.z.", "AAAA", 60, &["2001:db8::1"])], vec![c(Upsert, alias("api.z.", "A", "g5.z.", "Z1", None))], &[&missing("g5.z")]);
        check(&[], vec![c(Upsert, alias("api.z.", "A", "elsewhere.example.", "Z9", None))], &[]);
        // The rollback alias to a deleted tree is refused, as Route 53 refused the enactors in 2025.
        check(&[], vec![c(Upsert, alias("_rollback.api.z.", "A", "g3.z.", "Z1", None))], &[&missing("g3.z")]);
        // A cleanup that deletes the active tree is accepted: the alias to it is not re-validated.
        check(
            &[root("g5-lb-1"), alias("api.z.", "A", "g5.z.", "Z1", None)],
            vec![c(Delete, root("g5-lb-1"))],
            &[],
        );
    }

    #[test]
    fn names_and_txt_values_are_normalised() {
        check(&[rrset("Lock.Z.", "TXT", 60, &["\"v1\""])], vec![c(Delete, rrset("lock.z", "txt", 60, &["v1"]))], &[]);
        check(&[rrset("\\052.z.", "A", 60, &["192.0.2.1"])], vec![c(Delete, rrset("*.z.", "A", 60, &["192.0.2.1"]))], &[]);
        check(&[rrset("m.z.", "A", 60, &["192.0.2.1", "192.0.2.2"])], vec![c(Delete, rrset("m.z.", "A", 60, &["192.0.2.2", "192.0.2.1"]))], &[]);
        assert_eq!(txt_strings(r#""a b" "c\"d" e"#), ["a b", "c\"d", "e"]);
        assert_eq!(txt_strings(r#""x\134y""#), ["x\\y"]);
        assert_eq!(normalise_name(" A.b.\\143. "), "a.b.c");
    }

    #[test]
    fn net_changes_are_deletes_then_upserts() {
        let v1 = rrset("Lock.z.", "TXT", 60, &["\"v1\""]);
        let v2 = rrset("lock.z.", "TXT", 60, &["\"v2\""]);
        let gone = rrset("gone.z.", "A", 60, &["192.0.2.1"]);
        let before = zone_of(vec![v1.clone(), gone.clone()]);
        // A no-op pair nets to nothing.
        let after = simulate(&before, &[c(Delete, v1.clone()), c(Create, v1.clone())], "Z1").unwrap();
        assert!(net_changes(&before, &after).is_empty());
        // A swap is one UPSERT under the stored name; a delete is the stored set.
        let after = simulate(&before, &[c(Delete, v1.clone()), c(Create, v2.clone()), c(Delete, gone.clone())], "Z1").unwrap();
        let net = net_changes(&before, &after);
        assert_eq!(net.len(), 2);
        assert_eq!((net[0].action, &net[0].rrset), (Delete, &gone));
        assert_eq!(net[1].action, Upsert);
        assert_eq!(net[1].rrset.child_text("Name"), Some("Lock.z."));
        assert_eq!(content(&net[1].rrset, "TXT"), content(&v2, "TXT"));
        // What went missing comes back.
        let lost = missing(&after, &zone_of(vec![]));
        assert_eq!(lost.len(), 1);
        assert_eq!(lost[0].action, Upsert);
    }
}
