//! One query in, one response out: the wire-level answer logic, with no sockets.
//!
//! The records come from [`answer::resolve`], the same function the control-plane view uses;
//! this file only maps its [`Answer`] onto a DNS message the way Route 53's name servers do.

use std::net::IpAddr;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{DNSClass, RData, Record, RecordType};

use super::zones::{ServedZone, ZoneSet};
use crate::answer::{self, Answer, Pick, Rcode};
use crate::model::RrKind;

/// The UDP payload size this server offers to EDNS clients (the DNS flag day 2020 value).
const EDNS_PAYLOAD: u16 = 1232;

/// How answers are chosen; fixed for the life of a data plane.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub answer_all: bool,
    pub negative_ttl: u32,
}

/// Over which transport the query came: UDP answers are truncated to the client's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Udp,
    Tcp,
}

/// What became of one incoming packet.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Send these bytes back.
    Send(Vec<u8>),
    /// A response to a malformed query (FORMERR), to be sent back and counted.
    Malformed(Vec<u8>),
    /// Send nothing: too short to carry an id, or not a query at all.
    Drop,
}

/// Answer the packet `request` from `zones`. `random` in [0, 1) picks from weighted sets.
pub(crate) fn respond(zones: &ZoneSet, policy: Policy, random: f64, request: &[u8], transport: Transport) -> Reply {
    let query = match Message::from_vec(request) {
        Ok(m) => m,
        Err(_) => return malformed(request),
    };
    if query.metadata.message_type != MessageType::Query {
        return Reply::Drop; // never answer a response: that is how reflection loops start
    }
    let mut response = Message::response(query.metadata.id, query.metadata.op_code);
    response.metadata.recursion_desired = query.metadata.recursion_desired;
    if query.edns.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_PAYLOAD);
        response.set_edns(edns);
    }
    if query.metadata.op_code != OpCode::Query {
        response.metadata.response_code = ResponseCode::NotImp;
        return encode(&response, &query, transport);
    }
    let [question] = query.queries.as_slice() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return encode(&response, &query, transport);
    };
    response.add_query(question.clone());
    answer_question(zones, policy, random, question, &mut response);
    encode(&response, &query, transport)
}

/// Fill in the answer to one question.
fn answer_question(zones: &ZoneSet, policy: Policy, random: f64, question: &Query, response: &mut Message) {
    let qname = question.name().to_lowercase().to_ascii();
    let qname = crate::model::zone_normalize(&qname);
    let zone = match zones.zone_for(&qname) {
        Some(z) if question.query_class() == DNSClass::IN => z,
        _ => {
            response.metadata.response_code = ResponseCode::Refused;
            return;
        }
    };
    let pick = if policy.answer_all { Pick::All } else { Pick::Weighted(random) };
    let (answer, kind) = match question.query_type() {
        RecordType::A => (answer::resolve(&zone.snapshot, &qname, RrKind::A, pick), Some(RrKind::A)),
        RecordType::AAAA => (answer::resolve(&zone.snapshot, &qname, RrKind::Aaaa, pick), Some(RrKind::Aaaa)),
        // Any other type: whether the name exists, from the same resolver; never any records.
        _ => (answer::resolve(&zone.snapshot, &qname, RrKind::A, Pick::All), None),
    };
    response.metadata.authoritative = true;
    match answer.rcode {
        Rcode::NoError => {
            let records = kind.map(|k| records_of(&answer, k, question)).unwrap_or_default();
            if records.is_empty() {
                response.add_authority(soa_record(zone, policy));
            } else {
                response.add_answers(records);
            }
        }
        Rcode::NxDomain => {
            response.metadata.response_code = ResponseCode::NXDomain;
            response.add_authority(soa_record(zone, policy));
        }
        Rcode::ServFail => {
            // Only an alias loop gets here; Route 53 would have refused to store it.
            response.metadata.authoritative = false;
            response.metadata.response_code = ResponseCode::ServFail;
        }
        Rcode::Refused => {
            response.metadata.authoritative = false;
            response.metadata.response_code = ResponseCode::Refused;
        }
    }
}

/// The answer's addresses of the asked family as records owned by the query name, with the
/// leaf's TTL (an alias is transparent: no CNAME, the owner is the name asked).
fn records_of(answer: &Answer, kind: RrKind, question: &Query) -> Vec<Record> {
    let ttl = answer.ttl.map_or(0, |t| u32::try_from(t.max(0)).unwrap_or(u32::MAX));
    answer
        .addrs
        .iter()
        .filter_map(|ip| match (kind, ip) {
            (RrKind::A, IpAddr::V4(v4)) => Some(RData::A(A(*v4))),
            (RrKind::Aaaa, IpAddr::V6(v6)) => Some(RData::AAAA(AAAA(*v6))),
            _ => None,
        })
        .map(|data| Record::from_rdata(question.name().clone(), ttl, data))
        .collect()
}

