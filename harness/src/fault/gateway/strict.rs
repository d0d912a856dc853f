//! Route 53's semantics (`route53::semantics`) on record sets as they travel in Route 53's XML:
//! the gateway keeps every field a client sends, including routing policies it does not
//! interpret, and compares them as Route 53 does.

pub(super) use crate::route53::semantics::{differences, missing, net_changes, normalise_name, simulate, zone_of, Key, Rrset};
use crate::route53::semantics::txt_strings;

use super::wire::Element;

/// A zone's record sets by key, as stored upstream.
pub(super) type Zone = crate::route53::semantics::Zone<Element>;

impl Rrset for Element {
    fn key(&self) -> Key {
        Key {
            name: normalise_name(self.child_text("Name").unwrap_or("")),
            rtype: self.child_text("Type").unwrap_or("").to_ascii_uppercase(),
            set_id: self.child_text("SetIdentifier").map(str::to_string),
        }
    }

    fn content(&self) -> Vec<(&'static str, String)> {
        content(self)
    }

    fn alias_target(&self) -> Option<(Option<String>, String)> {
        let alias = self.child("AliasTarget")?;
        let zone = alias.child_text("HostedZoneId").unwrap_or("").trim_start_matches("/hostedzone/").to_string();
        Some((Some(zone), normalise_name(alias.child_text("DNSName").unwrap_or(""))))
    }

    fn adopt_name(&mut self, stored: &Self) {
        if let (Some(name), Some(stored)) = (self.child_mut("Name"), stored.child("Name")) {
            name.text = stored.text.clone();
        }
    }
}

/// Everything a DELETE must match, normalised: TTL, values, alias target and routing fields.
fn content(rrset: &Element) -> Vec<(&'static str, String)> {
    let rtype = rrset.child_text("Type").unwrap_or("").to_ascii_uppercase();
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
        let txt = matches!(rtype.as_str(), "TXT" | "SPF");
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


#[cfg(test)]
mod tests {
    use super::*;
    use super::super::wire::{Action, Change};

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
        assert_eq!(content(&net[1].rrset), content(&v2));
        // What went missing comes back.
        let lost = missing(&after, &zone_of(vec![]));
        assert_eq!(lost.len(), 1);
        assert_eq!(lost[0].action, Upsert);
    }
}
