//! Queries out, outcomes in: the prober's use of hickory-proto.

use std::net::IpAddr;

use hickory_proto::op::{Edns, Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

use super::record::Outcome;
use crate::answer::Rcode;
use crate::error::{Error, Result};
use crate::model::RrKind;

/// The receive buffer the prober advertises with EDNS (the DNS flag day 2020 value): answers of
/// up to about 70 addresses then fit one UDP response without truncation.
pub(crate) const EDNS_PAYLOAD: u16 = 1232;

/// The wire type of a kind the prober may ask for.
pub(crate) fn record_type(kind: RrKind) -> Result<RecordType> {
    match kind {
        RrKind::A => Ok(RecordType::A),
        RrKind::Aaaa => Ok(RecordType::AAAA),
        other => Err(Error::bad_input(format!("probe: cannot probe record type {other:?} (hint: one of A, Aaaa)"))),
    }
}

/// `name` as an absolute DNS name.
pub(crate) fn parse_name(name: &str) -> Result<Name> {
    Name::from_ascii(crate::model::zone_normalize(name)).map_err(|e| {
        Error::bad_input(format!("probe: {name:?} is not a valid dns name: {e} (hint: like api.r1.dnschaos.test.)"))
    })
}

/// A query for `name`/`ty` with id 0, RD clear and EDNS; set the id in bytes 0..2 per query.
pub(crate) fn query_template(name: &Name, ty: RecordType) -> Result<Vec<u8>> {
    let mut message = Message::query();
    message.metadata.id = 0;
    message.add_query(Query::query(name.clone(), ty));
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
    message.set_edns(edns);
    message.to_vec().map_err(|e| Error::bad_input(format!("probe: cannot encode a query for {name} {ty}: {e}")))
}

/// `template` with `id` in its header.
pub(crate) fn with_id(template: &[u8], id: u16) -> Vec<u8> {
    let mut bytes = template.to_vec();
    if let Some(head) = bytes.get_mut(..2) {
        head.copy_from_slice(&id.to_be_bytes());
    }
    bytes
}

/// A response as the prober needs it.
#[derive(Debug)]
pub(crate) struct Response {
    pub id: u16,
    pub question: Option<Query>,
    pub truncated: bool,
    pub outcome: Outcome,
}

impl Response {
    /// True when the response is to a question for `name`/`ty` (case-insensitive).
    pub fn answers(&self, name: &Name, ty: RecordType) -> bool {
        self.question.as_ref().is_some_and(|q| q.query_type() == ty && q.name().eq_ignore_root_case(name))
    }
}

/// Decode a response; None for anything that is not a readable DNS response.
pub(crate) fn decode(bytes: &[u8]) -> Option<Response> {
    let message = Message::from_vec(bytes).ok()?;
    if message.metadata.message_type != MessageType::Response {
        return None;
    }
    let question = message.queries.first().cloned();
    let asked = question.as_ref().map(Query::query_type);
    let rcode = match message.metadata.response_code {
        ResponseCode::NoError => Rcode::NoError,
        ResponseCode::NXDomain => Rcode::NxDomain,
        ResponseCode::Refused => Rcode::Refused,
        _ => Rcode::ServFail,
    };
    let mut addrs = Vec::new();
    let mut ttl: Option<u32> = None;
    for record in &message.answers {
        let ip = match (&record.data, asked) {
            (RData::A(a), Some(RecordType::A)) => IpAddr::V4(a.0),
            (RData::AAAA(a), Some(RecordType::AAAA)) => IpAddr::V6(a.0),
            _ => continue,
        };
        addrs.push(ip);
        ttl = Some(ttl.map_or(record.ttl, |t| t.min(record.ttl)));
    }
    let negative_ttl = message.authorities.iter().find_map(|r| match &r.data {
        RData::SOA(soa) => Some(r.ttl.min(soa.minimum)),
        _ => None,
    });
    Some(Response {
        id: message.metadata.id,
        question,
        truncated: message.metadata.truncation,
        outcome: Outcome::Answer { rcode, addrs, ttl, negative_ttl },
    })
}

#[cfg(test)]
mod tests {
    use hickory_proto::op::OpCode;
    use hickory_proto::rr::rdata::{A, SOA};
    use hickory_proto::rr::Record;

    use super::*;

    #[test]
    fn round_trip_of_a_negative_answer() {
        let name = parse_name("Api.Z.test").unwrap();
        let query = Message::from_vec(&with_id(&query_template(&name, RecordType::A).unwrap(), 0x1234)).unwrap();
        assert_eq!((query.metadata.id, query.edns.as_ref().map(Edns::max_payload)), (0x1234, Some(EDNS_PAYLOAD)));

        let mut resp = Message::response(0x1234, OpCode::Query);
        resp.add_query(query.queries[0].clone());
        resp.metadata.response_code = ResponseCode::NXDomain;
        let apex = Name::from_ascii("z.test.").unwrap();
        let soa = SOA::new(apex.clone(), apex.clone(), 1, 7200, 900, 1_209_600, 30);
        resp.add_authority(Record::from_rdata(apex, 60, RData::SOA(soa)));
        let r = decode(&resp.to_vec().unwrap()).unwrap();
        assert!(r.answers(&parse_name("api.z.test.").unwrap(), RecordType::A));
        assert!(!r.answers(&name, RecordType::AAAA));
        let want = Outcome::Answer { rcode: Rcode::NxDomain, addrs: vec![], ttl: None, negative_ttl: Some(30) };
        assert_eq!((r.id, r.outcome), (0x1234, want));
    }

    #[test]
    fn only_records_of_the_asked_type_count_and_queries_are_not_responses() {
        let name = parse_name("api.z.test.").unwrap();
        let mut resp = Message::response(1, OpCode::Query);
        resp.add_query(Query::query(name.clone(), RecordType::AAAA));
        resp.add_answer(Record::from_rdata(name.clone(), 60, RData::A(A::new(192, 0, 2, 1))));
        assert_eq!(decode(&resp.to_vec().unwrap()).unwrap().outcome.addrs(), &[] as &[IpAddr]);
        assert!(decode(&query_template(&name, RecordType::A).unwrap()).is_none());
        assert!(decode(&[1, 2, 3]).is_none());
        assert!(record_type(RrKind::Txt).is_err());
        assert!(parse_name("bad..name").is_err());
    }
}