/// The zone's SOA for the authority section of a negative answer: TTL and MINIMUM are both the
/// negative-caching TTL.
fn soa_record(zone: &ServedZone, policy: Policy) -> Record {
    Record::from_rdata(zone.apex.clone(), policy.negative_ttl, RData::SOA(zone.soa.clone()))
}

/// FORMERR for a packet with a query header and an unreadable body; drop anything shorter than a
/// header or marked as a response.
fn malformed(request: &[u8]) -> Reply {
    let [id_hi, id_lo, flags, ..] = *request else { return Reply::Drop };
    if request.len() < 12 || flags & 0x80 != 0 {
        return Reply::Drop;
    }
    let op_code = OpCode::from_u8((flags >> 3) & 0x0f);
    let response = Message::error_msg(u16::from_be_bytes([id_hi, id_lo]), op_code, ResponseCode::FormErr);
    match response.to_vec() {
        Ok(bytes) => Reply::Malformed(bytes),
        Err(_) => Reply::Drop,
    }
}

/// Encode, truncating a UDP answer that does not fit the client's buffer (TC set, question kept,
/// so the client retries over TCP).
fn encode(response: &Message, query: &Message, transport: Transport) -> Reply {
    let bytes = match response.to_vec() {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "could not encode a response; answering SERVFAIL");
            let fallback = Message::error_msg(response.metadata.id, response.metadata.op_code, ResponseCode::ServFail);
            return fallback.to_vec().map_or(Reply::Drop, Reply::Send);
        }
    };
    let limit = usize::from(query.max_payload().min(EDNS_PAYLOAD));
    if transport == Transport::Udp && bytes.len() > limit {
        return response.truncate().to_vec().map_or(Reply::Drop, Reply::Send);
    }
    Reply::Send(bytes)
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use hickory_proto::rr::Name;

    use super::*;
    use crate::dataplane::zones::ZoneTable;
    use crate::model::{RecordSet, ZoneSnapshot};

    const POLICY: Policy = Policy { answer_all: false, negative_ttl: 60 };

    fn leaf(name: &str, kind: RrKind, value: &str) -> RecordSet {
        RecordSet {
            name: name.into(),
            kind,
            ttl: Some(30),
            values: vec![value.into()],
            set_id: None,
            weight: None,
            alias: None,
        }
    }

    fn table() -> ZoneTable {
        let mut wide = leaf("wide.z.test.", RrKind::A, "192.0.2.1");
        wide.values = (1..=200).map(|i| format!("10.0.{}.{}", i / 250, i % 250)).collect();
        let records = vec![
            leaf("lb.z.test.", RrKind::A, "192.0.2.7"),
            leaf("lb.z.test.", RrKind::Aaaa, "2001:db8::7"),
            RecordSet {
                alias: Some("lb.z.test.".into()),
                ttl: None,
                values: vec![],
                ..leaf("api.z.test.", RrKind::A, "")
            },
            RecordSet {
                alias: Some("lb.z.test.".into()),
                ttl: None,
                values: vec![],
                ..leaf("api.z.test.", RrKind::Aaaa, "")
            },
            RecordSet {
                alias: Some("gone.z.test.".into()),
                ttl: None,
                values: vec![],
                ..leaf("dangling.z.test.", RrKind::A, "")
            },
            RecordSet {
                alias: Some("loop.z.test.".into()),
                ttl: None,
                values: vec![],
                ..leaf("loop.z.test.", RrKind::A, "")
            },
            wide,
        ];
        let t = ZoneTable::new(POLICY.negative_ttl);
        t.publish(ZoneSnapshot::new("z.test.", records));
        t
    }

    fn ask(name: &str, ty: RecordType, transport: Transport) -> Message {
        let mut q = Message::query();
        q.add_query(Query::query(Name::from_ascii(name).unwrap(), ty));
        match respond(&table().load(), POLICY, 0.5, &q.to_vec().unwrap(), transport) {
            Reply::Send(bytes) => Message::from_vec(&bytes).unwrap(),
            other => panic!("{name}: {other:?}"),
        }
    }

    fn check(name: &str, ty: RecordType, rcode: ResponseCode, answers: &[&str], soa: bool) {
        let m = ask(name, ty, Transport::Udp);
        let got: Vec<IpAddr> = m
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                _ => None,
            })
            .collect();
        let want: Vec<IpAddr> = answers.iter().map(|a| a.parse().unwrap()).collect();
        let has_soa = m.authorities.iter().any(|r| r.record_type() == RecordType::SOA && r.ttl == 60);
        assert_eq!((m.metadata.response_code, got, has_soa), (rcode, want, soa), "{name} {ty}");
    }

    #[test]
    fn answers_like_route53() {
        use RecordType::*;
        use ResponseCode::*;
        check("api.z.test.", A, NoError, &["192.0.2.7"], false);
        check("API.Z.TEST.", AAAA, NoError, &["2001:db8::7"], false);
        check("dangling.z.test.", A, NoError, &[], true);
        check("api.z.test.", TXT, NoError, &[], true);
        check("lb.z.test.", AAAA, NoError, &["2001:db8::7"], false);
        check("dangling.z.test.", AAAA, NoError, &[], true);
        check("missing.z.test.", A, NXDomain, &[], true);
        check("missing.z.test.", MX, NXDomain, &[], true);
        check("loop.z.test.", A, ServFail, &[], false);
        check("other.test.", A, Refused, &[], false);
    }

    #[test]
    fn leaf_ttl_owner_name_and_aa() {
        let m = ask("Api.z.test.", RecordType::A, Transport::Udp);
        assert!(m.metadata.authoritative);
        assert_eq!(m.answers[0].ttl, 30);
        assert_eq!(m.answers[0].name.to_ascii(), "Api.z.test.");
        assert!(!ask("x.example.", RecordType::A, Transport::Udp).metadata.authoritative);
    }

    #[test]
    fn big_answers_truncate_over_udp_only() {
        let udp = ask("wide.z.test.", RecordType::A, Transport::Udp);
        assert!(udp.metadata.truncation && udp.answers.is_empty());
        let tcp = ask("wide.z.test.", RecordType::A, Transport::Tcp);
        assert_eq!((tcp.metadata.truncation, tcp.answers.len()), (false, 200));
    }

    #[test]
    fn garbage_is_formerr_or_dropped_never_a_panic() {
        let zones = table().load();
        let reply = |bytes: &[u8]| respond(&zones, POLICY, 0.0, bytes, Transport::Udp);
        assert!(matches!(reply(&[]), Reply::Drop));
        assert!(matches!(reply(&[1, 2, 3]), Reply::Drop));
        let Reply::Malformed(bytes) = reply(&[0xab, 0xcd, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff]) else {
            panic!("no formerr")
        };
        let m = Message::from_vec(&bytes).unwrap();
        assert_eq!((m.metadata.id, m.metadata.response_code), (0xabcd, ResponseCode::FormErr));
        // A response is never answered, whatever it holds.
        let mut resp = Message::response(7, OpCode::Query);
        resp.add_query(Query::query(Name::from_ascii("api.z.test.").unwrap(), RecordType::A));
        assert!(matches!(reply(&resp.to_vec().unwrap()), Reply::Drop));
        // Every prefix of a valid query and random bytes: no panic.
        let mut q = Message::query();
        q.add_query(Query::query(Name::from_ascii("api.z.test.").unwrap(), RecordType::A));
        let valid = q.to_vec().unwrap();
        for n in 0..valid.len() {
            reply(&valid[..n]);
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..40)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            reply(&bytes);
        }
    }

    #[test]
    fn notimp_for_other_opcodes_and_formerr_for_two_questions() {
        let zones = table().load();
        let mut notify = Message::new(9, MessageType::Query, OpCode::Notify);
        notify.add_query(Query::query(Name::from_ascii("z.test.").unwrap(), RecordType::SOA));
        let Reply::Send(b) = respond(&zones, POLICY, 0.0, &notify.to_vec().unwrap(), Transport::Udp) else { panic!() };
        assert_eq!(Message::from_vec(&b).unwrap().metadata.response_code, ResponseCode::NotImp);
        let mut two = Message::query();
        two.add_query(Query::query(Name::from_ascii("api.z.test.").unwrap(), RecordType::A));
        two.add_query(Query::query(Name::from_ascii("lb.z.test.").unwrap(), RecordType::A));
        let Reply::Send(b) = respond(&zones, POLICY, 0.0, &two.to_vec().unwrap(), Transport::Udp) else { panic!() };
        assert_eq!(Message::from_vec(&b).unwrap().metadata.response_code, ResponseCode::FormErr);
    }
}
