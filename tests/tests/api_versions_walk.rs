//! Every version of every API the agent advertises, walked over raw frames:
//! a minimal valid request, encoded by the kafka-protocol crate at that
//! version, must get an answer that decodes strictly at that version, with
//! no error code that says the agent failed or refused the version. The
//! list comes from the agent's own ApiVersions answer (built from
//! `agent/src/kafka/versions.rs`), so an API added there is walked without
//! touching this test; one that needs more than default fields to be a
//! valid request gets a line in [`minimal`].
//!
//! Also holds `docs/compatibility.md`'s API table to what is advertised.

use anyhow::{Context, Result, bail};
use bytes::{Buf, BytesMut};
use floe_tests::raw::{RawClient, header, versions};
use floe_tests::requests::default_request;
use floe_tests::{Agent, binary};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::{ApiKey, GroupId, RequestKind, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

/// UNKNOWN_SERVER_ERROR: the agent failed.
const UNKNOWN_SERVER_ERROR: i16 = -1;
/// UNSUPPORTED_VERSION: the agent refuses a version it advertised.
const UNSUPPORTED_VERSION: i16 = 35;
/// UNKNOWN_MEMBER_ID: what a group request naming no member gets.
const UNKNOWN_MEMBER_ID: i16 = 25;

/// Produce is advertised from v0, as Kafka 4.x advertises it (librdkafka before 2.8
/// compresses with gzip and snappy only then), and served from v3.
const PRODUCE_SERVED_MIN: i16 = 3;

const GROUP: &str = "api-walk";
const MEMBER: &str = "api-walk-member";

fn s(text: &'static str) -> StrBytes {
    StrBytes::from_static_str(text)
}

/// The advertised `(api, min, max)`, from ApiVersions v3.
fn advertised(client: &mut RawClient) -> Vec<(ApiKey, i16, i16)> {
    let answer = client
        .api_versions(versions::API_VERSIONS)
        .expect("ApiVersions");
    assert_eq!(answer.error_code, 0);
    let mut apis: Vec<_> = answer
        .api_keys
        .iter()
        .map(|k| {
            let api = ApiKey::try_from(k.api_key)
                .unwrap_or_else(|_| panic!("advertised unknown api key {}", k.api_key));
            (api, k.min_version, k.max_version)
        })
        .collect();
    apis.sort_by_key(|(api, _, _)| *api as i16);
    apis
}

/// A minimal valid request of `api` at `version`: the defaults, plus what
/// a broker needs to answer rather than wait or refuse. Group requests
/// name a member no group has, which is answered at once with an error.
fn minimal(api: ApiKey, version: i16) -> RequestKind {
    match default_request(api) {
        // acks=0 would get no answer at all.
        RequestKind::Produce(r) => r.with_acks(-1).with_timeout_ms(5_000).into(),
        RequestKind::Fetch(r) => r
            .with_replica_id((-1).into())
            .with_max_wait_ms(0)
            .with_session_epoch(-1)
            .into(),
        RequestKind::ListOffsets(r) => r.with_replica_id((-1).into()).into(),
        RequestKind::ApiVersions(r) => r
            .with_client_software_name(s("floe-tests"))
            .with_client_software_version(s("1"))
            .into(),
        RequestKind::FindCoordinator(r) if version < 4 => r.with_key(s(GROUP)).into(),
        RequestKind::FindCoordinator(r) => r.with_coordinator_keys(vec![s(GROUP)]).into(),
        RequestKind::JoinGroup(r) => r
            .with_group_id(GroupId(s(GROUP)))
            .with_session_timeout_ms(10_000)
            .with_rebalance_timeout_ms(10_000)
            .with_member_id(s(MEMBER))
            .with_protocol_type(s("consumer"))
            .with_protocols(vec![
                JoinGroupRequestProtocol::default().with_name(s("range")),
            ])
            .into(),
        RequestKind::SyncGroup(r) => r
            .with_group_id(GroupId(s(GROUP)))
            .with_generation_id(1)
            .with_member_id(s(MEMBER))
            .with_protocol_type(Some(s("consumer")))
            .with_protocol_name(Some(s("range")))
            .into(),
        RequestKind::Heartbeat(r) => r
            .with_group_id(GroupId(s(GROUP)))
            .with_generation_id(1)
            .with_member_id(s(MEMBER))
            .into(),
        RequestKind::LeaveGroup(r) if version < 3 => r
            .with_group_id(GroupId(s(GROUP)))
            .with_member_id(s(MEMBER))
            .into(),
        RequestKind::LeaveGroup(r) => r
            .with_group_id(GroupId(s(GROUP)))
            .with_members(vec![MemberIdentity::default().with_member_id(s(MEMBER))])
            .into(),
        RequestKind::OffsetCommit(r) => r.with_group_id(GroupId(s(GROUP))).into(),
        RequestKind::OffsetFetch(r) if version < 8 => r.with_group_id(GroupId(s(GROUP))).into(),
        RequestKind::OffsetDelete(r) => r.with_group_id(GroupId(s(GROUP))).into(),
        RequestKind::CreateTopics(r) => r.with_timeout_ms(5_000).into(),
        RequestKind::DeleteTopics(r) => r.with_timeout_ms(5_000).into(),
        RequestKind::InitProducerId(r) => r.with_transaction_timeout_ms(60_000).into(),
        // Code 0 (UNKNOWN) in a filter fails the parsing, as in Kafka: ANY.
        RequestKind::DescribeAcls(r) => r
            .with_resource_type_filter(1)
            .with_pattern_type_filter(1)
            .with_operation(1)
            .with_permission_type(1)
            .into(),
        other => other,
    }
}

/// Every `error_code` field of an answer, at any depth.
fn error_codes(answer: &ResponseKind) -> Vec<i16> {
    let text = format!("{answer:?}");
    text.match_indices("error_code: ")
        .filter_map(|(at, field)| {
            let rest = &text[at + field.len()..];
            let end = rest
                .find(|c: char| c != '-' && !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
        .collect()
}

/// Sends `request` as `api` v`version` and decodes the answer strictly.
fn exchange(client: &mut RawClient, api: ApiKey, version: i16) -> Result<ResponseKind> {
    let correlation_id = client.next_correlation_id();
    let mut frame = BytesMut::new();
    header(api as i16, version, correlation_id)
        .encode(&mut frame, api.request_header_version(version))
        .context("encode header")?;
    minimal(api, version)
        .encode(&mut frame, version)
        .context("encode body")?;
    client.send_frame(&frame)?;
    let mut answer = client
        .read_frame()?
        .context("the connection closed instead of answering")?;
    let head = ResponseHeader::decode(&mut answer, api.response_header_version(version))
        .context("decode header")?;
    if head.correlation_id != correlation_id {
        bail!(
            "correlation id {} for {correlation_id}",
            head.correlation_id
        );
    }
    let body = ResponseKind::decode(api, &mut answer, version).context("decode body")?;
    if answer.has_remaining() {
        bail!("{} bytes left after the body", answer.remaining());
    }
    Ok(body)
}

/// A Produce below v3 is refused as Kafka 4.x refuses it: the connection closes (the
/// kafka-protocol crate cannot encode these versions; the header is enough, the agent
/// refuses before the body). `client` is connected afresh to `addr`.
fn refused_by_closing(
    client: &mut RawClient,
    addr: std::net::SocketAddr,
    api: ApiKey,
    version: i16,
) {
    let mut frame = BytesMut::new();
    header(api as i16, version, client.next_correlation_id())
        .encode(&mut frame, api.request_header_version(version.max(1)))
        .expect("encode header");
    client.send_frame(&frame).expect("send");
    client
        .expect_closed()
        .unwrap_or_else(|e| panic!("{api:?} v{version}: {e:#}"));
    *client = RawClient::connect(addr).expect("reconnect");
}

#[test]
fn every_advertised_version_of_every_api_answers_a_minimal_request() {
    let agent = Agent::start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let apis = advertised(&mut client);
    assert!(apis.len() >= 19, "{apis:?}");
    let mut walked = 0;
    let mut heartbeat_codes = Vec::new();
    for (api, min, max) in apis {
        for version in min..=max {
            if api == ApiKey::Produce && version < PRODUCE_SERVED_MIN {
                refused_by_closing(&mut client, agent.kafka_addr(), api, version);
                walked += 1;
                continue;
            }
            let answer = exchange(&mut client, api, version)
                .unwrap_or_else(|e| panic!("{api:?} v{version}: {e:#}"));
            let codes = error_codes(&answer);
            assert!(
                !codes.contains(&UNKNOWN_SERVER_ERROR) && !codes.contains(&UNSUPPORTED_VERSION),
                "{api:?} v{version} answered error codes {codes:?}: {answer:?}"
            );
            if api == ApiKey::Heartbeat {
                heartbeat_codes.extend(codes);
            }
            walked += 1;
        }
    }
    println!("walked {walked} API versions");
    // The error codes are really read: a heartbeat of a member no group has
    // is refused.
    assert!(
        heartbeat_codes.iter().all(|c| *c == UNKNOWN_MEMBER_ID) && !heartbeat_codes.is_empty(),
        "{heartbeat_codes:?}"
    );
}

/// The rows of the table under `## APIs and versions`: (name, key, versions).
fn documented() -> Vec<(String, i16, String)> {
    let path = binary::repo_root().join("docs/compatibility.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("APIs and versions"))
        .expect("a section `## APIs and versions` in docs/compatibility.md");
    section
        .lines()
        .filter(|l| l.starts_with('|'))
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let key = cells.get(1)?.parse().ok()?;
            Some((cells[0].to_string(), key, cells.get(2)?.to_string()))
        })
        .collect()
}

#[test]
fn the_compatibility_table_lists_exactly_what_is_advertised() {
    let agent = Agent::start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let expected: Vec<(String, i16, String)> = advertised(&mut client)
        .into_iter()
        .map(|(api, min, max)| {
            let range = if min == max {
                min.to_string()
            } else {
                format!("{min}–{max}")
            };
            (format!("{api:?}"), api as i16, range)
        })
        .collect();
    let table: String = expected
        .iter()
        .map(|(name, key, range)| format!("| {name} | {key} | {range} |\n"))
        .collect();
    assert_eq!(
        documented(),
        expected,
        "docs/compatibility.md must list what the agent advertises; the rows are:\n{table}"
    );
}
