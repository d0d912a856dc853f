//! Route 53's change-batch semantics, on a zone's current record sets: the one implementation,
//! used by the strict gateway (on record sets as they travel in Route 53's XML) and by the
//! simulated backend (on the model's record sets). Pure: no IO.
//!
//! [`simulate`] applies a batch in order to a copy of the zone and collects every problem Route 53
//! would report; [`net_changes`] turns the accepted outcome into the batch the gateway forwards.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use crate::model::{RecordSet, RrKind};

/// A change's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Delete,
    Upsert,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "CREATE",
            Action::Delete => "DELETE",
            Action::Upsert => "UPSERT",
        }
    }
}

/// One change of a batch: the action and the record set, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<R> {
    pub action: Action,
    pub rrset: R,
}

/// What the semantics need to know of a record set, whatever its representation.
pub trait Rrset: Clone {
    /// Its name, type and set identifier, normalised.
    fn key(&self) -> Key;
    /// Everything a DELETE must match, normalised (TTL, values, alias target, routing fields).
    fn content(&self) -> Vec<(&'static str, String)>;
    /// The alias target: the hosted zone it names (`None`: this zone) and the name, normalised.
    fn alias_target(&self) -> Option<(Option<String>, String)>;
    /// Take `stored`'s spelling of the name (a backend may compare names case-sensitively).
    fn adopt_name(&mut self, _stored: &Self) {}
}

/// What identifies a record set in a zone: name, type and (for routing policies) set identifier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    /// Normalised: lower case, escapes decoded, no trailing dot.
    pub name: String,
    /// Upper case.
    pub rtype: String,
    pub set_id: Option<String>,
}

impl Key {
    /// `[name='x.', type='TXT']`, as Route 53 names a record set in its messages.
    pub fn describe(&self) -> String {
        match &self.set_id {
            Some(id) => format!("[name='{}.', type='{}', set-identifier='{id}']", self.name, self.rtype),
            None => format!("[name='{}.', type='{}']", self.name, self.rtype),
        }
    }
}

/// A zone's record sets by key, as stored upstream.
pub type Zone<R> = BTreeMap<Key, R>;

/// Index upstream record sets. Should the upstream hold two sets with one key (a backend without
/// strict semantics allows that), the first listed stands for the key.
pub fn zone_of<R: Rrset>(record_sets: Vec<R>) -> Zone<R> {
    let mut zone = Zone::new();
    for rrset in record_sets {
        zone.entry(rrset.key()).or_insert(rrset);
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
pub fn simulate<R: Rrset>(before: &Zone<R>, changes: &[Change<R>], zone_id: &str) -> Result<Zone<R>, Vec<String>> {
    let mut zone = before.clone();
    let mut problems = Vec::new();
    for change in changes {
        let key = change.rrset.key();
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
                Some(current) if current.content() != change.rrset.content() => problems.push(format!(
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
fn missing_alias_target<R: Rrset>(zone: &Zone<R>, rrset: &R, rtype: &str, zone_id: &str) -> Option<String> {
    let (target_zone, target) = rrset.alias_target()?;
    if let Some(z) = target_zone {
        if !z.trim_start_matches("/hostedzone/").eq_ignore_ascii_case(zone_id.trim_start_matches("/hostedzone/")) {
            return None;
        }
    }
    let exists = zone.keys().any(|k| k.name == target && k.rtype == rtype);
    (!exists).then_some(target)
}

/// The batch that takes the upstream from `before` to `after`: DELETEs of the record sets that
/// are gone (as stored upstream), then UPSERTs of those that are new or changed. Net no-op pairs
/// (DELETE v + CREATE v) vanish, and no CREATE reaches the upstream: the simulation has already
/// proved the key absent, and LocalStack's CREATE checks its change history, not its records.
/// An UPSERT of an existing set carries the upstream's spelling of the name, so that a backend
/// that compares names case-sensitively replaces rather than adds.
pub fn net_changes<R: Rrset>(before: &Zone<R>, after: &Zone<R>) -> Vec<Change<R>> {
    let deletes = before
        .iter()
        .filter(|(key, _)| !after.contains_key(*key))
        .map(|(_, rrset)| Change { action: Action::Delete, rrset: rrset.clone() });
    let upserts = after.iter().filter_map(|(key, rrset)| match before.get(key) {
        Some(old) if old.content() == rrset.content() => None,
        Some(old) => {
            let mut rrset = rrset.clone();
            rrset.adopt_name(old);
            Some(Change { action: Action::Upsert, rrset })
        }
        None => Some(Change { action: Action::Upsert, rrset: rrset.clone() }),
    });
    deletes.chain(upserts).collect()
}

/// How `actual` differs from `expected`, one line per record set: missing, unexpected, or
/// holding other content. Empty when the backend holds exactly what Route 53 would.
pub fn differences<R: Rrset>(expected: &Zone<R>, actual: &Zone<R>) -> Vec<String> {
    let mut out = Vec::new();
    for (key, want) in expected {
        match actual.get(key) {
            None => out.push(format!("missing {}", key.describe())),
            Some(got) if got.content() != want.content() => out.push(format!("differs {}", key.describe())),
            Some(_) => {}
        }
    }
    out.extend(actual.keys().filter(|k| !expected.contains_key(*k)).map(|k| format!("unexpected {}", k.describe())));
    out
}

/// Record sets that `expected` holds and `actual` lacks, as UPSERT changes that put them back
/// (UPSERT, not CREATE, for the reason [`net_changes`] gives).
pub fn missing<R: Rrset>(expected: &Zone<R>, actual: &Zone<R>) -> Vec<Change<R>> {
    expected
        .iter()
        .filter(|(key, _)| !actual.contains_key(*key))
        .map(|(_, rrset)| Change { action: Action::Upsert, rrset: rrset.clone() })
        .collect()
}

/// `Lock.Example.COM.` and `lock.example.com` are one name; `\052` is `*`.
pub fn normalise_name(name: &str) -> String {
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
pub fn txt_strings(value: &str) -> Vec<String> {
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


/// The model's record sets (the simulated backend's store): aliases always point into the zone.
impl Rrset for RecordSet {
    fn key(&self) -> Key {
        Key { name: normalise_name(&self.name), rtype: rtype(self.kind).into(), set_id: self.set_id.clone() }
    }

    fn content(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(t) = self.ttl.filter(|_| self.alias.is_none()) {
            out.push(("TTL", t.to_string()));
        }
        if let Some(w) = self.weight {
            out.push(("Weight", w.to_string()));
        }
        if let Some(a) = &self.alias {
            out.push(("AliasTarget", normalise_name(a)));
        }
        if self.alias.is_none() {
            let txt = self.kind == RrKind::Txt;
            let mut values: Vec<String> =
                self.values.iter().map(|v| if txt { txt_strings(v).join("\u{0}") } else { v.to_string() }).collect();
            values.sort();
            out.push(("ResourceRecords", values.join("\n")));
        }
        out
    }

    fn alias_target(&self) -> Option<(Option<String>, String)> {
        self.alias.as_ref().map(|a| (None, normalise_name(a)))
    }
}

/// Route 53's name of a record type.
pub fn rtype(kind: RrKind) -> &'static str {
    match kind {
        RrKind::A => "A",
        RrKind::Aaaa => "AAAA",
        RrKind::Txt => "TXT",
        RrKind::Soa => "SOA",
        RrKind::Ns => "NS",
        RrKind::Other => "OTHER",
    }
}
