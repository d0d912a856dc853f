//! Route 53's REST-XML on the wire: the request and response documents the gateway reads and
//! writes. Record sets are kept as generic [`Element`] trees so that every field a client sends
//! (including routing policies the gateway does not interpret) is forwarded unchanged.

use std::fmt::Write as _;

pub(super) use crate::route53::semantics::Action;

/// The namespace of every Route 53 document.
pub(super) const NAMESPACE: &str = "https://route53.amazonaws.com/doc/2013-04-01/";

/// One XML element: its local name, its text (for leaves) and its child elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn leaf(name: &str, text: &str) -> Element {
        Element { name: name.into(), text: text.into(), children: Vec::new() }
    }

    fn from_node(node: roxmltree::Node<'_, '_>) -> Element {
        let children: Vec<Element> = node.children().filter(|c| c.is_element()).map(Element::from_node).collect();
        let text = if children.is_empty() {
            node.children().filter_map(|c| c.text()).collect::<String>()
        } else {
            String::new()
        };
        Element { name: node.tag_name().name().to_string(), text, children }
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn child_mut(&mut self, name: &str) -> Option<&mut Element> {
        self.children.iter_mut().find(|c| c.name == name)
    }

    /// The trimmed text of the child `name`, if present.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }

    /// Append this element, escaped, to `out`.
    pub fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        out.push('>');
        if self.children.is_empty() {
            out.push_str(&escape(&self.text));
        } else {
            for c in &self.children {
                c.write(out);
            }
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

/// One change of a batch: the action and the record set as it travelled.
pub(super) type Change = crate::route53::semantics::Change<Element>;

/// A parsed `ChangeResourceRecordSetsRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ChangeBatch {
    pub comment: Option<String>,
    pub changes: Vec<Change>,
}

/// Parse the root element of `body`, checking its local name.
fn root(body: &[u8], expected: &str) -> Result<Element, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("the {expected} body is not utf-8: {e}"))?;
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("the {expected} body is not well-formed xml: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != expected {
        return Err(format!("expected a {expected} document, found <{}>", root.tag_name().name()));
    }
    Ok(Element::from_node(root))
}

/// Parse a `ChangeResourceRecordSetsRequest` body. Errors are messages for an `InvalidInput` answer.
pub(super) fn parse_change_batch(body: &[u8]) -> Result<ChangeBatch, String> {
    let root = root(body, "ChangeResourceRecordSetsRequest")?;
    let batch = root.child("ChangeBatch").ok_or("the request has no ChangeBatch element")?;
    let changes = batch.child("Changes").ok_or("the ChangeBatch has no Changes element")?;
    let mut out = Vec::new();
    for (i, change) in changes.children.iter().filter(|c| c.name == "Change").enumerate() {
        let action = match change.child_text("Action") {
            Some("CREATE") => Action::Create,
            Some("DELETE") => Action::Delete,
            Some("UPSERT") => Action::Upsert,
            Some(other) => return Err(format!("change {i} has action {other:?} (hint: one of CREATE, DELETE, UPSERT)")),
            None => return Err(format!("change {i} has no Action")),
        };
        let rrset = change.child("ResourceRecordSet").ok_or_else(|| format!("change {i} has no ResourceRecordSet"))?;
        for field in ["Name", "Type"] {
            if rrset.child_text(field).is_none_or(str::is_empty) {
                return Err(format!("change {i}: the ResourceRecordSet has no {field}"));
            }
        }
        out.push(Change { action, rrset: rrset.clone() });
    }
    if out.is_empty() {
        return Err("the ChangeBatch has no Change (hint: a batch needs at least one change)".into());
    }
    Ok(ChangeBatch { comment: batch.child_text("Comment").map(str::to_string), changes: out })
}

/// Serialise a change batch as a `ChangeResourceRecordSetsRequest` body.
pub(super) fn change_batch_body(comment: Option<&str>, changes: &[Change]) -> String {
    let mut out = format!(r#"<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="{NAMESPACE}"><ChangeBatch>"#);
    if let Some(c) = comment {
        Element::leaf("Comment", c).write(&mut out);
    }
    out.push_str("<Changes>");
    for change in changes {
        let _ = write!(out, "<Change><Action>{}</Action>", change.action.as_str());
        change.rrset.write(&mut out);
        out.push_str("</Change>");
    }
    out.push_str("</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>");
    out
}

/// A listed record set as the model's plain data, for the truth log and the data plane.
pub(super) fn record_set(rrset: &Element) -> crate::model::RecordSet {
    use crate::model::{zone_normalize, RrKind};
    let kind = match rrset.child_text("Type").unwrap_or("").to_ascii_uppercase().as_str() {
        "A" => RrKind::A,
        "AAAA" => RrKind::Aaaa,
        "TXT" => RrKind::Txt,
        "SOA" => RrKind::Soa,
        "NS" => RrKind::Ns,
        _ => RrKind::Other,
    };
    crate::model::RecordSet {
        name: zone_normalize(&crate::route53::semantics::normalise_name(rrset.child_text("Name").unwrap_or(""))),
        kind,
        ttl: rrset.child_text("TTL").and_then(|t| t.parse().ok()),
        values: rrset
            .child("ResourceRecords")
            .map(|rs| rs.children.iter().filter_map(|r| r.child_text("Value")).map(str::to_string).collect())
            .unwrap_or_default(),
        set_id: rrset.child_text("SetIdentifier").map(str::to_string),
        weight: rrset.child_text("Weight").and_then(|w| w.parse().ok()),
        alias: rrset
            .child("AliasTarget")
            .and_then(|a| a.child_text("DNSName"))
            .map(|n| zone_normalize(&crate::route53::semantics::normalise_name(n))),
    }
}

/// One page of a `ListResourceRecordSetsResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ListPage {
    pub record_sets: Vec<Element>,
    /// Where the next page starts: name, type and (for routing policies) set identifier.
    pub next: Option<(String, String, Option<String>)>,
}

pub(super) fn parse_list_page(body: &[u8]) -> Result<ListPage, String> {
    let root = root(body, "ListResourceRecordSetsResponse")?;
    let record_sets = root
        .child("ResourceRecordSets")
        .map(|s| s.children.iter().filter(|c| c.name == "ResourceRecordSet").cloned().collect())
        .unwrap_or_default();
    let truncated = root.child_text("IsTruncated") == Some("true");
    let next = match (truncated, root.child_text("NextRecordName"), root.child_text("NextRecordType")) {
        (true, Some(name), Some(ty)) => {
            Some((name.to_string(), ty.to_string(), root.child_text("NextRecordIdentifier").map(str::to_string)))
        }
        (true, _, _) => return Err("a truncated ListResourceRecordSets page names no next record".into()),
        (false, _, _) => None,
    };
    Ok(ListPage { record_sets, next })
}

/// Route 53's error document, `ErrorResponse` with one `Error`.
pub(super) fn error_body(sender: bool, code: &str, message: &str, request_id: &str) -> String {
    let mut out = format!(r#"<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="{NAMESPACE}"><Error>"#);
    Element::leaf("Type", if sender { "Sender" } else { "Receiver" }).write(&mut out);
    Element::leaf("Code", code).write(&mut out);
    Element::leaf("Message", message).write(&mut out);
    out.push_str("</Error>");
    Element::leaf("RequestId", request_id).write(&mut out);
    out.push_str("</ErrorResponse>");
    out
}

/// The `InvalidChangeBatch` rejection as Route 53 sends it today: an `ErrorResponse` whose
/// message lists every problem in brackets, comma-separated.
pub(super) fn invalid_change_batch_body(messages: &[String], request_id: &str) -> String {
    error_body(true, "InvalidChangeBatch", &format!("[{}]", messages.join(", ")), request_id)
}

/// A `ChangeInfo` as the gateway reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ChangeInfo<'a> {
    /// Bare id, without `/change/`.
    pub id: &'a str,
    pub insync: bool,
    /// RFC 3339, e.g. `2026-11-27T11:37:34.123Z`.
    pub submitted_at: &'a str,
    pub comment: Option<&'a str>,
}

/// `ChangeResourceRecordSetsResponse` or `GetChangeResponse` around one `ChangeInfo`.
pub(super) fn change_info_body(root: &str, info: &ChangeInfo<'_>) -> String {
    let mut out = format!(r#"<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{NAMESPACE}"><ChangeInfo>"#);
    Element::leaf("Id", &format!("/change/{}", info.id)).write(&mut out);
    Element::leaf("Status", if info.insync { "INSYNC" } else { "PENDING" }).write(&mut out);
    Element::leaf("SubmittedAt", info.submitted_at).write(&mut out);
    if let Some(c) = info.comment {
        Element::leaf("Comment", c).write(&mut out);
    }
    let _ = write!(out, "</ChangeInfo></{root}>");
    out
}

/// The best-effort comment of a change batch body (non-strict mode forwards bodies unparsed).
pub(super) fn comment_of(body: &[u8]) -> Option<String> {
    parse_change_batch(body).ok().and_then(|b| b.comment)
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BATCH: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Comment>a &amp; b</Comment><Changes>
<Change><Action>DELETE</Action><ResourceRecordSet><Name>lock.z.test.</Name><Type>TXT</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>"v&lt;1"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>
<Change><Action>CREATE</Action><ResourceRecordSet><Name>lock.z.test.</Name><Type>TXT</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>"v2"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>
</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"#;

    #[test]
    fn change_batch_round_trips() {
        let batch = parse_change_batch(BATCH.as_bytes()).unwrap();
        assert_eq!(batch.comment.as_deref(), Some("a & b"));
        assert_eq!(batch.changes.len(), 2);
        assert_eq!(batch.changes[0].action, Action::Delete);
        let value = &batch.changes[0].rrset.child("ResourceRecords").unwrap().children[0].children[0];
        assert_eq!(value.text, "\"v<1\"");
        let again = parse_change_batch(change_batch_body(batch.comment.as_deref(), &batch.changes).as_bytes()).unwrap();
        assert_eq!(again, batch);
    }

    fn bad(body: &str, needle: &str) {
        let err = parse_change_batch(body.as_bytes()).unwrap_err();
        assert!(err.contains(needle), "{err:?} lacks {needle:?}");
    }

    #[test]
    fn malformed_batches_are_messages() {
        bad("<ChangeResourceRecordSetsRequest><ChangeBatch>", "not well-formed");
        bad("\u{0}\u{ff}", "not well-formed");
        bad("<Other/>", "expected a ChangeResourceRecordSetsRequest");
        bad("<ChangeResourceRecordSetsRequest/>", "no ChangeBatch");
        bad("<ChangeResourceRecordSetsRequest><ChangeBatch><Changes/></ChangeBatch></ChangeResourceRecordSetsRequest>", "no Change");
        bad(
            "<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>MOVE</Action></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>",
            "\"MOVE\"",
        );
        bad(
            "<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>a.</Name></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>",
            "no Type",
        );
        assert!(root(&[0xff, 0xfe], "X").unwrap_err().contains("utf-8"));
    }

    #[test]
    fn list_pages_carry_the_next_start() {
        let page = r#"<ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ResourceRecordSets>
<ResourceRecordSet><Name>a.z.</Name><Type>A</Type><SetIdentifier>lb-1</SetIdentifier><Weight>10</Weight><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>
</ResourceRecordSets><IsTruncated>true</IsTruncated><NextRecordName>b.z.</NextRecordName><NextRecordType>A</NextRecordType><NextRecordIdentifier>lb-2</NextRecordIdentifier><MaxItems>1</MaxItems></ListResourceRecordSetsResponse>"#;
        let page = parse_list_page(page.as_bytes()).unwrap();
        assert_eq!(page.record_sets.len(), 1);
        assert_eq!(page.next, Some(("b.z.".into(), "A".into(), Some("lb-2".into()))));
        let last = parse_list_page(b"<ListResourceRecordSetsResponse><IsTruncated>false</IsTruncated></ListResourceRecordSetsResponse>").unwrap();
        assert_eq!(last, ListPage { record_sets: vec![], next: None });
        assert!(parse_list_page(b"<ListResourceRecordSetsResponse><IsTruncated>true</IsTruncated></ListResourceRecordSetsResponse>").is_err());
    }

    #[test]
    fn documents_escape_their_text() {
        let body = error_body(true, "Throttling", "rate <exceeded> & more", "r-1");
        assert!(body.contains("<Type>Sender</Type><Code>Throttling</Code><Message>rate &lt;exceeded&gt; &amp; more</Message>"));
        let body = invalid_change_batch_body(&["one".into(), "two".into()], "r-2");
        assert!(body.contains("<Code>InvalidChangeBatch</Code><Message>[one, two]</Message>"));
        let info = ChangeInfo { id: "C1", insync: false, submitted_at: "2026-01-01T00:00:00Z", comment: Some("c") };
        let body = change_info_body("GetChangeResponse", &info);
        assert!(body.contains("<Id>/change/C1</Id><Status>PENDING</Status><SubmittedAt>2026-01-01T00:00:00Z</SubmittedAt><Comment>c</Comment>"));
    }
}
